// @vitest-environment happy-dom
// The Gallery's view: the static copy and the earlier-result state, as a widget's (restored.ts, static-copy.ts).
import type { RenderProps } from "@anywidget/types";
import { afterEach, describe, expect, it, vi } from "vitest";
import gallery from "../gallery";
import type { GalleryModel } from "../gallery-traits";
import { ANSWER_WAIT_MS, EARLIER_TEXT } from "../restored";

type Handler = (...args: unknown[]) => void;

function tile(status: string): Record<string, unknown> {
  const t = { prompt: "a fox", kind: "image", status, progress: 100, message: "", error: "" };
  return { ...t, retryable: false, elapsed_seconds: 1.5, full_url: "" };
}

function mount(state: Partial<GalleryModel>, kernel: boolean) {
  const handlers = new Map<string, Set<Handler>>();
  const values: Record<string, unknown> = { columns: 3, tiles: [], pictures: [], connection: "", backend: "", ...state };
  const model = {
    get: (key: string) => values[key],
    on: (event: string, fn: Handler) => handlers.set(event, (handlers.get(event) ?? new Set()).add(fn)),
    off: (event: string, fn: Handler) => handlers.get(event)?.delete(fn),
    send: (content: { type?: string }) => {
      if (content.type === "hello" && kernel) {
        for (const fn of handlers.get("msg:custom") ?? []) {
          fn({ type: "hello" });
        }
      }
    },
  };
  const el = document.createElement("div");
  document.body.append(el);
  const dispose = gallery.render({ model, el } as unknown as RenderProps<GalleryModel>);
  return { el, dispose };
}

function staticCopy(id: string): HTMLElement {
  const node = document.createElement("div");
  node.setAttribute("data-conduit-static", id);
  document.body.append(node);
  return node;
}

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

describe("a Gallery's view", () => {
  it("hides the static copy once a kernel holds a finished set, not before", () => {
    const copy = staticCopy("g1");
    const { dispose } = mount({ static_id: "g1", tiles: [tile("completed"), tile("processing")] as never }, true);
    expect(copy.hidden).toBe(false); // one tile still runs: the copy is the only finished picture of it
    dispose();
    mount({ static_id: "g1", tiles: [tile("completed"), tile("failed")] as never }, true);
    expect(copy.hidden).toBe(true);
  });

  it("restored without a kernel, says it is an earlier result, disables its buttons and shows the copy", () => {
    vi.useFakeTimers();
    const copy = staticCopy("g2");
    const { el } = mount({ static_id: "g2", tiles: [tile("completed")] as never }, false);
    vi.advanceTimersByTime(ANSWER_WAIT_MS + 1);
    expect(el.querySelector(".cw-earlier-note")?.textContent).toBe(EARLIER_TEXT);
    const buttons = [...el.querySelectorAll<HTMLButtonElement>("button")];
    expect(buttons.length).toBeGreaterThan(0);
    expect(buttons.every((b) => b.disabled)).toBe(true);
    expect(copy.hidden).toBe(false);
  });
});
