// The result area: image grid (a click opens the lightbox over the page), video
// player, download links, a preview while running, or a neutral placeholder. It is rebuilt only
// when what it shows changes, never on progress updates, so a playing video or
// a loaded image is left alone.
import { BlobStore } from "./blobs";
import { h, setText } from "./dom";
import { downloadLink } from "./download";
import type { FullMediaStore } from "./full-media";
import { openLightbox } from "./lightbox";
import { type MediaPlan, type MediaRef, planMedia } from "./media-plan";
import { type Kind, type Traits, isActive } from "./traits";

export interface MediaView {
  /** The result area (fixed minimum height). */
  el: HTMLElement;
  update(): void;
  /** Status-dependent placeholder text, updated in place. */
  updatePlaceholder(): void;
  /** Closes the lightbox and revokes the blob: URLs. */
  dispose(): void;
}

function placeholderText(status: string): string {
  if (isActive(status)) {
    return "Generating…";
  }
  if (status === "idle" || status === "invalid") {
    return "No result yet";
  }
  return status === "completed" ? "No result to show" : "No result";
}

/** `full` holds the full bytes the kernel sent this model (full-media.ts); without them the traits' bytes are shown,
 * small previews when media_is_preview says so. */
export function createMediaView(
  traits: Traits,
  onProblems: (lines: string[]) => void,
  signal: AbortSignal,
  full: FullMediaStore,
): MediaView {
  const store = new BlobStore();
  const el = h("div", "cw-media");
  const placeholder = h("div", "cw-placeholder");

  let shownKey = "";
  let generation = 0;
  let loadErrors: string[] = [];
  let downloadErrors: string[] = [];
  let planProblems: string[] = [];
  let closeLightbox: (() => void) | null = null;

  const report = (): void => onProblems([...store.refusals, ...planProblems, ...loadErrors, ...downloadErrors]);

  const onLoadError = (what: string): (() => void) => {
    const mine = generation;
    return () => {
      if (mine === generation) {
        loadErrors.push(`Could not load ${what}.`);
        report();
      }
    };
  };

  const openEnlarged = (tile: HTMLImageElement): void => {
    const tiles = [...el.querySelectorAll<HTMLImageElement>(".cw-grid .cw-image")];
    const items = tiles.map((t) => ({ src: t.src, alt: t.alt }));
    closeLightbox = openLightbox(items, Math.max(0, tiles.indexOf(tile)), tile);
  };

  const downloads = (refs: MediaRef[], kind: Kind): HTMLElement => {
    const row = h("div", "cw-downloads");
    const taskId = traits.str("task_id");
    const mine = generation;
    const onProblem = (line: string): void => {
      if (mine === generation) {
        downloadErrors = [line];
        report();
      }
    };
    refs.forEach((ref, index) => {
      const label = kind === "video" ? "video" : refs.length > 1 ? `image ${index + 1}` : "image";
      row.append(downloadLink(ref, { taskId, index, kind, label, onProblem, signal }));
    });
    return row;
  };

  const imageTile = (ref: MediaRef, alt: string, label: string): HTMLImageElement => {
    const img = h("img", "cw-image");
    img.alt = alt;
    img.decoding = "async";
    img.tabIndex = 0;
    img.setAttribute("role", "button");
    img.setAttribute("aria-label", `${alt}. Enlarge`);
    img.title = "Enlarge";
    img.addEventListener("error", onLoadError(label), { signal });
    img.addEventListener("click", () => openEnlarged(img), { signal });
    img.addEventListener(
      "keydown",
      (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          openEnlarged(img);
        }
      },
      { signal },
    );
    img.src = ref.url;
    return img;
  };

  const build = (plan: MediaPlan): HTMLElement[] => {
    if (plan.video !== null) {
      const video = h("video", "cw-video");
      video.controls = true;
      video.muted = false;
      video.preload = "metadata";
      video.setAttribute("playsinline", "");
      if (plan.poster !== null) {
        video.setAttribute("poster", plan.poster);
      }
      video.addEventListener("error", onLoadError("the video"), { signal });
      video.src = plan.video.url;
      return [video, downloads([plan.video], "video")];
    }
    if (plan.images.length > 0) {
      const count = plan.images.length;
      const grid = h("div", `cw-grid ${count > 1 ? "cw-cols-2" : "cw-cols-1"}`);
      plan.images.forEach((ref, i) => {
        const alt = count > 1 ? `${plan.alt} (${i + 1} of ${count})` : plan.alt;
        grid.append(imageTile(ref, alt, count > 1 ? `image ${i + 1}` : "the image"));
      });
      // A preview saved as the result's download would be a small JPEG under the result's name.
      const below = plan.previewsOnly
        ? h("div", "cw-downloads cw-preview-only", "Preview only: the full-size result was not saved with the notebook.")
        : downloads(plan.images, "image");
      return [grid, below];
    }
    if (plan.preview !== null) {
      const wrap = h("div", "cw-preview-wrap");
      const img = h("img", "cw-image cw-preview");
      img.alt = `Preview: ${plan.alt}`;
      img.decoding = "async";
      img.addEventListener("error", onLoadError("the preview"), { signal });
      img.src = plan.preview;
      wrap.append(img, h("span", "cw-preview-tag", "Preview"));
      return [wrap];
    }
    return [placeholder];
  };

  const update = (): void => {
    const sent = full.of(traits.str("task_id"));
    if (sent !== null) {
      store.sync(sent.media, sent.types, sent.poster, sent.posterType);
    } else {
      store.sync(traits.raw("media"), traits.raw("media_types"), traits.raw("poster"), traits.str("poster_type"));
    }
    const plan = planMedia(
      {
        kind: traits.kind(),
        image_url: traits.raw("image_url"),
        image_urls: traits.raw("image_urls"),
        video_url: traits.raw("video_url"),
        preview_url: traits.raw("preview_url"),
        prompt: traits.raw("prompt"),
      },
      { ownBlobUrls: store.own },
      { ...store.embedded, previewsOnly: sent === null && traits.bool("media_is_preview") },
    );
    planProblems = plan.refusals;
    // The alt text (from the prompt) is left out: editing the prompt must not reload the result.
    const key = JSON.stringify([plan.images, plan.video, plan.poster, plan.preview, plan.previewsOnly, traits.str("task_id")]);
    if (key !== shownKey) {
      shownKey = key;
      generation += 1;
      loadErrors = [];
      downloadErrors = [];
      el.replaceChildren(...build(plan));
      // After the replacement: the tile that opened it is gone, so focus is not sent back to it.
      closeLightbox?.();
      el.classList.toggle("cw-has-result", plan.video !== null || plan.images.length > 0);
    }
    report();
  };

  const updatePlaceholder = (): void => {
    const status = traits.status();
    setText(placeholder, placeholderText(status));
    // A run that ended without a result (failed, cancelled, timed out) has nothing to make room for: its error
    // panel says why, and a 256 px empty box would only make it as tall as a finished widget.
    el.classList.toggle("cw-media-ended-empty", !isActive(status) && !["idle", "invalid", "completed"].includes(status));
  };

  const stopListening = full.subscribe(update);

  const dispose = (): void => {
    stopListening();
    closeLightbox?.();
    store.dispose();
  };

  return { el, update, updatePlaceholder, dispose };
}
