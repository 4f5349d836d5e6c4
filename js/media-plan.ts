// Decides what the media area shows (download.ts names the files). Pure:
// no DOM. Every URL, the widget's own blob: URLs included, passes checkMediaUrl.
import { type Kind, asKind, asString, asStringArray } from "./traits";
import { checkMediaUrl, type UrlPolicyOptions } from "./url-policy";

/** A URL with its MIME type ("" when only the URL is known). */
export interface MediaRef {
  url: string;
  mime: string;
}

/** Result bytes the kernel embedded, already turned into blob: URLs (see blobs.ts). */
export interface Embedded {
  items: readonly MediaRef[];
  poster: string | null;
  /** The items and poster are the kernel's small previews, not the result (media_is_preview: no full bytes came). */
  previewsOnly?: boolean;
}

export interface MediaPlan {
  /** Allowed final images, in order, without duplicates (kind "image"). */
  images: MediaRef[];
  /** Allowed final video (kind "video"). */
  video: MediaRef | null;
  /** Allowed poster for the video. */
  poster: string | null;
  /** Allowed preview image to show while there is no final result. */
  preview: string | null;
  /** Alt text for the images. */
  alt: string;
  /** What it shows are small previews (a restored view): no download of them as if they were the result. */
  previewsOnly: boolean;
  /** One line per refused URL, naming the trait and the policy's reason. */
  refusals: string[];
}

export type MediaState = {
  kind: unknown;
  image_url: unknown;
  image_urls: unknown;
  video_url: unknown;
  preview_url: unknown;
  prompt: unknown;
};

const NO_EMBEDDED: Embedded = { items: [], poster: null };

/** Whether an embedded item is an image or a video; untyped items follow the widget's kind. */
function embeddedKind(mime: string, kind: Kind): Kind | null {
  if (mime.startsWith("image/")) {
    return "image";
  }
  if (mime.startsWith("video/")) {
    return "video";
  }
  return mime === "" ? kind : null;
}

export function planMedia(
  state: Partial<MediaState>,
  policy: UrlPolicyOptions = {},
  embedded: Embedded = NO_EMBEDDED,
): MediaPlan {
  const plan: MediaPlan = { images: [], video: null, poster: null, preview: null, alt: "", previewsOnly: false, refusals: [] };
  const kind = asKind(state.kind);
  const prompt = asString(state.prompt).trim();
  plan.alt = prompt !== "" ? prompt : kind === "video" ? "Generated video" : "Generated image";

  const allow = (label: string, raw: string): string | null => {
    const verdict = checkMediaUrl(raw, policy);
    if (verdict.ok) {
      return verdict.url;
    }
    plan.refusals.push(`${label} refused: ${verdict.reason}`);
    return null;
  };
  // Embedded bytes win over remote URLs: the kernel embeds exactly when the
  // browser may not reach those URLs, so refusing them too would only be noise.
  const own: Array<[string, MediaRef]> = embedded.items
    .map((ref, i): [string, MediaRef] => [`media[${i}]`, ref])
    .filter(([, ref]) => embeddedKind(ref.mime, kind) === kind);

  // Checked only where it is used, so an unused preview is never reported.
  const preview = (): string | null => {
    const raw = asString(state.preview_url);
    return raw === "" ? null : allow("preview_url", raw);
  };

  if (kind === "video") {
    if (embedded.previewsOnly === true && own.length === 0 && embedded.poster !== null) {
      // A restored video: its poster's preview is all a saved notebook holds (its URL may be long gone).
      plan.preview = allow("poster", embedded.poster);
      plan.previewsOnly = plan.preview !== null;
      return plan;
    }
    const [label, ref] = own[0] ?? ["video_url", { url: asString(state.video_url), mime: "" }];
    const url = ref.url === "" ? null : allow(label, ref.url);
    plan.video = url === null ? null : { url, mime: ref.mime };
    if (plan.video !== null) {
      plan.poster = embedded.poster !== null ? allow("poster", embedded.poster) : preview();
    } else {
      plan.preview = preview();
    }
    return plan;
  }

  const candidates: Array<[string, MediaRef]> =
    own.length > 0
      ? own
      : [
          ...asStringArray(state.image_urls).map((url, i): [string, MediaRef] => [`image_urls[${i}]`, { url, mime: "" }]),
          ["image_url", { url: asString(state.image_url), mime: "" }],
        ];
  const seen = new Set<string>();
  for (const [label, ref] of candidates) {
    if (ref.url === "" || seen.has(ref.url)) {
      continue;
    }
    seen.add(ref.url);
    const url = allow(label, ref.url);
    if (url !== null && !plan.images.some((img) => img.url === url)) {
      plan.images.push({ url, mime: ref.mime });
    }
  }
  plan.previewsOnly = embedded.previewsOnly === true && own.length > 0 && plan.images.length > 0;
  if (plan.images.length === 0) {
    plan.preview = preview();
  }
  return plan;
}
