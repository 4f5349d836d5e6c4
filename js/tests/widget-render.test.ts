// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { elapsedNow } from "../progress";
import { BASE, isShown, mount, unmountAll } from "./harness";

afterEach(() => {
  vi.useRealTimers();
  unmountAll();
});

describe("header", () => {
  it("shows the status as text with a class per status", () => {
    const { model, q } = mount();
    const badge = q(".cw-status");
    expect(badge.textContent).toBe("processing");
    expect(badge.classList.contains("cw-status-processing")).toBe(true);
    model.kernel({ status: "completed" });
    expect(badge.textContent).toBe("completed");
    expect(badge.classList.contains("cw-status-completed")).toBe(true);
    expect(badge.classList.contains("cw-status-processing")).toBe(false);
  });

  it("keeps odd status text but not odd characters in the class", () => {
    const { q } = mount({ status: "Weird <b>" });
    expect(q(".cw-status").textContent).toBe("weird <b>");
    expect([...q(".cw-status").classList]).toContain("cw-status-weirdb");
  });

  it("shows the connection state with a dot and a class", () => {
    const { model, q } = mount({ connection: "reconnecting" });
    const conn = q(".cw-conn");
    expect(conn.classList.contains("cw-conn-reconnecting")).toBe(true);
    expect(q(".cw-conn-text").textContent).toBe("reconnecting");
    expect(q(".cw-conn-dot").getAttribute("aria-hidden")).toBe("true");
    model.kernel({ connection: "connected" });
    expect(conn.classList.contains("cw-conn-connected")).toBe(true);
    expect(conn.classList.contains("cw-conn-reconnecting")).toBe(false);
  });

  it("labels the backend, marking a simulator", () => {
    const { model, q } = mount({ backend: "local simulator" });
    const tag = q(".cw-backend");
    expect(tag.textContent).toBe("local simulator");
    expect(tag.classList.contains("cw-backend-sim")).toBe(true);
    model.kernel({ backend: "conduit.example.com" });
    expect(tag.classList.contains("cw-backend-sim")).toBe(false);
    model.kernel({ backend: "" });
    expect(tag.hidden).toBe(true);
  });
});

describe("progress", () => {
  it("is an accessible progress bar with percentage, message, elapsed and ETA", () => {
    const { q, all } = mount({ elapsed_seconds: 65 });
    const bars = all('[role="progressbar"]');
    expect(bars).toHaveLength(1);
    const bar = bars[0] as HTMLElement;
    expect(bar.getAttribute("aria-valuemin")).toBe("0");
    expect(bar.getAttribute("aria-valuemax")).toBe("100");
    expect(bar.getAttribute("aria-valuenow")).toBe("42");
    expect(bar.getAttribute("aria-valuetext")).toBe("42%");
    expect(q(".cw-progress-fill").style.width).toBe("42%");
    expect(q(".cw-percent").textContent).toBe("42%");
    expect(q(".cw-message").textContent).toBe("step 4 of 10");
    expect(q(".cw-elapsed").textContent).toBe("1:05");
    expect(q(".cw-eta").textContent).toBe("ETA 12 s");
  });

  it("follows trait changes", () => {
    const { model, q } = mount();
    model.kernel({ progress: 250, message: "", eta_seconds: null });
    expect(q('[role="progressbar"]').getAttribute("aria-valuenow")).toBe("100");
    expect(q('[role="progressbar"]').getAttribute("aria-valuetext")).toBe("100%");
    expect(q(".cw-message").hidden).toBe(true);
    expect(q(".cw-eta").hidden).toBe(true);
  });

  it("makes no room for a result once a run ended without one", () => {
    const { model, q } = mount({ status: "processing" });
    expect(q(".cw-media").classList.contains("cw-media-ended-empty")).toBe(false);
    model.kernel({ status: "failed", error: "boom" });
    expect(q(".cw-media").classList.contains("cw-media-ended-empty")).toBe(true);
    model.kernel({ status: "completed" });
    expect(q(".cw-media").classList.contains("cw-media-ended-empty")).toBe(false);
  });

  it("is hidden while idle and shows no ETA once finished", () => {
    const { model, q } = mount({ status: "idle" });
    expect(q(".cw-progress-section").hidden).toBe(true);
    model.kernel({ status: "completed", progress: 100, eta_seconds: 3 });
    expect(q(".cw-progress-section").hidden).toBe(false);
    expect(q(".cw-eta").hidden).toBe(true);
  });

  it("ticks the elapsed clock from started_at while running, then stops on a terminal status", () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2030-01-01T00:00:10Z"));
    const now = Date.now() / 1000;
    const { model, q } = mount({ status: "processing", started_at: now - 10, elapsed_seconds: 9 });
    const clock = q(".cw-elapsed");
    expect(clock.textContent).toBe("0:10");
    vi.advanceTimersByTime(1000);
    expect(clock.textContent).toBe("0:11");
    vi.advanceTimersByTime(5000);
    expect(clock.textContent).toBe("0:16");
    model.kernel({ status: "completed", elapsed_seconds: 16.5 });
    expect(clock.textContent).toBe("0:16");
    vi.advanceTimersByTime(5000);
    expect(clock.textContent).toBe("0:16");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not tick before the task has started, and cleanup stops the clock", () => {
    vi.useFakeTimers();
    const { model, cleanup } = mount({ status: "pending", started_at: 0 });
    vi.advanceTimersByTime(1000); // lets the one-off static-copy check run
    expect(vi.getTimerCount()).toBe(0);
    model.kernel({ started_at: Date.now() / 1000 });
    expect(vi.getTimerCount()).toBe(1);
    cleanup();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("gives up the ETA for how long progress has not moved, and the bar takes the outcome's class", () => {
    vi.useFakeTimers();
    const { model, q } = mount({ status: "processing", started_at: Date.now() / 1000, eta_seconds: 3 });
    expect(q(".cw-eta").textContent).toBe("ETA 3 s");
    vi.advanceTimersByTime(12_000);
    expect(q(".cw-eta").textContent).toBe("no progress for 12 s");
    expect(q(".cw-eta").classList.contains("cw-stalled")).toBe(true);
    model.kernel({ progress: 50 });
    expect(q(".cw-eta").textContent).toBe("ETA 3 s");
    expect(q(".cw-progress").classList.contains("cw-bar-processing")).toBe(true);
    model.kernel({ status: "failed" });
    expect(q(".cw-progress").classList.contains("cw-bar-failed")).toBe(true);
    expect(q(".cw-progress").classList.contains("cw-bar-processing")).toBe(false);
    expect(q(".cw-eta").hidden).toBe(true);
  });

  it("elapsedNow never runs behind the kernel's figure", () => {
    expect(elapsedNow("processing", 100, 5, 103_000)).toBe(5);
    expect(elapsedNow("processing", 100, 5, 108_000)).toBe(8);
    expect(elapsedNow("completed", 100, 5, 108_000)).toBe(5);
    expect(elapsedNow("pending", 0, 2, 108_000)).toBe(2);
  });
});

describe("error panel", () => {
  it("is a hidden alert until there is an error", () => {
    const { model, q } = mount();
    const panel = q(".cw-error");
    expect(panel.getAttribute("role")).toBe("alert");
    expect(panel.hidden).toBe(true);
    model.kernel({ status: "failed", error: "GPU out of memory" });
    expect(panel.hidden).toBe(false);
    expect(q(".cw-error-lines").textContent).toBe("GPU out of memory");
    expect(q(".cw-retry").hidden).toBe(true);
  });

  it("offers Retry when retryable, which sends retry", () => {
    const { model, q } = mount({ status: "timedout", error: "timed out", retryable: true });
    const retry = q<HTMLButtonElement>(".cw-retry");
    expect(retry.tagName).toBe("BUTTON");
    expect(isShown(retry)).toBe(true);
    expect(retry.disabled).toBe(false);
    retry.click();
    expect(model.sent).toEqual([{ type: "retry" }]);
    model.kernel({ status: "pending" });
    expect(retry.disabled).toBe(true);
  });

  it("does not rebuild unchanged lines (no repeated announcement)", () => {
    const { model, q } = mount({ error: "bad" });
    const line = q(".cw-error-line");
    model.kernel({ retryable: true, status: "failed" });
    expect(q(".cw-error-line")).toBe(line);
  });

  it("renders trait text literally, never as HTML", () => {
    const { model, q, all } = mount({ message: "<img src=x onerror=alert(1)>" });
    model.kernel({ error: "<b>bad</b>" });
    expect(q(".cw-message").textContent).toBe("<img src=x onerror=alert(1)>");
    expect(q(".cw-error-lines").textContent).toBe("<b>bad</b>");
    expect(all("b")).toHaveLength(0);
    expect(q(".cw-message").children).toHaveLength(0);
    expect(all(".cw-media img")).toHaveLength(0);
  });
});

describe("lifecycle", () => {
  it("suppresses JupyterLab shortcuts inside the widget", () => {
    const { root } = mount();
    expect(root.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
  });

  it("listens to every trait of the contract", () => {
    const { model } = mount();
    const unheard = Object.keys(BASE).filter((name) => (model.handlers.get(`change:${name}`)?.size ?? 0) === 0);
    expect(unheard).toEqual([]);
  });

  it("cleanup removes every listener and detaches the view", () => {
    const { model, el, cleanup } = mount();
    expect(model.listenerCount()).toBeGreaterThan(0);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(el.children).toHaveLength(0);
  });

  it("after cleanup, DOM listeners are gone too", () => {
    const { model, q, cleanup } = mount({ status: "processing" });
    const cancel = q<HTMLButtonElement>(".cw-cancel");
    cleanup();
    cancel.click();
    expect(model.sent).toEqual([]);
  });
});

describe("source", () => {
  // Every front-end module, as text (the tests and vitest's config excepted).
  const sources = Object.entries(
    import.meta.glob(["../*.ts", "!../vitest.config.ts"], { query: "?raw", import: "default", eager: true }),
  ).map(([path, text]): [string, string] => [path.replace("../", ""), text]);

  it("finds the modules", () => {
    expect(sources.map(([name]) => name)).toEqual(
      expect.arrayContaining(["widget.ts", "controls.ts", "media.ts", "dom.ts", "url-policy.ts"]),
    );
  });

  it("the test DOM refuses HTML parsing at run time too", () => {
    const node = document.createElement("div");
    expect(() => {
      node.innerHTML = "<b>x</b>";
    }).toThrow(/innerHTML/);
    expect(() => node.insertAdjacentHTML("beforeend", "<i></i>")).toThrow(/insertAdjacentHTML/);
    expect(node.outerHTML).toBe("<div></div>");
  });

  it.each(sources)("%s uses no HTML-parsing DOM APIs", (_name, text) => {
    expect(text.length).toBeGreaterThan(500);
    expect(text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/);
  });

  it("sets no inline style from data except the progress widths (a widget's bar, a gallery's set and tiles)", () => {
    const styleWrites = sources.flatMap(([name, text]) =>
      [...text.matchAll(/\.style\.(\w+)\s*=/g)].map((m) => `${name}:${m[1]}`),
    );
    expect(styleWrites.sort()).toEqual([
      "gallery.ts:width",
      "gallery.ts:width",
      "progress.ts:width",
      "static-copy.ts:display",
    ]);
  });
});
