// Whether the editor (prompt box, settings, Generate) shows. A widget made from
// code with a prompt starts with it closed behind an "Edit" button in the header
// (the `editable` trait), so the result and its progress take the room; a Gallery
// tile (`compact`) never shows it. Opening and closing is this view's own state:
// another view of the same widget keeps its own.
import { button } from "./dom";
import type { Traits } from "./traits";

export interface EditorToggle {
  button: HTMLButtonElement;
  /** Applies `editable` (a kernel-side change resets this view's choice) and `compact`. */
  update(): void;
}

export function createEditorToggle(
  traits: Traits,
  setCollapsed: (collapsed: boolean) => void,
  focusEditor: () => void,
  signal: AbortSignal,
): EditorToggle {
  let open = traits.bool("editable");
  let lastEditable = open;

  const apply = (): void => {
    const compact = traits.bool("compact");
    setCollapsed(compact || !open);
    toggle.hidden = compact;
    toggle.textContent = open ? "Hide editor" : "Edit";
    toggle.setAttribute("aria-expanded", String(open));
  };

  const toggle = button(
    "Edit",
    "cw-edit",
    () => {
      open = !open;
      apply();
      if (open) {
        focusEditor();
      }
    },
    signal,
  );
  toggle.title = "Show or hide the prompt and settings";

  const update = (): void => {
    const editable = traits.bool("editable");
    if (editable !== lastEditable) {
      lastEditable = editable;
      open = editable;
    }
    apply();
  };

  return { button: toggle, update };
}
