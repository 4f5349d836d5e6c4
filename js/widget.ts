// Anywidget front-end module (AFM) for conduit-widget.
//
// The DOM is built with createElement/textContent only; no trait value is
// ever parsed as HTML. Every media URL goes through checkMediaUrl first.
import type { AnyWidget, RenderProps } from "@anywidget/types";
import { clampPercent } from "./format";
import { checkMediaUrl, type UrlPolicyOptions } from "./url-policy";

/** The synced traits this view reads (Python: conduit_widget). */
export type WidgetModel = {
  status: string;
  progress: number;
  message: string;
  error: string;
  image_url: string;
  image_urls: string[];
  video_url: string;
  preview_url: string;
  kind: "image" | "video";
  prompt: string;
};

/** The traits that decide what the media area shows. */
export type MediaState = Pick<
  WidgetModel,
  "kind" | "image_url" | "image_urls" | "video_url" | "preview_url" | "prompt"
>;

export interface MediaPlan {
  /** Allowed final image URLs, in order, without duplicates (kind "image"). */
  images: string[];
  /** Allowed final video URL (kind "video"). */
  video: string | null;
  /** Allowed poster for the video. */
  poster: string | null;
  /** Allowed preview image to show while there is no final result. */
  preview: string | null;
  /** Alt text for the images. */
  alt: string;
  /** One line per refused URL, naming the trait and the policy's reason. */
  refusals: string[];
}

const MEDIA_TRAITS = ["kind", "image_url", "image_urls", "video_url", "preview_url", "prompt"] as const;

function asString(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function asStringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** Decides what the media area shows. Pure: it touches no DOM. */
export function planMedia(state: Partial<Record<keyof MediaState, unknown>>, policy: UrlPolicyOptions = {}): MediaPlan {
  const plan: MediaPlan = { images: [], video: null, poster: null, preview: null, alt: "", refusals: [] };
  const prompt = asString(state.prompt).trim();
  plan.alt = prompt !== "" ? prompt : "Generated image";

  const allow = (label: string, raw: string): string | null => {
    const verdict = checkMediaUrl(raw, policy);
    if (verdict.ok) {
      return verdict.url;
    }
    plan.refusals.push(`${label} refused: ${verdict.reason}`);
    return null;
  };

  const previewRaw = asString(state.preview_url);
  const preview = previewRaw === "" ? null : allow("preview_url", previewRaw);

  if (state.kind === "video") {
    const videoRaw = asString(state.video_url);
    plan.video = videoRaw === "" ? null : allow("video_url", videoRaw);
    if (plan.video !== null) {
      plan.poster = preview;
    } else {
      plan.preview = preview;
    }
    return plan;
  }

  const seen = new Set<string>();
  const candidates: Array<[string, string]> = asStringArray(state.image_urls).map((u, i) => [`image_urls[${i}]`, u]);
  candidates.push(["image_url", asString(state.image_url)]);
  for (const [label, raw] of candidates) {
    if (raw === "" || seen.has(raw)) {
      continue;
    }
    seen.add(raw);
    const url = allow(label, raw);
    if (url !== null && !plan.images.includes(url)) {
      plan.images.push(url);
    }
  }
  if (plan.images.length === 0) {
    plan.preview = preview;
  }
  return plan;
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}

function render({ model, el }: RenderProps<WidgetModel>): () => void {
  const read = (key: keyof WidgetModel): unknown => model.get(key);
  // blob: URLs this view creates itself (none yet; binary traits will add them).
  const ownBlobUrls = new Set<string>();

  const root = h("div", "conduit-widget");

  const header = h("div", "cw-header");
  const badge = h("span", "cw-status");
  const percent = h("span", "cw-percent");
  header.append(badge, percent);

  const track = h("div", "cw-progress");
  track.setAttribute("role", "progressbar");
  track.setAttribute("aria-valuemin", "0");
  track.setAttribute("aria-valuemax", "100");
  track.setAttribute("aria-label", "Generation progress");
  const fill = h("div", "cw-progress-fill");
  track.append(fill);

  const message = h("div", "cw-message");
  message.setAttribute("aria-live", "polite");

  const errorPanel = h("div", "cw-error");
  errorPanel.setAttribute("role", "alert");

  const media = h("div", "cw-media");

  root.append(header, track, message, errorPanel, media);
  el.append(root);

  let refusals: string[] = [];
  let loadErrors: string[] = [];
  let lastMediaKey = "";
  let mediaGeneration = 0;

  const updateStatus = (): void => {
    const status = asString(read("status")).trim() || "idle";
    badge.textContent = status;
    badge.dataset["status"] = status.toLowerCase().replace(/[^a-z0-9_-]/g, "");
    const progress = read("progress");
    const pct = clampPercent(typeof progress === "number" ? progress : Number.NaN);
    track.setAttribute("aria-valuenow", String(pct));
    track.setAttribute("aria-valuetext", `${pct}%`);
    fill.style.width = `${pct}%`;
    percent.textContent = `${pct}%`;
  };

  const updateMessage = (): void => {
    const text = asString(read("message"));
    message.textContent = text;
    message.hidden = text === "";
  };

  const updateErrors = (): void => {
    const lines = [asString(read("error")).trim(), ...refusals, ...loadErrors].filter((s) => s !== "");
    errorPanel.replaceChildren(
      ...lines.map((line) => {
        const row = h("div", "cw-error-line");
        row.textContent = line;
        return row;
      }),
    );
    errorPanel.hidden = lines.length === 0;
  };

  const onLoadError = (what: string): (() => void) => {
    const generation = mediaGeneration;
    return () => {
      if (generation !== mediaGeneration) {
        return; // an element that has since been replaced
      }
      loadErrors.push(`Could not load ${what}.`);
      updateErrors();
    };
  };

  const updateMedia = (): void => {
    const state: Partial<Record<keyof MediaState, unknown>> = {};
    for (const key of MEDIA_TRAITS) {
      state[key] = read(key);
    }
    const plan = planMedia(state, { ownBlobUrls });
    refusals = plan.refusals;
    const key = JSON.stringify([plan.images, plan.video, plan.poster, plan.preview, plan.alt]);
    if (key !== lastMediaKey) {
      lastMediaKey = key;
      mediaGeneration += 1;
      loadErrors = [];
      const children: HTMLElement[] = [];
      if (plan.video !== null) {
        const video = h("video", "cw-video");
        video.controls = true;
        video.preload = "metadata";
        video.playsInline = true;
        if (plan.poster !== null) {
          video.poster = plan.poster;
        }
        video.addEventListener("error", onLoadError("the video"));
        video.src = plan.video;
        children.push(video);
      } else if (plan.images.length > 0) {
        const many = plan.images.length > 1;
        plan.images.forEach((url, i) => {
          const img = h("img", "cw-image");
          img.alt = many ? `${plan.alt} (${i + 1} of ${plan.images.length})` : plan.alt;
          img.decoding = "async";
          img.addEventListener("error", onLoadError(many ? `image ${i + 1}` : "the image"));
          img.src = url;
          children.push(img);
        });
      } else if (plan.preview !== null) {
        const img = h("img", "cw-image cw-preview");
        img.alt = `Preview: ${plan.alt}`;
        img.decoding = "async";
        img.addEventListener("error", onLoadError("the preview"));
        img.src = plan.preview;
        children.push(img);
      } else {
        const placeholder = h("div", "cw-placeholder");
        placeholder.textContent = "No result yet";
        children.push(placeholder);
      }
      media.classList.toggle("cw-many", plan.video === null && plan.images.length > 1);
      media.replaceChildren(...children);
    }
    updateErrors();
  };

  const listeners: Array<[string, () => void]> = [
    ["change:status", updateStatus],
    ["change:progress", updateStatus],
    ["change:message", updateMessage],
    ["change:error", updateErrors],
    ...MEDIA_TRAITS.map((t): [string, () => void] => [`change:${t}`, updateMedia]),
  ];
  for (const [event, fn] of listeners) {
    model.on(event, fn);
  }

  updateStatus();
  updateMessage();
  updateMedia();

  return () => {
    for (const [event, fn] of listeners) {
      model.off(event, fn);
    }
    root.remove();
    for (const url of ownBlobUrls) {
      URL.revokeObjectURL(url);
    }
    ownBlobUrls.clear();
  };
}

export default { render } satisfies AnyWidget<WidgetModel>;
