// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { REVOKE_DELAY_MS } from "../blobs";
import { checkMediaUrl } from "../url-policy";
import { bytes, keydown, mount, unmountAll } from "./harness";

const A = "https://x.example/a.png";
const B = "http://127.0.0.1:5000/b.webp";
const V = "https://x.example/v.mp4";
const P = "https://x.example/p.jpg";

let created: string[] = [];
let revoked: string[] = [];

beforeEach(() => {
  created = [];
  revoked = [];
  let next = 0;
  vi.spyOn(URL, "createObjectURL").mockImplementation((blob) => {
    const url = `blob:http://localhost:8888/${next++}-${(blob as Blob).type || "untyped"}`;
    created.push(url);
    return url;
  });
  vi.spyOn(URL, "revokeObjectURL").mockImplementation((url) => {
    revoked.push(url);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  unmountAll();
});

const images = (root: HTMLElement) => [...root.querySelectorAll<HTMLImageElement>(".cw-grid img")];
const links = (root: HTMLElement) =>
  [...root.querySelectorAll<HTMLAnchorElement>("a.cw-download")].map((a) => [a.getAttribute("href"), a.getAttribute("download")]);

describe("result area", () => {
  it("shows a neutral placeholder until there is a result, with status-dependent text", () => {
    const { model, q } = mount({ status: "idle" });
    expect(q(".cw-placeholder").textContent).toBe("No result yet");
    model.kernel({ status: "processing" });
    expect(q(".cw-placeholder").textContent).toBe("Generating…");
    model.kernel({ status: "failed" });
    expect(q(".cw-placeholder").textContent).toBe("No result");
  });

  it("shows the preview while running", () => {
    const { model, q, root } = mount();
    model.kernel({ preview_url: P });
    const preview = q<HTMLImageElement>("img.cw-preview");
    expect(preview.getAttribute("src")).toBe(P);
    expect(preview.alt).toBe("Preview: a red fox");
    expect(root.querySelector(".cw-placeholder")).toBeNull();
  });

  it("one image: a one-column grid, the prompt as alt, a download link", () => {
    const { root, q } = mount({ status: "completed", image_url: A });
    const [img, ...rest] = images(root);
    expect(rest).toHaveLength(0);
    expect(img?.getAttribute("src")).toBe(A);
    expect(img?.alt).toBe("a red fox");
    expect(q(".cw-grid").classList.contains("cw-cols-1")).toBe(true);
    // A URL on another host is fetched on click, never opened: no href to open in a tab (download.test.ts).
    expect(links(root)).toEqual([[null, "conduit-3f2a9c1d-1.png"]]);
    const link = q<HTMLAnchorElement>("a.cw-download");
    expect(link.rel).toBe("noopener noreferrer");
    expect(link.hasAttribute("target")).toBe(false);
    expect(link.textContent).toBe("Download image");
  });

  it("several images: a two-column grid and one named download each", () => {
    const { root, q } = mount({ status: "completed", image_urls: [A, B] });
    expect(images(root).map((i) => i.getAttribute("src"))).toEqual([A, B]);
    expect(images(root)[1]?.alt).toBe("a red fox (2 of 2)");
    expect(q(".cw-grid").classList.contains("cw-cols-2")).toBe(true);
    // The extension is the kind's until the bytes say otherwise: the URL's ".webp" is the server's word.
    expect(links(root)).toEqual([
      [null, "conduit-3f2a9c1d-1.png"],
      [null, "conduit-3f2a9c1d-2.png"],
    ]);
  });

  it("video: <video controls playsinline preload=metadata> with poster, unmuted, and a download", () => {
    const { root, q } = mount({ kind: "video", status: "completed", video_url: V, preview_url: P });
    const videos = root.querySelectorAll("video");
    expect(videos).toHaveLength(1);
    const video = q<HTMLVideoElement>("video");
    expect(video.controls).toBe(true);
    expect(video.hasAttribute("playsinline")).toBe(true);
    expect(video.getAttribute("preload")).toBe("metadata");
    expect(video.hasAttribute("muted")).toBe(false);
    expect(video.hasAttribute("autoplay")).toBe(false);
    expect(video.getAttribute("src")).toBe(V);
    expect(video.getAttribute("poster")).toBe(P);
    expect(links(root)).toEqual([[null, "conduit-3f2a9c1d-1.mp4"]]);
  });

  it("does not rebuild the media on progress, status or prompt updates", () => {
    const { model, root } = mount({ image_url: A });
    const before = images(root)[0];
    const grid = root.querySelector(".cw-grid");
    model.kernel({ progress: 80, message: "almost", eta_seconds: 2, elapsed_seconds: 9 });
    model.kernel({ status: "completed", progress: 100 });
    model.kernel({ connection: "reconnecting", error: "blip" });
    model.set("prompt", "edited afterwards");
    expect(images(root)[0]).toBe(before);
    expect(root.querySelector(".cw-grid")).toBe(grid);
  });

  it("reports an image that fails to load, but not one already replaced", () => {
    const { model, root, q } = mount({ image_url: A });
    const old = images(root)[0] as HTMLImageElement;
    old.dispatchEvent(new Event("error"));
    expect(q(".cw-error-lines").textContent).toBe("Could not load the image.");
    model.kernel({ image_url: B });
    expect(q(".cw-error").hidden).toBe(true);
    old.dispatchEvent(new Event("error"));
    expect(q(".cw-error").hidden).toBe(true);
  });
});

describe("URL policy in the view", () => {
  it("shows a refused URL's reason in the error panel, and clears it once fixed", () => {
    const { model, root, q } = mount();
    model.kernel({ image_url: "javascript:alert(1)" });
    expect(images(root)).toHaveLength(0);
    expect(links(root)).toEqual([]);
    expect(q(".cw-error").hidden).toBe(false);
    expect(q(".cw-error-lines").textContent).toMatch(/image_url refused: .*javascript:/);
    model.kernel({ image_url: A });
    expect(q(".cw-error").hidden).toBe(true);
  });

  it("keeps the kernel's error first, then refusals", () => {
    const { model, q } = mount({ error: "failed" });
    model.kernel({ image_url: "http://example.com/x.png" });
    const lines = [...q(".cw-error-lines").children].map((c) => c.textContent);
    expect(lines[0]).toBe("failed");
    expect(lines[1]).toMatch(/image_url refused: .*example\.com/);
  });

  it("refuses a blob: URL the widget did not create", () => {
    const { model, root, q } = mount();
    model.kernel({ image_url: "blob:http://localhost:8888/not-mine" });
    expect(images(root)).toHaveLength(0);
    expect(q(".cw-error-lines").textContent).toMatch(/not created by this widget/);
  });
});

describe("embedded media", () => {
  it("turns embedded bytes into own blob: URLs that pass the policy and win over remote URLs", () => {
    const { root } = mount({
      status: "completed",
      image_urls: ["http://gateway.internal/a.png", "http://gateway.internal/b.png"],
      media: [bytes(1, 2), bytes(3, 4)],
      media_types: ["image/png", "image/jpeg"],
    });
    expect(created).toHaveLength(2);
    const srcs = images(root).map((i) => i.getAttribute("src"));
    expect(srcs).toEqual(created);
    for (const url of created) {
      expect(checkMediaUrl(url, { ownBlobUrls: new Set(created) }).ok).toBe(true);
    }
    // The unreachable remote URLs are not reported: the bytes replaced them.
    expect(root.querySelector<HTMLElement>(".cw-error")?.hidden).toBe(true);
    expect(links(root)).toEqual([
      [created[0], "conduit-3f2a9c1d-1.png"],
      [created[1], "conduit-3f2a9c1d-2.jpg"],
    ]);
  });

  it("creates each Blob with the media type", () => {
    const types: string[] = [];
    vi.mocked(URL.createObjectURL).mockImplementation((blob) => {
      types.push((blob as Blob).type);
      return `blob:http://localhost:8888/${types.length}`;
    });
    mount({ kind: "video", media: [bytes(9)], media_types: ["video/mp4"], poster: bytes(1), poster_type: "image/png" });
    expect(types).toEqual(["video/mp4", "image/png"]);
  });

  it("video: embedded video and poster", () => {
    const { q, root } = mount({
      kind: "video",
      status: "completed",
      video_url: V,
      preview_url: P,
      media: [bytes(0, 0, 0, 1)],
      media_types: ["video/mp4"],
      poster: bytes(5),
      poster_type: "image/png",
    });
    const video = q<HTMLVideoElement>("video");
    expect(video.getAttribute("src")).toBe(created[0]);
    expect(video.getAttribute("poster")).toBe(created[1]);
    expect(links(root)).toEqual([[created[0], "conduit-3f2a9c1d-1.mp4"]]);
  });

  it("revokes replaced blob: URLs, and all of them on cleanup, once nothing can still be loading them", () => {
    vi.useFakeTimers();
    try {
      const { model, cleanup, root } = mount({ media: [bytes(1)], media_types: ["image/png"] });
      const first = created[0];
      model.kernel({ media: [bytes(2)], media_types: ["image/png"] });
      expect(images(root)[0]?.getAttribute("src")).toBe(created[1]);
      expect(revoked).toEqual([]); // an element may be loading it still
      vi.advanceTimersByTime(REVOKE_DELAY_MS);
      expect(revoked).toEqual([first]);
      model.kernel({ poster: bytes(3), poster_type: "image/png" });
      cleanup();
      expect(revoked).toEqual([first]);
      vi.advanceTimersByTime(REVOKE_DELAY_MS);
      expect(revoked.sort()).toEqual([...created].sort());
    } finally {
      vi.useRealTimers();
    }
  });

  it("a view thrown away at once leaves its image loadable for a while (marimo renders each view twice)", () => {
    vi.useFakeTimers();
    try {
      const first = mount({ media: [bytes(1)], media_types: ["image/png"] });
      const second = mount({ media: [bytes(1)], media_types: ["image/png"] });
      first.cleanup();
      expect(revoked).toEqual([]);
      expect(images(second.root)[0]?.getAttribute("src")).toBe(created[1]);
      vi.advanceTimersByTime(REVOKE_DELAY_MS);
      expect(revoked).toEqual([created[0]]); // only the first view's own URL, never the second's
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not recreate blobs on unrelated updates", () => {
    const { model } = mount({ media: [bytes(1)], media_types: ["image/png"] });
    model.kernel({ progress: 99, status: "completed", image_url: A });
    expect(created).toHaveLength(1);
    expect(revoked).toEqual([]);
  });

  it("falls back to the remote URLs when the kernel clears the media", () => {
    const { model, root } = mount({ image_url: A, media: [bytes(1)], media_types: ["image/png"] });
    expect(images(root)[0]?.getAttribute("src")).toBe(created[0]);
    vi.useFakeTimers();
    try {
      model.kernel({ media: [], media_types: [] });
      expect(images(root)[0]?.getAttribute("src")).toBe(A);
      vi.advanceTimersByTime(REVOKE_DELAY_MS);
      expect(revoked).toEqual([created[0]]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuses embedded bytes of a type that could carry script", () => {
    const { root, q } = mount({ media: [bytes(60)], media_types: ["image/svg+xml"] });
    expect(created).toEqual([]);
    expect(images(root)).toHaveLength(0);
    expect(q(".cw-error-lines").textContent).toMatch(/media\[0\] refused: type "image\/svg\+xml"/);
  });

  it("ignores empty or non-byte items", () => {
    const { root } = mount({ media: [bytes(), "x" as unknown as DataView], media_types: ["image/png", "image/png"], poster: bytes() });
    expect(created).toEqual([]);
    expect(root.querySelector(".cw-placeholder")).not.toBeNull();
  });
});

describe("download links in the view", () => {
  const answer = (body: BodyInit, type: string) => vi.fn(async () => new Response(body, { headers: { "content-type": type } }));

  it("a URL answered with HTML: no page opens, nothing is saved, and the error panel says why", async () => {
    const fetcher = answer("<script>alert(1)</script>", "text/html");
    vi.stubGlobal("fetch", fetcher);
    const opened = vi.spyOn(window, "open");
    const saved = vi.spyOn(HTMLAnchorElement.prototype, "click");
    const { q } = mount({ status: "completed", image_url: A });
    q<HTMLAnchorElement>("a.cw-download").click();
    await vi.waitFor(() => expect(q(".cw-error-lines").textContent).toMatch(/Could not download the image: the file is not an image \(type "text\/html"\)/));
    expect(fetcher).toHaveBeenCalledWith(A, expect.objectContaining({ credentials: "omit" }));
    expect(saved.mock.contexts.filter((a) => (a as HTMLAnchorElement).href.startsWith("blob:"))).toEqual([]);
    expect(opened).not.toHaveBeenCalled();
    vi.unstubAllGlobals();
  });

  it("a URL answered with a PNG is saved from a blob: URL of type image/png under the widget's name", async () => {
    vi.stubGlobal("fetch", answer(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]), "application/octet-stream"));
    const saved: Array<[string, string]> = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      saved.push([this.getAttribute("href") ?? "", this.getAttribute("download") ?? ""]);
    });
    const { root } = mount({ status: "completed", image_urls: [A, B] });
    root.querySelectorAll<HTMLAnchorElement>("a.cw-download")[1]?.dispatchEvent(new MouseEvent("click", { cancelable: true }));
    await vi.waitFor(() => expect(saved).toHaveLength(1));
    expect(saved[0]).toEqual([created[0], "conduit-3f2a9c1d-2.png"]);
    expect(created[0]).toMatch(/-image\/png$/);
    vi.unstubAllGlobals();
  });
});

describe("enlarged view", () => {
  const box = () => document.body.querySelector<HTMLElement>(".cw-lightbox");

  it("a click opens the lightbox on the page, not inside the widget, at the tile clicked", () => {
    const { root } = mount({ status: "completed", image_urls: [A, B] });
    const second = images(root)[1] as HTMLImageElement;
    expect(second.getAttribute("role")).toBe("button");
    expect(second.tabIndex).toBe(0);
    second.click();
    const lightbox = box();
    expect(lightbox?.parentElement).toBe(document.body);
    expect(root.contains(lightbox as Node)).toBe(false);
    expect(lightbox?.querySelector("img")?.getAttribute("src")).toBe(B);
    expect(lightbox?.querySelector("img")?.alt).toBe("a red fox (2 of 2)");
    keydown(lightbox?.querySelector("button") as HTMLElement, "Escape");
    expect(box()).toBeNull();
    expect(document.activeElement).toBe(second);
  });

  it("Enter or Space opens it", () => {
    const { root } = mount({ status: "completed", image_url: A });
    const img = images(root)[0] as HTMLImageElement;
    expect(keydown(img, "Enter").defaultPrevented).toBe(true);
    expect(box()).not.toBeNull();
    (box()?.querySelector(".cw-lightbox-close") as HTMLButtonElement).click();
    expect(box()).toBeNull();
    expect(keydown(img, " ").defaultPrevented).toBe(true);
    expect(box()).not.toBeNull();
  });

  it("closes when the result changes, and when the view goes away", () => {
    const { model, root } = mount({ status: "completed", image_url: A });
    images(root)[0]?.click();
    model.kernel({ image_url: B });
    expect(box()).toBeNull();
    images(root)[0]?.click();
    expect(box()).not.toBeNull();
    unmountAll();
    expect(box()).toBeNull();
  });
});
