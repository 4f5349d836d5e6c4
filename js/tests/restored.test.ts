// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { ANSWER_WAIT_MS, EARLIER_TEXT } from "../restored";
import { mount, unmountAll } from "./harness";

function staticCopy(id: string): HTMLElement {
  const node = document.createElement("div");
  node.setAttribute("data-conduit-static", id);
  node.textContent = "Generated image for 'a red fox'";
  document.body.append(node);
  return node;
}

afterEach(() => {
  vi.useRealTimers();
  unmountAll();
});

describe("a view restored without its kernel", () => {
  it("says it shows an earlier result, disables its controls with that reason, and shows the static copy", () => {
    vi.useFakeTimers();
    const copy = staticCopy("abc");
    const { root, q, all, model } = mount({ static_id: "abc", status: "completed", progress: 100 }, { kernel: false });
    expect(model.hellos).toBe(1);
    expect(copy.hidden).toBe(true); // while it waits for an answer, a final view hides the copy as a live one does
    vi.advanceTimersByTime(ANSWER_WAIT_MS + 1);
    expect(q(".cw-earlier-note").hidden).toBe(false);
    expect(q(".cw-earlier-note").textContent).toBe(EARLIER_TEXT);
    expect(root.classList.contains("cw-earlier")).toBe(true);
    const inputs = all<HTMLButtonElement>("button, input, select, textarea").filter((n) => !n.closest(".cw-media"));
    expect(inputs.length).toBeGreaterThan(3);
    for (const input of inputs.filter((n) => n.closest(".cw-actions, .cw-editors"))) {
      expect(input.disabled).toBe(true);
      expect(input.title).toMatch(/earlier result/);
    }
    expect(copy.hidden).toBe(false);
    expect(model.sent).toEqual([]);
  });

  it("stops a saved run's clock instead of counting on for a run no kernel follows", () => {
    vi.useFakeTimers();
    const started = Date.now() / 1000 - 5;
    const { q } = mount({ status: "pending", progress: 0, started_at: started }, { kernel: false });
    vi.advanceTimersByTime(ANSWER_WAIT_MS + 1);
    const shown = q(".cw-progress-section").textContent;
    vi.advanceTimersByTime(60_000);
    expect(q(".cw-progress-section").textContent).toBe(shown);
  });
});

describe("a live view", () => {
  it("hears the kernel's answer: no earlier-result note, its controls enabled, the copy hidden once final", () => {
    vi.useFakeTimers();
    const copy = staticCopy("abc");
    const { root, q, model } = mount({ static_id: "abc", status: "completed", progress: 100 });
    vi.advanceTimersByTime(ANSWER_WAIT_MS * 2);
    expect(q(".cw-earlier-note").hidden).toBe(true);
    expect(root.classList.contains("cw-earlier")).toBe(false);
    expect(q<HTMLTextAreaElement>(".cw-prompt").disabled).toBe(false);
    expect(copy.hidden).toBe(true);
    expect(model.hellos).toBe(1);
  });
});
