// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { keydown, mount, unmountAll } from "./harness";

afterEach(() => {
  vi.useRealTimers();
  unmountAll();
});

/** The widget inside a JupyterLab cell's node, as the notebook renders an output. */
function inCell() {
  const mounted = mount();
  const cell = document.createElement("div");
  cell.className = "jp-Cell";
  cell.tabIndex = 0;
  document.body.append(cell);
  cell.append(mounted.root.parentElement as HTMLElement);
  return { ...mounted, cell };
}

describe("keys in the prompt box", () => {
  it("Esc gives the focus to the cell's node (JupyterLab's command mode) and goes no further", () => {
    const { q, cell } = inCell();
    const prompt = q<HTMLTextAreaElement>("textarea.cw-prompt");
    prompt.focus();
    const seen = vi.fn();
    document.addEventListener("keydown", seen, { once: true });
    expect(keydown(prompt, "Escape").defaultPrevented).toBe(true);
    expect(document.activeElement).toBe(cell);
    expect(seen).not.toHaveBeenCalled();
  });

  it("Esc outside a notebook only lets go of the focus", () => {
    const { q } = mount();
    const prompt = q<HTMLTextAreaElement>("textarea.cw-prompt");
    prompt.focus();
    keydown(prompt, "Escape");
    expect(document.activeElement).not.toBe(prompt);
  });

  // JupyterLab listens on the document in the bubbling phase, Notebook 7 in the capturing phase.
  it.each([
    ["bubbling (JupyterLab)", false],
    ["capturing (Notebook 7)", true],
  ])("Shift+Enter reaches a %s listener without the shortcut guard, which comes back after the event", (_, capture) => {
    vi.useFakeTimers();
    const { q, root } = inCell();
    const prompt = q<HTMLTextAreaElement>("textarea.cw-prompt");
    let guardedWhenSeen: boolean | null = null;
    const seen = (): void => {
      guardedWhenSeen = root.hasAttribute("data-lm-suppress-shortcuts");
    };
    document.addEventListener("keydown", seen, { once: true, capture });
    expect(keydown(prompt, "Enter", { shiftKey: true }).defaultPrevented).toBe(false);
    expect(guardedWhenSeen).toBe(false);
    vi.runAllTimers();
    expect(root.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
  });

  it("Ctrl+Enter and plain Enter keep the guard", () => {
    const { q, root } = inCell();
    const prompt = q<HTMLTextAreaElement>("textarea.cw-prompt");
    expect(keydown(prompt, "Enter", { ctrlKey: true }).defaultPrevented).toBe(true); // the widget's: Generate
    expect(root.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
    keydown(prompt, "Enter");
    expect(root.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
  });
});
