// The synced trait contract with the Python side (conduit_widget.widget, whose
// front_end module holds its half; tests/widget/test_contract.py holds the two
// to the same names and types) and tolerant readers for it. Trait values arrive
// from another process, so every reader accepts any run-time value and falls
// back instead of throwing.
import type { AnyModel } from "@anywidget/types";
import type { RunDetails } from "./details";

export type Kind = "image" | "video";

export interface ModelEntry {
  id: string;
  type: string;
}

// A type alias, not an interface: AnyModel<T> needs T to fit Record<string, any>.
export type WidgetModel = {
  // Inputs the user edits (written back with set + save_changes): INPUTS below.
  prompt: string;
  kind: string;
  model: string;
  size: string;
  n: number;
  duration: number;
  // State from the kernel, read-only here.
  models: ModelEntry[];
  compact: boolean;
  editable: boolean;
  status: string;
  progress: number;
  message: string;
  eta_seconds: number | null;
  elapsed_seconds: number;
  started_at: number;
  task_id: string;
  image_url: string;
  image_urls: string[];
  video_url: string;
  preview_url: string;
  media: DataView[];
  media_types: string[];
  poster: DataView | null;
  poster_type: string;
  media_is_preview: boolean;
  error: string;
  retryable: boolean;
  connection: string;
  backend: string;
  static_id: string;
  details: RunDetails;
};

export type TraitName = keyof WidgetModel;
/** The only traits the front end writes; the kernel refuses any other. */
export const INPUTS = ["prompt", "kind", "model", "size", "n", "duration"] as const;
export type InputName = (typeof INPUTS)[number];
export type Model = AnyModel<WidgetModel>;
export type Command = "generate" | "cancel" | "retry" | "hello";

/** Statuses during which a task is in flight (Generate off, Cancel on, clock ticking): every status but the
 * terminal ones (conduit_widget.protocol.TERMINAL_STATUSES). */
const ACTIVE = new Set(["pending", "processing"]);

export function isActive(status: string): boolean {
  return ACTIVE.has(status);
}

/** The statuses a task ends with (conduit_widget.protocol.TERMINAL_STATUSES). */
const FINAL = new Set(["completed", "failed", "cancelled", "timedout"]);

export function isFinal(status: string): boolean {
  return FINAL.has(status);
}

export function asString(v: unknown): string {
  return typeof v === "string" ? v : "";
}

export function asNumber(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

export function asStringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** Unknown kinds count as images, as the contract says. */
export function asKind(v: unknown): Kind {
  return v === "video" ? "video" : "image";
}

/** A status usable as a CSS class suffix; unknown values keep their text but lose odd characters. */
export function statusOf(v: unknown): string {
  const s = asString(v).trim().toLowerCase();
  return s === "" ? "idle" : s;
}

export function classSuffix(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, "") || "unknown";
}

/** Typed, tolerant access to the model; the one place that writes traits or sends commands. */
export class Traits {
  constructor(private readonly model: Model) {}

  raw(key: TraitName): unknown {
    return this.model.get(key);
  }
  str(key: TraitName): string {
    return asString(this.model.get(key));
  }
  num(key: TraitName, fallback = 0): number {
    return asNumber(this.model.get(key), fallback);
  }
  bool(key: TraitName): boolean {
    return this.model.get(key) === true;
  }
  kind(): Kind {
    return asKind(this.model.get("kind"));
  }
  status(): string {
    return statusOf(this.model.get("status"));
  }

  /** Writes a user edit back to the kernel; a no-op when nothing changed, so echoes do not loop. */
  write<K extends InputName>(key: K, value: WidgetModel[K]): void {
    if (this.model.get(key) === value) {
      return;
    }
    this.model.set(key, value);
    this.model.save_changes();
  }

  send(type: Command): void {
    this.model.send({ type });
  }
}
