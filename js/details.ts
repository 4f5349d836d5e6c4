// The parameter line under a finished result (the `details` trait, computed in
// the kernel by conduit_widget/details.py): model, resolution, seed, task id,
// timings, cost; with "Copy prompt" and "Copy as code". Only lays out what the
// kernel sent: every value is read tolerantly and shown as text.
import { button, h, setHidden, setText } from "./dom";
import type { Traits } from "./traits";

export interface RunDetails {
  model?: string;
  resolution?: string;
  seed?: number | null;
  seed_note?: string;
  task_id?: string;
  prompt?: string;
  code?: string;
  cost?: number | null;
  queued_seconds?: number;
  ran_seconds?: number;
  total_seconds?: number;
}

function field(d: Record<string, unknown>, key: keyof RunDetails): unknown {
  return d[key];
}

function text(d: Record<string, unknown>, key: keyof RunDetails): string {
  const v = field(d, key);
  return typeof v === "string" ? v : "";
}

function number(d: Record<string, unknown>, key: keyof RunDetails): number | null {
  const v = field(d, key);
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function seconds(v: number): string {
  return `${v.toFixed(1)} s`;
}

/** The parts of the line, in order ("Model dall-e-3", "256x256", ...); none for an empty or odd value. */
export function detailParts(value: unknown): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [];
  }
  const d = value as Record<string, unknown>;
  const parts: string[] = [];
  const model = text(d, "model");
  if (model !== "") parts.push(`Model ${model}`);
  const resolution = text(d, "resolution");
  if (resolution !== "") parts.push(resolution);
  const seed = number(d, "seed");
  const note = text(d, "seed_note");
  if (seed !== null) parts.push(`Seed ${seed}`);
  else if (note !== "") parts.push(note);
  const times: string[] = [];
  const queued = number(d, "queued_seconds");
  const ran = number(d, "ran_seconds");
  const total = number(d, "total_seconds");
  if (queued !== null) times.push(`queued ${seconds(queued)}`);
  if (ran !== null) times.push(`ran ${seconds(ran)}`);
  if (total !== null) times.push(`total ${seconds(total)}`);
  if (times.length > 0) parts.push(times.join(", "));
  const cost = number(d, "cost");
  if (cost !== null) parts.push(`Cost $${cost.toFixed(cost < 0.01 && cost > 0 ? 4 : 2)}`);
  const task = text(d, "task_id");
  if (task !== "") parts.push(`Task ${task}`);
  return parts;
}

/** Puts `value` on the clipboard: the async clipboard API, else a selected textarea in `host` and execCommand
 * (an insecure origin, or a browser that refused the permission). Resolves to whether it worked. */
export async function copyText(value: string, host: HTMLElement): Promise<boolean> {
  const doc = host.ownerDocument;
  const clipboard = doc.defaultView?.navigator.clipboard;
  if (clipboard !== undefined && typeof clipboard.writeText === "function") {
    try {
      await clipboard.writeText(value);
      return true;
    } catch {
      // refused (no permission, not focused): the fallback below may still work
    }
  }
  const area = h("textarea", "cw-copy-buffer"); // out of sight by its class (widget.css)
  area.value = value;
  area.setAttribute("readonly", "");
  area.setAttribute("aria-hidden", "true");
  host.append(area);
  area.select();
  try {
    return doc.execCommand("copy");
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

export interface DetailsView {
  el: HTMLElement;
  update(): void;
}

export function createDetails(traits: Traits, signal: AbortSignal): DetailsView {
  const el = h("div", "cw-details");
  const line = h("span", "cw-details-line");
  const said = h("span", "cw-details-said");
  said.setAttribute("role", "status");
  let current: Record<string, unknown> = {};
  const copy = (key: "prompt" | "code", label: string) => async (): Promise<void> => {
    const ok = await copyText(text(current, key), el);
    setText(said, ok ? `${label} copied` : "Could not copy: select the text and copy it by hand");
  };
  const copyPrompt = button("Copy prompt", "cw-copy-prompt", () => void copy("prompt", "Prompt")(), signal);
  const copyCode = button("Copy as code", "cw-copy-code", () => void copy("code", "Code")(), signal);
  el.append(line, copyPrompt, copyCode, said);
  const update = (): void => {
    const value = traits.raw("details");
    current = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
    const parts = detailParts(value);
    setText(line, parts.join(" · "));
    setText(said, "");
    setHidden(el, parts.length === 0);
    setHidden(copyCode, text(current, "code") === "");
    setHidden(copyPrompt, text(current, "prompt") === "");
  };
  update();
  return { el, update };
}
