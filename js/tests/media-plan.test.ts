import { describe, expect, it } from "vitest";
import { planMedia } from "../media-plan";

const urls = (refs: Array<{ url: string }>) => refs.map((r) => r.url);

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
      previewsOnly: false,
      refusals: [],
    });
  });

  it("lists image_urls then image_url, without duplicates", () => {
    const plan = planMedia({ kind: "image", image_urls: [A, B, A], image_url: B });
    expect(urls(plan.images)).toEqual([A, B]);
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
    expect(urls(plan.images)).toEqual([A]);
    expect(plan.refusals).toHaveLength(3);
    expect(plan.refusals[0]).toMatch(/^image_urls\[1\] refused: .*javascript:/);
    expect(plan.refusals[1]).toMatch(/^image_urls\[2\] refused: .*example\.com/);
    expect(plan.refusals[2]).toMatch(/^image_url refused: .*svg/);
  });

  it("shows the preview only while there is no final image", () => {
    expect(planMedia({ kind: "image", preview_url: P }).preview).toBe(P);
    const done = planMedia({ kind: "image", preview_url: P, image_url: A });
    expect(done.preview).toBeNull();
    expect(urls(done.images)).toEqual([A]);
  });

  it("video: uses video_url with preview_url as poster", () => {
    const plan = planMedia({ kind: "video", video_url: V, preview_url: P, image_url: A });
    expect(plan).toMatchObject({ video: { url: V, mime: "" }, poster: P, preview: null, images: [] });
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
    expect(urls(planMedia({ kind: "image", image_url: blob }, { ownBlobUrls: new Set([blob]) }).images)).toEqual([blob]);
  });

  it("tolerates wrongly typed trait values", () => {
    const plan = planMedia({ kind: "nonsense", image_urls: "not-a-list", image_url: 5, prompt: null });
    expect(plan).toMatchObject({ images: [], video: null, refusals: [], alt: "Generated image" });
    expect(urls(planMedia({ kind: "image", image_urls: [A, 3, null, B] }).images)).toEqual([A, B]);
  });
});

describe("planMedia with embedded bytes", () => {
  const own1 = "blob:http://localhost:8888/1";
  const own2 = "blob:http://localhost:8888/2";
  const policy = { ownBlobUrls: new Set([own1, own2]) };

  it("prefers embedded images over remote URLs, without checking the remote ones", () => {
    const plan = planMedia(
      { kind: "image", image_urls: ["http://gateway.internal/a.png"], preview_url: "http://gateway.internal/p.png" },
      policy,
      { items: [{ url: own1, mime: "image/png" }, { url: own2, mime: "image/webp" }], poster: null },
    );
    expect(plan.images).toEqual([
      { url: own1, mime: "image/png" },
      { url: own2, mime: "image/webp" },
    ]);
    expect(plan.preview).toBeNull();
    expect(plan.refusals).toEqual([]);
  });

  it("video: embedded video and poster win; untyped items follow the kind", () => {
    const plan = planMedia({ kind: "video", video_url: V, preview_url: P }, policy, {
      items: [{ url: own1, mime: "" }],
      poster: own2,
    });
    expect(plan).toMatchObject({ video: { url: own1, mime: "" }, poster: own2, preview: null });
  });

  it("ignores embedded items of the other kind", () => {
    const plan = planMedia({ kind: "image", image_url: A }, policy, { items: [{ url: own1, mime: "video/mp4" }], poster: null });
    expect(urls(plan.images)).toEqual([A]);
  });

  it("still puts embedded URLs through the policy", () => {
    const plan = planMedia({ kind: "image" }, {}, { items: [{ url: own1, mime: "image/png" }], poster: null });
    expect(plan.images).toEqual([]);
    expect(plan.refusals[0]).toMatch(/^media\[0\] refused: blob:/);
  });
});
