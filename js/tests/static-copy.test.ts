// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { hideStaticCopies } from "../static-copy";
import { mount, unmountAll } from "./harness";

function staticCopy(id: string): HTMLElement {
  const node = document.createElement("div");
  node.className = "conduit-widget-static";
  node.setAttribute("data-conduit-static", id);
  node.textContent = "Generated image for 'a red fox'";
  return node;
}

afterEach(() => {
  vi.useRealTimers();
  unmountAll();
});

describe("static copy hider", () => {
  it("hides the matching copy already in the document on render, and only that one", () => {
    const mine = staticCopy("abc123");
    const other = staticCopy("zzz999");
    document.body.append(mine, other);
    mount({ static_id: "abc123", status: "completed" });
    expect(mine.hidden).toBe(true);
    expect(mine.style.display).toBe("none");
    expect(other.hidden).toBe(false);
  });

  it("hides a copy added after render (observer)", async () => {
    const { cleanup } = mount({ static_id: "abc123", status: "completed" });
    const late = staticCopy("abc123");
    const wrapper = document.createElement("div");
    wrapper.append(late);
    document.body.append(wrapper);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(late.hidden).toBe(true);
    cleanup();
  });

  it("checks once shortly after render, even without an observer", () => {
    vi.useFakeTimers();
    vi.stubGlobal("MutationObserver", undefined);
    try {
      const { cleanup } = mount({ static_id: "abc123", status: "completed" });
      const late = staticCopy("abc123");
      document.body.append(late);
      expect(late.hidden).toBe(false);
      vi.advanceTimersByTime(1000);
      expect(late.hidden).toBe(true);
      cleanup();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("re-checks when static_id changes", () => {
    const copy = staticCopy("second");
    document.body.append(copy);
    const { model } = mount({ static_id: "first", status: "completed" });
    expect(copy.hidden).toBe(false);
    model.kernel({ static_id: "second" });
    expect(copy.hidden).toBe(true);
  });

  it("leaves the copy visible while the saved status is not final, and hides it once it is", () => {
    const copy = staticCopy("abc123");
    document.body.append(copy);
    // A model recorded before its run ended: it shows no result, the copy is the reader's only one.
    const { model } = mount({ static_id: "abc123", status: "pending", progress: 0 });
    expect(copy.hidden).toBe(false);
    expect(copy.style.display).toBe("");
    model.kernel({ status: "completed" });
    expect(copy.hidden).toBe(true);
    model.kernel({ status: "processing" });
    expect(copy.hidden).toBe(false);
  });

  it("stops observing on cleanup", async () => {
    const { cleanup } = mount({ static_id: "abc123", status: "completed" });
    cleanup();
    const late = staticCopy("abc123");
    document.body.append(late);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(late.hidden).toBe(false);
  });

  it("treats the id as a value, not a selector", () => {
    const copy = staticCopy('x"] , body, [y="');
    document.body.append(copy);
    expect(hideStaticCopies(document, 'x"] , body, [y="')).toBe(1);
    expect(document.body.hidden).toBe(false);
    expect(hideStaticCopies(document, "")).toBe(0);
  });
});
