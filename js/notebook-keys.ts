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
  root.addEventListener(
    "keydown",
    (e) => {
      const target = e.target as HTMLElement;
      if (!target.matches(PROMPT)) {
        return;
      }
      if (e.key === "Escape" && !e.isComposing) {
        // JupyterLab's command mode is focus on the active cell's node (jp-Cell, focusable); elsewhere
        // (Voila, marimo) the box just lets go of the focus.
        const cell = root.closest<HTMLElement>(".jp-Cell");
        target.blur();
        cell?.focus();
        e.preventDefault();
        e.stopPropagation();
      } else if (isPlainShiftEnter(e)) {
        // The input event has already written the prompt. JupyterLab listens on the document, after this: the
        // attribute comes back once the event is through (JupyterLab's handler prevents the newline).
        root.removeAttribute(SUPPRESS);
        setTimeout(() => root.setAttribute(SUPPRESS, "true"), 0);
      }
    },
    { signal },
  );
}
