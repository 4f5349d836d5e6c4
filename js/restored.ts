// Whether a kernel holds this view's model. A view restored from saved widget
// state (a notebook reopened with a new kernel or none, an HTML export) has a
// model no kernel answers for: its Generate would do nothing and its
// "connected" would be a leftover. So the view says "hello" when it renders;
// the kernel answers at once. With no answer after ANSWER_WAIT_MS the view
// says it shows an earlier result, and disables its controls with that reason.
import { h, setHidden } from "./dom";


export const ANSWER_WAIT_MS = 3000;
export const EARLIER_TEXT =
  "Earlier result: no running kernel holds this widget (the notebook was reopened or exported). " +
  "Run its cell again for a live one.";

export type Presence = "asking" | "live" | "earlier";

/** What of a model the question needs: its custom messages (a GenerationWidget's and a Gallery's alike). */
export interface MessageSource {
  on(event: "msg:custom", fn: (content: unknown) => void): void;
  off(event: "msg:custom", fn: (content: unknown) => void): void;
}

export interface KernelPresence {
  /** The line shown in the earlier-result state (hidden otherwise). */
  el: HTMLElement;
  state(): Presence;
  dispose(): void;
}

function isHello(content: unknown): boolean {
  return typeof content === "object" && content !== null && (content as { type?: unknown }).type === "hello";
}

/** Asks the kernel; calls `onChange` once the answer (or its absence) decides the state. `controls` are the
 * containers whose inputs and buttons are disabled in the earlier-result state. */
export function askForKernel(
  model: MessageSource,
  hello: () => void,
  controls: HTMLElement[],
  onChange: (state: Presence) => void,
): KernelPresence {
  const el = h("div", "cw-earlier-note");
  el.textContent = EARLIER_TEXT;
  el.setAttribute("role", "note");
  setHidden(el, true);
  let state: Presence = "asking";
  let timer: ReturnType<typeof setTimeout> | undefined;

  const settle = (next: Presence): void => {
    if (state !== "asking") {
      return;
    }
    state = next;
    clearTimeout(timer);
    model.off("msg:custom", onMessage);
    if (next === "earlier") {
      setHidden(el, false);
      for (const container of controls) {
        for (const input of container.querySelectorAll<HTMLElement>("button, input, select, textarea")) {
          (input as HTMLButtonElement).disabled = true;
          input.title = "Disabled: this is an earlier result, and no running kernel holds this widget.";
        }
      }
    }
    onChange(next);
  };
  const onMessage = (content: unknown): void => {
    if (isHello(content)) {
      settle("live");
    }
  };
  model.on("msg:custom", onMessage);
  timer = setTimeout(() => settle("earlier"), ANSWER_WAIT_MS);
  try {
    hello();
  } catch {
    settle("earlier"); // a model with no comm at all (some managers throw rather than drop the message)
  }
  return {
    el,
    state: () => state,
    dispose: () => {
      clearTimeout(timer);
      model.off("msg:custom", onMessage);
    },
  };
}
