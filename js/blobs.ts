// blob: URLs for result bytes the kernel embedded (media, poster). The kernel
// embeds when the browser may not reach the result's URLs. Each URL made here
// is registered in `own`, the set the URL policy accepts blob: URLs from, and
// leaves it as soon as its bytes are replaced or the view goes away; the URL
// itself is revoked REVOKE_DELAY_MS later. An element may still be loading it
// then: marimo renders a view and throws it away at once, and revoking under
// the first view's loading <img> failed it (ERR_FILE_NOT_FOUND in the console).
import { allowedType, sniffType } from "./download";
import type { Embedded, MediaRef } from "./media-plan";
import { asStringArray } from "./traits";

/** The type a blob of result bytes gets: an allowed image or video type, never SVG or HTML (a blob: document of
 * those types could run script); bytes without a type get the one they show, and none when they show none. */
function forcedType(bytes: BlobPart, mime: string): string {
  if (mime !== "") {
    return allowedType(mime, "image") || allowedType(mime, "video");
  }
  const buffer = bytes instanceof ArrayBuffer ? bytes : (bytes as ArrayBufferView).buffer;
  const offset = bytes instanceof ArrayBuffer ? 0 : (bytes as ArrayBufferView).byteOffset;
  const length = bytes instanceof ArrayBuffer ? bytes.byteLength : (bytes as ArrayBufferView).byteLength;
  return sniffType(new Uint8Array(buffer, offset, Math.min(16, length)));
}

/** The bytes of a trait value (anywidget delivers DataView), or null when absent or empty. */
function bytesOf(v: unknown): BlobPart | null {
  if (v instanceof ArrayBuffer) {
    return v.byteLength > 0 ? v : null;
  }
  if (ArrayBuffer.isView(v)) {
    // Widget buffers are views of plain ArrayBuffers, never SharedArrayBuffers.
    return v.byteLength > 0 ? (v as unknown as BlobPart) : null;
  }
  return null;
}

/** How long a URL that left the view stays loadable: far longer than the load of an image from memory. */
export const REVOKE_DELAY_MS = 10_000;

export class BlobStore {
  /** Every live blob: URL this view created; handed to checkMediaUrl as ownBlobUrls. */
  readonly own = new Set<string>();
  embedded: Embedded = { items: [], poster: null };
  private mediaRefusals: string[] = [];
  private posterRefusals: string[] = [];

  private lastMedia: unknown = undefined;
  private lastTypes = "";
  private lastPoster: unknown = undefined;
  private lastPosterType = "";
  private mediaUrls: string[] = [];
  private posterUrl: string | null = null;

  /** Brings the blob: URLs in line with the traits; creates and revokes only when the bytes or types changed. */
  sync(media: unknown, mediaTypes: unknown, poster: unknown, posterType: string): void {
    const types = asStringArray(mediaTypes);
    const typesKey = JSON.stringify(types);
    if (media !== this.lastMedia || typesKey !== this.lastTypes) {
      this.lastMedia = media;
      this.lastTypes = typesKey;
      this.revoke(this.mediaUrls);
      this.mediaRefusals = [];
      const items: MediaRef[] = [];
      (Array.isArray(media) ? media : []).forEach((item, i) => {
        const mime = (types[i] ?? "").trim().toLowerCase();
        const ref = this.create(item, mime, `media[${i}]`, this.mediaRefusals);
        if (ref !== null) {
          items.push(ref);
        }
      });
      this.mediaUrls = items.map((ref) => ref.url);
      this.embedded = { ...this.embedded, items };
    }
    if (poster !== this.lastPoster || posterType !== this.lastPosterType) {
      this.lastPoster = poster;
      this.lastPosterType = posterType;
      this.revoke(this.posterUrl === null ? [] : [this.posterUrl]);
      this.posterRefusals = [];
      const ref = this.create(poster, posterType.trim().toLowerCase(), "poster", this.posterRefusals);
      this.posterUrl = ref?.url ?? null;
      this.embedded = { ...this.embedded, poster: this.posterUrl };
    }
  }

  /** Embedded bytes that were not shown, with why. */
  get refusals(): string[] {
    return [...this.mediaRefusals, ...this.posterRefusals];
  }

  dispose(): void {
    this.revoke([...this.own]);
    this.mediaUrls = [];
    this.posterUrl = null;
    this.embedded = { items: [], poster: null };
  }

  private create(value: unknown, mime: string, label: string, refusals: string[]): MediaRef | null {
    const bytes = bytesOf(value);
    if (bytes === null) {
      return null;
    }
    const type = forcedType(bytes, mime);
    if (type === "") {
      const why =
        mime === "" ? "it has no type and its bytes are no image or video" : `type "${mime.slice(0, 60)}" is not an allowed image or video type`;
      refusals.push(`${label} refused: ${why}`);
      return null;
    }
    const url = URL.createObjectURL(new Blob([bytes], { type }));
    this.own.add(url);
    return { url, mime: type };
  }

  private revoke(urls: readonly string[]): void {
    const leaving = [...urls];
    for (const url of leaving) {
      this.own.delete(url); // refused by the URL policy from now on
    }
    if (leaving.length > 0) {
      setTimeout(() => {
        for (const url of leaving) {
          URL.revokeObjectURL(url);
        }
      }, REVOKE_DELAY_MS);
    }
  }
}
