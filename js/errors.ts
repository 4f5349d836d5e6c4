// Error panel: the kernel's error, URL-policy refusals and media load
// failures, with a Retry button when the kernel says a retry may help.
import { button, h, setHidden } from "./dom";
import { type Traits, isActive } from "./traits";

export interface ErrorPanel {
  el: HTMLElement;
  update(): void;
  /** Lines from the media area: refusals and load failures. */
  setMediaProblems(lines: readonly string[]): void;
}

export function createErrorPanel(traits: Traits, signal: AbortSignal): ErrorPanel {
  const el = h("div", "cw-error");
  el.setAttribute("role", "alert");
  const lines = h("div", "cw-error-lines");
  const retry = button("Retry", "cw-retry", () => traits.send("retry"), signal);
  el.append(lines, retry);

  let mediaProblems: readonly string[] = [];
  let shownKey = "";

  const update = (): void => {
    const all = [traits.str("error").trim(), ...mediaProblems].filter((s) => s !== "");
    // Rebuilding unchanged lines would make screen readers announce the alert again.
    const key = JSON.stringify(all);
    if (key !== shownKey) {
      shownKey = key;
      lines.replaceChildren(...all.map((line) => h("div", "cw-error-line", line)));
    }
    const retryable = traits.bool("retryable");
    setHidden(retry, !retryable);
    retry.disabled = isActive(traits.status());
    setHidden(el, all.length === 0 && !retryable);
  };

  const setMediaProblems = (problems: readonly string[]): void => {
    mediaProblems = problems;
    update();
  };

  return { el, update, setMediaProblems };
}
