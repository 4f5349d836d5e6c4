// Keys in the prompt box that act as they do in a JupyterLab or Notebook 7 cell:
// Esc leaves for the notebook's command mode, Shift+Enter runs the cell (Ctrl or
// Cmd+Enter generates: controls.ts). The widget's root carries
// data-lm-suppress-shortcuts, which makes JupyterLab ignore every key pressed
// inside it; Shift+Enter is let through for the one event.

const SUPPRESS = "data-lm-suppress-shortcuts";
const PROMPT = "textarea.cw-prompt";

function isPlainShiftEnter(e: KeyboardEvent): boolean {
  return e.key === "Enter" && e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey && !e.isComposing;
}

export function installNotebookKeys(root: HTMLElement, signal: AbortSignal): void {
  const inPrompt = (e: KeyboardEvent): e is KeyboardEvent & { target: HTMLElement } =>
    e.target instanceof HTMLElement && e.target.matches(PROMPT) && root.contains(e.target);
  root.addEventListener(
    "keydown",
    (e) => {
      if (!inPrompt(e) || e.key !== "Escape" || e.isComposing) {
        return;
      }
      // JupyterLab's command mode is focus on the active cell's node (jp-Cell, focusable); elsewhere
      // (Voila, marimo) the box just lets go of the focus.
      const cell = root.closest<HTMLElement>(".jp-Cell");
      e.target.blur();
      cell?.focus();
      e.preventDefault();
      e.stopPropagation();
    },
    { signal },
  );
  // Shift+Enter: the guard is lifted before the application's own listener sees the event, which may be on the
  // document in the bubbling phase (JupyterLab) or in the capturing phase (Notebook 7): a capturing listener on
  // the window runs before either. It comes back once the event is through (the run binding prevents the newline).
  window.addEventListener(
    "keydown",
    (e) => {
      if (inPrompt(e) && isPlainShiftEnter(e)) {
        root.removeAttribute(SUPPRESS);
        setTimeout(() => root.setAttribute(SUPPRESS, "true"), 0);
      }
    },
    { capture: true, signal },
  );
}
