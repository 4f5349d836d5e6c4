// The Gallery's synced trait contract with the Python side (conduit_widget.gallery;
// tests/widget/test_gallery_contract.py holds the two to the same names and types)
// and a tolerant reader of its tiles: every value comes from another process.
import { asNumber, asString, isActive, statusOf } from "./traits";

export interface TileState {
  prompt: string;
  kind: string;
  status: string;
  progress: number;
  message: string;
  error: string;
  retryable: boolean;
  elapsed_seconds: number;
  full_url: string;
}

// A type alias, not an interface: AnyModel<T> needs T to fit Record<string, any>.
export type GalleryModel = {
  columns: number;
  tiles: TileState[];
  pictures: string[];
  connection: string;
  backend: string;
  static_id: string;
};

export type GalleryCommand = "cancel_all" | "cancel" | "retry" | "hello";

/** The tile states in `v`, each field read with a fallback. */
export function readTiles(v: unknown): TileState[] {
  if (!Array.isArray(v)) {
    return [];
  }
  return v.map((raw: unknown) => {
    const t = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    return {
      prompt: asString(t.prompt),
      kind: asString(t.kind) || "image",
      status: statusOf(t.status),
      progress: Math.min(100, Math.max(0, asNumber(t.progress, 0))),
      message: asString(t.message),
      error: asString(t.error),
      retryable: t.retryable === true,
      elapsed_seconds: asNumber(t.elapsed_seconds, 0),
      full_url: asString(t.full_url),
    };
  });
}

const ENDINGS = new Set(["completed", "failed", "cancelled", "timedout", "invalid"]);

export function isEnded(status: string): boolean {
  return ENDINGS.has(status);
}

/** A tile waiting for its slot, or a task in flight. */
export function canCancel(status: string): boolean {
  return status === "queued" || isActive(status);
}

/** "4 of 9": how many of the set have ended, of how many. */
export function setProgress(tiles: TileState[]): { ended: number; total: number; text: string } {
  const ended = tiles.filter((t) => isEnded(t.status)).length;
  return { ended, total: tiles.length, text: tiles.length === 0 ? "" : `${ended} of ${tiles.length}` };
}

/** A picture the browser may show: a data URL of a JPEG the kernel made, or an http(s) URL it let through. */
export function safePicture(v: unknown): string {
  const s = asString(v);
  return /^data:image\/jpeg;base64,[A-Za-z0-9+/=]+$/.test(s) || /^https?:\/\//i.test(s) ? s : "";
}
