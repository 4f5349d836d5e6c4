// Anywidget front-end module for conduit_widget.Gallery: one header for the
// whole set (connection, backend, "4 of 9", Cancel all) over tiles that are
// just the picture and a thin progress line; prompt and details show on hover
// and on keyboard focus. A tile's click or Enter opens the lightbox over the page.
import type { AnyWidget, RenderProps } from "@anywidget/types";
import { button, h, setHidden, setPrefixedClass, setText } from "./dom";
import { type Presence, askForKernel } from "./restored";
import {
  canCancel,
  type GalleryCommand,
  type GalleryModel,
  readTiles,
  safePicture,
  setProgress,
  type TileState,
} from "./gallery-traits";
import { type LightboxItem, openLightbox } from "./lightbox";
import { createStaticCopyHider } from "./static-copy";
import { asNumber, asString, asStringArray, classSuffix, isFinal } from "./traits";

export type { GalleryModel } from "./gallery-traits";

interface TileView {
  el: HTMLElement;
  picture: HTMLImageElement;
  state: HTMLElement;
  line: HTMLElement;
  prompt: HTMLElement;
  details: HTMLElement;
  cancel: HTMLButtonElement;
  retry: HTMLButtonElement;
}

function statusWords(t: TileState): string {
  if (t.status === "queued") {
    return "queued";
  }
  if (t.status === "pending" || t.status === "processing") {
    return `${Math.round(t.progress)}%`;
  }
  if (t.status === "completed") {
    return `done in ${t.elapsed_seconds.toFixed(1)} s`;
  }
  return t.error || t.status;
}

function render({ model, el }: RenderProps<GalleryModel>): () => void {
  const dom = new AbortController();
  const signal = dom.signal;
  const send = (type: GalleryCommand, index = -1): void => model.send({ type, index });

  const root = h("div", "conduit-gallery");
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  const header = h("div", "cg-header");
  const conn = h("span", "cg-conn");
  const backend = h("span", "cg-backend");
  const count = h("span", "cg-count");
  count.setAttribute("aria-live", "polite");
  const bar = h("div", "cg-bar");
  const barFill = h("div", "cg-bar-fill");
  bar.append(barFill);
  const cancelAll = button("Cancel all", "cg-cancel-all", () => send("cancel_all"), signal);
  header.append(conn, backend, count, bar, cancelAll);
  const grid = h("ul", "cg-grid");
  root.append(header, grid);
  el.append(root);

  const views: TileView[] = [];
  let tiles: TileState[] = [];
  let pictures: string[] = [];

  const openAt = (index: number, from: HTMLElement): void => {
    const shown = tiles.map((t, i) => ({ t, i, src: safePicture(pictures[i]) })).filter((x) => x.src !== "");
    const at = shown.findIndex((x) => x.i === index);
    if (at < 0) {
      return;
    }
    const items: LightboxItem[] = shown.map(({ t, src }) => ({
      src,
      alt: t.prompt,
      caption: t.prompt,
      ...(t.full_url ? { fullUrl: t.full_url } : {}),
    }));
    openLightbox(items, at, from);
  };

  const makeView = (index: number): TileView => {
    const tile = h("li", "cg-tile");
    tile.tabIndex = 0;
    const picture = h("img", "cg-picture");
    picture.decoding = "async";
    const state = h("div", "cg-state");
    const line = h("div", "cg-line");
    const details = h("div", "cg-details");
    const prompt = h("div", "cg-prompt");
    const info = h("div", "cg-info");
    const cancel = button("Cancel", "cg-cancel", () => send("cancel", index), signal);
    const retry = button("Retry", "cg-retry", () => send("retry", index), signal);
    details.append(prompt, info, cancel, retry);
    tile.append(picture, state, line, details);
    tile.addEventListener("click", (e) => {
      if (!(e.target instanceof HTMLButtonElement)) {
        openAt(index, tile);
      }
    }, { signal });
    tile.addEventListener("keydown", (e) => {
      if ((e.key === "Enter" || e.key === " ") && e.target === tile) {
        e.preventDefault();
        openAt(index, tile);
      }
    }, { signal });
    return { el: tile, picture, state, line, prompt, details: info, cancel, retry };
  };

  const update = (): void => {
    tiles = readTiles(model.get("tiles"));
    pictures = asStringArray(model.get("pictures"));
    const columns = Math.min(12, Math.max(1, Math.round(asNumber(model.get("columns"), 4))));
    root.style.setProperty("--cg-columns", String(columns));

    const state = asString(model.get("connection")).trim().toLowerCase();
    setText(conn, state);
    setPrefixedClass(conn, "cg-conn-", classSuffix(state));
    setHidden(conn, state === "");
    const name = asString(model.get("backend")).trim();
    setText(backend, name);
    backend.classList.toggle("cg-backend-sim", /simulat/i.test(name));
    setHidden(backend, name === "");
    const set = setProgress(tiles);
    setText(count, set.text);
    barFill.style.width = set.total === 0 ? "0" : `${(100 * set.ended) / set.total}%`;
    cancelAll.disabled = !tiles.some((t) => canCancel(t.status));

    while (views.length < tiles.length) {
      const view = makeView(views.length);
      views.push(view);
      grid.append(view.el);
    }
    tiles.forEach((t, i) => {
      const v = views[i];
      if (v === undefined) {
        return;
      }
      setPrefixedClass(v.el, "cg-status-", classSuffix(t.status));
      v.el.dataset.status = t.status;
      const src = safePicture(pictures[i]);
      if (v.picture.getAttribute("src") !== (src || null)) {
        if (src) {
          v.picture.src = src;
        } else {
          v.picture.removeAttribute("src");
        }
      }
      v.picture.alt = t.prompt;
      setHidden(v.picture, src === "");
      const words = statusWords(t);
      setText(v.state, words);
      setHidden(v.state, src !== "" && t.status === "completed");
      v.line.style.width = `${t.status === "completed" ? 100 : t.progress}%`;
      setText(v.prompt, t.prompt);
      setText(v.details, t.status === "completed" ? words : `${t.status}${t.message ? `: ${t.message}` : ""}`);
      setHidden(v.cancel, !canCancel(t.status));
      setHidden(v.retry, !(t.retryable && !canCancel(t.status) && t.status !== "completed"));
      v.el.setAttribute("aria-label", `${t.prompt}: ${words}`);
      v.el.title = t.error ? `${t.prompt}\n${t.error}` : t.prompt;
    });
  };

  // The copy is hidden only while this view shows a finished set that a kernel holds: a gallery saved part-way,
  // or restored with no kernel behind it (restored.ts), leaves it visible, as a widget does.
  let presence: Presence = "asking";
  const setStatus = (): string => {
    if (presence === "earlier") {
      return "earlier";
    }
    return tiles.length > 0 && tiles.every((t) => isFinal(t.status) || t.status === "invalid") ? "completed" : "processing";
  };
  const staticCopy = createStaticCopyHider(() => asString(model.get("static_id")), setStatus);
  const kernel = askForKernel(model, () => send("hello"), [header, grid], (state) => {
    presence = state;
    root.classList.toggle("cg-earlier", state === "earlier");
    staticCopy.check();
  });
  header.after(kernel.el);
  const names = ["tiles", "pictures", "columns", "connection", "backend"] as const;
  for (const name of names) {
    model.on(`change:${name}`, update);
  }
  model.on("change:static_id", staticCopy.check);
  model.on("change:tiles", staticCopy.check);
  update();
  staticCopy.check(); // with the tiles read: a kernel may have answered before they were

  return () => {
    for (const name of names) {
      model.off(`change:${name}`, update);
    }
    model.off("change:static_id", staticCopy.check);
    model.off("change:tiles", staticCopy.check);
    staticCopy.dispose();
    kernel.dispose();
    dom.abort();
  };
}

export default { render } satisfies AnyWidget<GalleryModel>;
