import type { RenderProps } from "@anywidget/types";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import widget, { type WidgetModel } from "../widget";
import widgetSource from "../widget.ts?raw";
import { FakeElement, FakeModel, fakeDocument } from "./fake-dom";

const base: WidgetModel = {
  status: "running",
  progress: 42.4,
  message: "step 4 of 10",
  error: "",
  image_url: "",
  image_urls: [],
  video_url: "",
  preview_url: "",
  kind: "image",
  prompt: "a red fox",
};

function mount(overrides: Partial<WidgetModel> = {}) {
  const model = new FakeModel<WidgetModel>({ ...base, ...overrides });
  const el = new FakeElement("div");
  const props = { model, el, signal: new AbortController().signal, host: {}, experimental: {} };
  const cleanup = widget.render(props as unknown as RenderProps<WidgetModel>);
  const root = el.one("conduit-widget");
  return { model, el, root, cleanup };
}

beforeEach(() => {
  vi.stubGlobal("document", fakeDocument);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("render", () => {
  it("builds the status badge, an accessible progress bar and the message", () => {
    const { root } = mount();
    expect(root.tagName).toBe("DIV");
    expect(root.one("cw-status").textContent).toBe("running");
    expect(root.one("cw-status").dataset["status"]).toBe("running");
    const bar = root.findAll((e) => e.getAttribute("role") === "progressbar");
    expect(bar).toHaveLength(1);
    expect(bar[0]?.getAttribute("aria-valuemin")).toBe("0");
    expect(bar[0]?.getAttribute("aria-valuemax")).toBe("100");
    expect(bar[0]?.getAttribute("aria-valuenow")).toBe("42");
    expect(root.one("cw-progress-fill").style["width"]).toBe("42%");
    expect(root.one("cw-message").textContent).toBe("step 4 of 10");
    expect(root.one("cw-error").hidden).toBe(true);
    expect(root.one("cw-placeholder").textContent).toBe("No result yet");
  });

  it("follows trait changes", () => {
    const { model, root } = mount();
    model.set("progress", 250);
    model.set("status", "completed");
    model.set("message", "");
    expect(root.one("cw-progress").getAttribute("aria-valuenow")).toBe("100");
    expect(root.one("cw-status").textContent).toBe("completed");
    expect(root.one("cw-message").hidden).toBe(true);
    model.set("error", "GPU out of memory");
    expect(root.one("cw-error").hidden).toBe(false);
    expect(root.one("cw-error").textContent).toBe("GPU out of memory");
  });

  it("shows one <img> per allowed image URL with the prompt as alt", () => {
    const { model, root } = mount();
    model.set("image_urls", ["https://x.example/a.png", "http://127.0.0.1:5000/b.png"]);
    const imgs = root.findAll((e) => e.tagName === "IMG");
    expect(imgs.map((i) => i.src)).toEqual(["https://x.example/a.png", "http://127.0.0.1:5000/b.png"]);
    expect(imgs[0]?.alt).toBe("a red fox (1 of 2)");
    expect(root.one("cw-media").classList.contains("cw-many")).toBe(true);
  });

  it("puts the policy's reason in the error panel for a refused URL", () => {
    const { model, root } = mount();
    model.set("image_url", "javascript:alert(1)");
    expect(root.findAll((e) => e.tagName === "IMG")).toHaveLength(0);
    expect(root.one("cw-error").hidden).toBe(false);
    expect(root.one("cw-error").textContent).toMatch(/image_url refused: .*javascript:/);
    model.set("image_url", "https://x.example/ok.png");
    expect(root.one("cw-error").hidden).toBe(true);
  });

  it("keeps trait errors and refusals together", () => {
    const { model, root } = mount({ error: "failed" });
    model.set("image_url", "http://example.com/x.png");
    const lines = root.one("cw-error").children.map((c) => c.textContent);
    expect(lines[0]).toBe("failed");
    expect(lines[1]).toMatch(/example\.com/);
  });

  it("shows <video controls> with the preview as poster", () => {
    const { root } = mount({ kind: "video", video_url: "https://x.example/v.mp4", preview_url: "https://x.example/p.jpg" });
    const [video, ...rest] = root.findAll((e) => e.tagName === "VIDEO");
    expect(rest).toHaveLength(0);
    expect(video?.controls).toBe(true);
    expect(video?.src).toBe("https://x.example/v.mp4");
    expect(video?.poster).toBe("https://x.example/p.jpg");
  });

  it("does not rebuild the media on progress updates", () => {
    const { model, root } = mount({ image_url: "https://x.example/a.png" });
    const before = root.findAll((e) => e.tagName === "IMG")[0];
    model.set("progress", 80);
    model.set("status", "running");
    expect(root.findAll((e) => e.tagName === "IMG")[0]).toBe(before);
  });

  it("reports an image that fails to load", () => {
    const { root } = mount({ image_url: "https://x.example/a.png" });
    root.findAll((e) => e.tagName === "IMG")[0]?.dispatch("error");
    expect(root.one("cw-error").textContent).toBe("Could not load the image.");
  });

  it("ignores load errors from media that has been replaced", () => {
    const { model, root } = mount({ image_url: "https://x.example/a.png" });
    const old = root.findAll((e) => e.tagName === "IMG")[0];
    model.set("image_url", "https://x.example/b.png");
    old?.dispatch("error");
    expect(root.one("cw-error").hidden).toBe(true);
  });

  it("renders trait text literally, never as HTML", () => {
    const { model, root } = mount({ message: "<img src=x onerror=alert(1)>" });
    model.set("error", "<b>bad</b>");
    expect(root.one("cw-message").textContent).toBe("<img src=x onerror=alert(1)>");
    expect(root.one("cw-message").children).toHaveLength(0);
    expect(root.findAll((e) => e.tagName === "IMG")).toHaveLength(0);
  });

  it("cleanup removes every listener it added and detaches the view", () => {
    const { model, el, cleanup } = mount();
    expect(model.listenerCount()).toBeGreaterThan(0);
    expect(typeof cleanup).toBe("function");
    (cleanup as () => void)();
    expect(model.listenerCount()).toBe(0);
    expect(el.children).toHaveLength(0);
  });
});

describe("widget.ts source", () => {
  it("uses no HTML-parsing DOM APIs", () => {
    expect(widgetSource.length).toBeGreaterThan(1000);
    expect(widgetSource).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/);
  });
});
