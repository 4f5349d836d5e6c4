// Editing controls (prompt, kind, model, size, n, duration), the Generate and
// Cancel buttons, and the one-line caption that replaces the editors in
// compact (Gallery) mode.
import { button, h, labelled, setHidden, setText } from "./dom";
import { createModelPicker, option } from "./model-picker";
import { type Traits, isActive } from "./traits";

export interface Controls {
  /** The caption, shown instead of the editors when compact. */
  caption: HTMLElement;
  /** Prompt box and settings; hidden when compact. */
  editors: HTMLElement;
  /** Generate and Cancel. */
  actions: HTMLElement;
  /** Copies trait values into the inputs (never while the user's own value is already there). */
  sync(): void;
  /** Enables and disables the buttons for the current status and prompt. */
  updateButtons(): void;
  updateCaption(): void;
  /** Rebuilds the model picker's options. */
  updateModels(): void;
  /** The caption instead of the editors, and no Generate: a Gallery tile, or the editor closed. */
  setCompact(compact: boolean): void;
}

export const MAX_IMAGES = 10; // conduit_widget.front_end.MAX_IMAGES
export const MAX_DURATION = 60; // every Conduit takes whole seconds, 1 to 60 (protocol.VIDEO_SECONDS)
const SIZE_RE = /^[1-9]\d{0,4}x[1-9]\d{0,4}$/; // conduit_widget.protocol.SIZE_PATTERN

/** A number input's value as an integer in [min, max], or null when it is not a number. */
function parseBounded(raw: string, min: number, max: number): number | null {
  const value = Number(raw.trim());
  if (raw.trim() === "" || !Number.isFinite(value)) {
    return null;
  }
  return Math.min(max, Math.max(min, Math.round(value)));
}

export function createControls(traits: Traits, signal: AbortSignal): Controls {
  const on = <K extends keyof HTMLElementEventMap>(node: HTMLElement, type: K, fn: (e: HTMLElementEventMap[K]) => void) =>
    node.addEventListener(type, fn, { signal });

  const caption = h("div", "cw-caption");

  const prompt = h("textarea", "cw-prompt");
  prompt.rows = 3;
  prompt.placeholder = "Describe the image or video… (Ctrl+Enter to generate)";

  const kind = h("select", "cw-kind");
  kind.append(option("image", "Image"), option("video", "Video"));

  const picker = createModelPicker(traits, signal);

  const size = h("input", "cw-size");
  size.type = "text";
  size.placeholder = "default, e.g. 1024x1024";
  size.spellcheck = false;
  size.autocomplete = "off";

  const n = h("input", "cw-n");
  n.type = "number";
  n.min = "1";
  n.max = String(MAX_IMAGES);
  n.step = "1";

  const duration = h("input", "cw-duration");
  duration.type = "number";
  duration.min = "0";
  duration.max = String(MAX_DURATION);
  duration.step = "1";
  duration.title = "0 = the server's default";

  const nField = labelled("Images", n, "cw-field-n");
  const durationField = labelled("Duration (s)", duration, "cw-field-duration");
  const settings = h("div", "cw-settings");
  settings.append(
    labelled("Type", kind, "cw-field-kind"),
    labelled("Model", picker.select, "cw-field-model"),
    labelled("Size", size, "cw-field-size"),
    nField,
    durationField,
  );
  const editors = h("div", "cw-editors");
  editors.append(labelled("Prompt", prompt, "cw-field-prompt"), settings);

  const generate = (): void => {
    commitAll();
    if (!generateButton.disabled) {
      traits.send("generate");
    }
  };
  const generateButton = button("Generate", "cw-generate cw-primary", generate, signal);
  const cancelButton = button("Cancel", "cw-cancel", () => traits.send("cancel"), signal);
  const actions = h("div", "cw-actions");
  actions.append(generateButton, cancelButton);

  // Each commit writes the input's current value; Traits.write skips unchanged values.
  const commitPrompt = (): void => traits.write("prompt", prompt.value);
  // The kernel checks the size too; this only flags a typo at once.
  const flagSize = (value: string): void => size.setAttribute("aria-invalid", String(value !== "" && !SIZE_RE.test(value)));
  const commitSize = (): void => {
    const value = size.value.trim().toLowerCase().replace(/\s+/g, "");
    flagSize(value);
    traits.write("size", value);
  };
  const commitNumber = (input: HTMLInputElement, key: "n" | "duration", min: number, max: number): void => {
    const value = parseBounded(input.value, min, max);
    if (value === null) {
      input.value = String(traits.num(key, min));
      return;
    }
    input.value = String(value);
    traits.write(key, value);
  };
  const commitN = (): void => commitNumber(n, "n", 1, MAX_IMAGES);
  const commitDuration = (): void => commitNumber(duration, "duration", 0, MAX_DURATION);
  // Generate may be pressed before a field's change event fired (Ctrl+Enter from the prompt box).
  const commitAll = (): void => {
    commitPrompt();
    commitSize();
    commitN();
    commitDuration();
  };

  on(prompt, "input", () => {
    commitPrompt();
    updateButtons();
  });
  on(prompt, "keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      generate();
    }
  });
  on(kind, "change", () => traits.write("kind", kind.value === "video" ? "video" : "image"));
  on(size, "change", commitSize);
  on(n, "change", commitN);
  on(duration, "change", commitDuration);

  const updateButtons = (): void => {
    const active = isActive(traits.status());
    generateButton.disabled = active || prompt.value.trim() === "";
    cancelButton.disabled = !active;
  };

  const updateCaption = (): void => {
    const text = traits.str("prompt").replace(/\s+/g, " ").trim();
    setText(caption, text);
    caption.title = text;
  };

  const syncValue = (input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): void => {
    if (input.value !== value) {
      input.value = value;
    }
  };

  const sync = (): void => {
    const k = traits.kind();
    syncValue(prompt, traits.str("prompt"));
    syncValue(kind, k);
    // Only a value the user is not in the middle of typing gets replaced.
    if (document.activeElement !== size) {
      syncValue(size, traits.str("size"));
      flagSize(size.value);
    }
    if (document.activeElement !== n) {
      syncValue(n, String(traits.num("n", 1)));
    }
    if (document.activeElement !== duration) {
      syncValue(duration, String(traits.num("duration", 0)));
    }
    setHidden(nField, k !== "image");
    setHidden(durationField, k !== "video");
    picker.update();
    updateButtons();
    updateCaption();
  };

  const setCompact = (compact: boolean): void => {
    setHidden(editors, compact);
    setHidden(generateButton, compact);
    setHidden(caption, !compact);
  };

  return { caption, editors, actions, sync, updateButtons, updateCaption, updateModels: picker.update, setCompact };
}
