// Download links: a file the user saves, under a name and a type the widget
// chose, and never a page the server chose. A result's URL may answer with
// HTML or SVG whatever its path says; opened in a tab (target=_blank, or the
// navigation browsers fall back to when they ignore `download` on a
// cross-origin URL), that page would run as the server wrote it. So:
//
// - bytes the kernel embedded are already a blob: URL of this widget whose
//   type blobs.ts forced to an allowed image or video type, and a data: URL
//   passed the URL policy only as base64 PNG, JPEG, WebP or GIF: those links
//   carry the URL itself and `download`, and same-origin, so the browser saves;
// - a URL on another host gets no href at all (nothing to open in a tab, not
//   even from the context menu): a click fetches it without credentials, keeps
//   the bytes only if they are an allowed image or video (sniffed from the
//   bytes, else the declared type if allowed), bounded in size, and saves them
//   as a Blob of that forced type. A server that does not let the page read
//   its media (CORS) gets a message and no download, rather than a tab.
import { h } from "./dom";
import type { MediaRef } from "./media-plan";
import type { Kind } from "./traits";

/** The types a download may have, with their extensions: the only extensions a download name ends in. */
const EXTENSION: Readonly<Record<string, string>> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "image/gif": "gif",
  "image/avif": "avif",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "video/ogg": "ogv",
  "video/quicktime": "mov",
};

/** The kernel's own cap on a download (conduit_widget.client.rest.MAX_DOWNLOAD_BYTES). */
export const MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024;
const KEEP_BLOB_MS = 60_000; // long enough for the browser to start saving; then the memory goes

/** An allowed media type, or "" for anything else (HTML, SVG, text, unknown). */
export function allowedType(mime: string, kind: Kind): string {
  const base = mime.split(";")[0]?.trim().toLowerCase() ?? "";
  return base.startsWith(`${kind}/`) && base in EXTENSION ? base : "";
}

/**
 * A download name such as "conduit-3f2a9c1d-1.png": eight letters or digits of the task id (as `save()` and the
 * CLI name files), the 1-based index, and the extension of an allowed type (the kind's default otherwise). Nothing
 * the server chose but those letters and digits: no path separator, no control character, no leading dot, at
 * most 32 characters.
 */
export function downloadName(taskId: string, index: number, mime: string, kind: Kind): string {
  const tag = taskId.replace(/^task_/, "").replace(/[^A-Za-z0-9]/g, "").slice(0, 8) || "result";
  const number = Number.isSafeInteger(index) && index >= 0 && index < 1000 ? index + 1 : 1;
  const type = allowedType(mime, kind);
  return `conduit-${tag}-${number}.${type !== "" ? EXTENSION[type] : kind === "video" ? "mp4" : "png"}`;
}

/** The media type a file's first bytes show, or "" when they show none this widget offers for download. */
export function sniffType(head: Uint8Array): string {
  const at = (offset: number, text: string): boolean =>
    [...text].every((c, i) => head[offset + i] === c.charCodeAt(0));
  if (at(0, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (at(0, "\xff\xd8\xff")) return "image/jpeg";
  if (at(0, "GIF87a") || at(0, "GIF89a")) return "image/gif";
  if (at(0, "RIFF") && at(8, "WEBP")) return "image/webp";
  if (at(0, "\x1a\x45\xdf\xa3")) return "video/webm";
  if (at(0, "OggS")) return "video/ogg";
  if (at(4, "ftyp")) {
    if (at(8, "avif") || at(8, "avis")) return "image/avif";
    return at(8, "qt  ") ? "video/quicktime" : "video/mp4";
  }
  return "";
}

export type Fetched = { ok: true; blob: Blob; mime: string } | { ok: false; reason: string };

/** Printable and short: a type the server declared, quoted in a message. */
function shown(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, "?");
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable;
}

async function readCapped(response: Response, cap: number): Promise<Uint8Array | null> {
  const declared = Number(response.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > cap) {
    return null;
  }
  if (response.body === null) {
    return new Uint8Array(0);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    size += value.byteLength;
    if (size > cap) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/** A remote result as a Blob of a forced, allowed type; never throws. */
export async function fetchMedia(
  url: string,
  kind: Kind,
  fetcher: typeof fetch = fetch,
  cap = MAX_DOWNLOAD_BYTES,
): Promise<Fetched> {
  let response: Response;
  try {
    // No cookies or HTTP auth of the notebook's user go to the media host, and no referrer tells it the notebook.
    response = await fetcher(url, { credentials: "omit", referrerPolicy: "no-referrer", mode: "cors" });
  } catch {
    return { ok: false, reason: "the server could not be reached, or does not let this page read its files (CORS)" };
  }
  if (!response.ok) {
    return { ok: false, reason: `the server answered HTTP ${response.status}` };
  }
  const bytes = await readCapped(response, cap).catch(() => undefined);
  if (bytes === undefined) {
    return { ok: false, reason: "the download was cut off" };
  }
  if (bytes === null) {
    return { ok: false, reason: `the file is larger than ${Math.round(cap / 2 ** 20)} MiB` };
  }
  const declared = response.headers.get("content-type") ?? "";
  const sniffed = sniffType(bytes.subarray(0, 16));
  const mime = sniffed !== "" ? allowedType(sniffed, kind) : allowedType(declared, kind);
  if (mime === "") {
    return { ok: false, reason: `the file is not ${kind === "video" ? "a video" : "an image"} (type "${shown(declared)}")` };
  }
  return { ok: true, blob: new Blob([bytes as BlobPart], { type: mime }), mime };
}

export interface DownloadOptions {
  taskId: string;
  index: number;
  kind: Kind;
  label: string;
  /** A failed download's sentence, for the error panel. */
  onProblem: (line: string) => void;
  signal: AbortSignal;
  fetcher?: typeof fetch;
}

/** Saves `blob` under `name` through a short-lived link of this widget's own blob: URL. */
function save(blob: Blob, name: string, signal: AbortSignal): void {
  const url = URL.createObjectURL(blob);
  const link = h("a");
  link.href = url;
  link.download = name;
  link.rel = "noopener noreferrer";
  link.click();
  const revoke = (): void => URL.revokeObjectURL(url);
  const timer = setTimeout(revoke, KEEP_BLOB_MS);
  signal.addEventListener("abort", () => {
    clearTimeout(timer);
    revoke();
  });
}

/** The link for one result: see the top of this file for what each kind of URL gets. */
export function downloadLink(ref: MediaRef, opts: DownloadOptions): HTMLAnchorElement {
  const { taskId, index, kind, signal } = opts;
  const link = h("a", "cw-download", `Download ${opts.label}`);
  link.rel = "noopener noreferrer";
  const local = /^(blob|data):/i.exec(ref.url) !== null;
  const dataType = /^data:([^;,]+)/i.exec(ref.url)?.[1] ?? "";
  link.setAttribute("download", downloadName(taskId, index, local ? ref.mime || dataType : "", kind));
  if (local) {
    link.href = ref.url;
    return link;
  }
  link.tabIndex = 0;
  link.setAttribute("role", "button");
  let busy = false;
  const start = async (): Promise<void> => {
    if (busy) {
      return;
    }
    busy = true;
    link.setAttribute("aria-busy", "true");
    const fetched = await fetchMedia(ref.url, kind, opts.fetcher);
    busy = false;
    link.removeAttribute("aria-busy");
    if (signal.aborted) {
      return;
    }
    if (fetched.ok) {
      save(fetched.blob, downloadName(taskId, index, fetched.mime, kind), signal);
    } else {
      opts.onProblem(`Could not download the ${opts.label}: ${fetched.reason}.`);
    }
  };
  link.addEventListener(
    "click",
    (e) => {
      e.preventDefault(); // a modified click too: there is nothing to open
      void start();
    },
    { signal },
  );
  link.addEventListener(
    "keydown",
    (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        void start();
      }
    },
    { signal },
  );
  return link;
}
