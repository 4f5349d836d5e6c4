import { describe, expect, it } from "vitest";
import { planMedia } from "../widget";

const A = "https://cdn.example.com/a.png";
const B = "http://127.0.0.1:5000/b.png";
const V = "https://cdn.example.com/v.mp4";
const P = "http://localhost:5000/preview.jpg";

describe("planMedia", () => {
  it("shows nothing and refuses nothing when all URLs are empty", () => {
    expect(planMedia({ kind: "image", image_url: "", image_urls: [], video_url: "", preview_url: "" })).toEqual({
      images: [],
      video: null,
      poster: null,
      preview: null,
      alt: "Generated image",
      refusals: [],
    });
  });

  it("lists image_urls then image_url, without duplicates", () => {
    const plan = planMedia({ kind: "image", image_urls: [A, B, A], image_url: B });
    expect(plan.images).toEqual([A, B]);
    expect(plan.refusals).toEqual([]);
  });

  it("uses the prompt as alt text", () => {
    expect(planMedia({ kind: "image", image_url: A, prompt: "  a red fox  " }).alt).toBe("a red fox");
    expect(planMedia({ kind: "image", image_url: A, prompt: "" }).alt).toBe("Generated image");
    expect(planMedia({ kind: "image", image_url: A }).alt).toBe("Generated image");
  });

  it("drops refused URLs and reports the trait and reason", () => {
    const plan = planMedia({
      kind: "image",
      image_urls: [A, "javascript:alert(1)", "http://example.com/x.png"],
      image_url: "data:image/svg+xml;base64,PHN2Zz4=",
    });
    expect(plan.images).toEqual([A]);
    expect(plan.refusals).toHaveLength(3);
    expect(plan.refusals[0]).toMatch(/^image_urls\[1\] refused: .*javascript:/);
    expect(plan.refusals[1]).toMatch(/^image_urls\[2\] refused: .*example\.com/);
    expect(plan.refusals[2]).toMatch(/^image_url refused: .*svg/);
  });

  it("shows the preview only while there is no final image", () => {
    expect(planMedia({ kind: "image", preview_url: P }).preview).toBe(P);
    const done = planMedia({ kind: "image", preview_url: P, image_url: A });
    expect(done.preview).toBeNull();
    expect(done.images).toEqual([A]);
  });

  it("video: uses video_url with preview_url as poster", () => {
    const plan = planMedia({ kind: "video", video_url: V, preview_url: P, image_url: A });
    expect(plan).toMatchObject({ video: V, poster: P, preview: null, images: [] });
  });

  it("video: shows the preview as an image before the video exists", () => {
    expect(planMedia({ kind: "video", video_url: "", preview_url: P })).toMatchObject({
      video: null,
      poster: null,
      preview: P,
    });
  });

  it("video: a refused video URL is reported, not shown", () => {
    const plan = planMedia({ kind: "video", video_url: "file:///tmp/v.mp4", preview_url: "vbscript:x" });
    expect(plan.video).toBeNull();
    expect(plan.poster).toBeNull();
    expect(plan.refusals.join("\n")).toMatch(/video_url refused: .*file:/);
    expect(plan.refusals.join("\n")).toMatch(/preview_url refused: .*vbscript:/);
  });

  it("own blob: URLs come through the policy options", () => {
    const blob = "blob:http://localhost:8888/1234";
    expect(planMedia({ kind: "image", image_url: blob }).images).toEqual([]);
    expect(planMedia({ kind: "image", image_url: blob }, { ownBlobUrls: new Set([blob]) }).images).toEqual([blob]);
  });

  it("tolerates wrongly typed trait values", () => {
    const plan = planMedia({ kind: "nonsense", image_urls: "not-a-list", image_url: 5, prompt: null });
    expect(plan).toMatchObject({ images: [], video: null, refusals: [], alt: "Generated image" });
    expect(planMedia({ kind: "image", image_urls: [A, 3, null, B] }).images).toEqual([A, B]);
  });
});
