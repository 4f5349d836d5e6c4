// A full-page image viewer over the whole document, not inside the widget's box,
// so a multi-image result is seen at full size. It is appended to document.body:
// outside the widget's DOM the widget's stylesheet may not reach it (marimo puts
// a widget in a shadow root), so it carries its own few styles, scoped to its
// class. Arrow keys move through the items, Esc, the close button and a click on
// the backdrop close it and give focus back to where it was; focus stays inside
// while it is open.
import { h } from "./dom";
import { allowedType } from "./download";

export interface LightboxItem {
  src: string;
  alt: string;
  caption?: string;
  /** The full-size original, when `src` is a smaller rendition; `src` otherwise. */
  fullUrl?: string;
}

const STYLE = `
.cw-lightbox{position:fixed;inset:0;z-index:100000;display:flex;flex-direction:column;
  background:rgba(0,0,0,.88);color:#f5f5f5;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.cw-lightbox *{box-sizing:border-box}
.cw-lightbox-bar{display:flex;align-items:center;gap:8px;padding:8px 12px;flex:none}
.cw-lightbox-count{font-variant-numeric:tabular-nums;opacity:.85}
.cw-lightbox-caption{flex:1 1 auto;min-width:0;overflow:hidden;white-space:nowrap;text-overflow:ellipsis}
.cw-lightbox-stage{flex:1 1 auto;min-height:0;display:flex;align-items:center;justify-content:center;padding:0 56px 16px}
.cw-lightbox-img{display:block;max-width:100%;max-height:100%;object-fit:contain;background:#fff1}
.cw-lightbox button,.cw-lightbox a{color:inherit;background:#ffffff1f;border:1px solid #ffffff55;border-radius:4px;
  padding:4px 10px;font:inherit;cursor:pointer;text-decoration:none}
.cw-lightbox button:hover,.cw-lightbox a:hover{background:#ffffff33}
.cw-lightbox :focus-visible{outline:2px solid #8ab4f8;outline-offset:2px}
.cw-lightbox-nav{position:absolute;top:50%;transform:translateY(-50%);font-size:22px;line-height:1;padding:10px 12px}
.cw-lightbox-prev{left:8px}
.cw-lightbox-next{right:8px}
.cw-lightbox [hidden]{display:none!important}
`;

/** Schemes the "open full size" link may open; anything else gets no link. */
const OPENABLE = /^(https?:|blob:|data:)/i;

let closeCurrent: (() => void) | null = null;

/** Opens a data: URL (which browsers refuse to open as a page) as a blob: URL of an allowed image type, so
 * neither an SVG nor an HTML document with script is ever opened from the page's origin. */
async function openInline(url: string): Promise<void> {
  const blob = await (await fetch(url)).blob();
  const type = allowedType(blob.type, "image");
  if (type === "") {
    return;
  }
  const local = URL.createObjectURL(new Blob([blob], { type }));
  window.open(local, "_blank", "noopener");
  // The new tab has loaded it by then; the URL would otherwise live as long as the page.
  setTimeout(() => URL.revokeObjectURL(local), 60_000);
}

/**
 * Shows `items[index]` over the whole page. Returns a function that closes it (closing twice is harmless).
 * Opening another closes this one first. Focus goes back to `returnFocus` on close, if it is still in the page.
 */
export function openLightbox(items: LightboxItem[], index: number, returnFocus: HTMLElement | null): () => void {
  closeCurrent?.();
  if (items.length === 0) {
    return () => undefined;
  }
  let current = Math.min(Math.max(0, Math.trunc(index) || 0), items.length - 1);
  const ac = new AbortController();
  const signal = ac.signal;

  const root = h("div", "cw-lightbox");
  root.setAttribute("role", "dialog");
  root.setAttribute("aria-modal", "true");
  root.setAttribute("aria-label", "Image viewer");
  // JupyterLab must not run notebook shortcuts on keys pressed here (it looks for this on the target's ancestors).
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  const style = document.createElement("style");
  style.textContent = STYLE;

  const bar = h("div", "cw-lightbox-bar");
  const count = h("span", "cw-lightbox-count");
  const caption = h("span", "cw-lightbox-caption");
  const full = h("a", "cw-lightbox-full", "Open full size");
  full.target = "_blank";
  full.rel = "noopener noreferrer";
  const close = h("button", "cw-lightbox-close", "×");
  close.type = "button";
  close.setAttribute("aria-label", "Close image viewer");
  close.title = "Close (Esc)";
  bar.append(count, caption, full, close);

  const stage = h("div", "cw-lightbox-stage");
  const img = h("img", "cw-lightbox-img");
  img.decoding = "async";
  stage.append(img);
  const prev = h("button", "cw-lightbox-nav cw-lightbox-prev", "‹");
  prev.type = "button";
  prev.setAttribute("aria-label", "Previous image");
  const next = h("button", "cw-lightbox-nav cw-lightbox-next", "›");
  next.type = "button";
  next.setAttribute("aria-label", "Next image");
  root.append(style, bar, stage, prev, next);

  const show = (i: number): void => {
    current = (i + items.length) % items.length;
    const item = items[current] as LightboxItem;
    img.src = item.src;
    img.alt = item.alt;
    count.textContent = items.length > 1 ? `${current + 1} / ${items.length}` : "";
    caption.textContent = item.caption ?? item.alt;
    caption.title = caption.textContent;
    const target = item.fullUrl ?? item.src;
    full.hidden = !OPENABLE.test(target);
    full.href = full.hidden ? "" : target;
    prev.hidden = next.hidden = items.length < 2;
  };

  const focusables = (): HTMLElement[] =>
    [full, close, prev, next].filter((node) => !node.hidden && node.isConnected) as HTMLElement[];

  const dismiss = (): void => {
    if (signal.aborted) {
      return;
    }
    ac.abort();
    root.remove();
    if (closeCurrent === dismiss) {
      closeCurrent = null;
    }
    if (returnFocus?.isConnected) {
      returnFocus.focus();
    }
  };

  close.addEventListener("click", dismiss, { signal });
  prev.addEventListener("click", () => show(current - 1), { signal });
  next.addEventListener("click", () => show(current + 1), { signal });
  // The backdrop is the stage around the image and the bar's empty space; the image and the controls are not.
  root.addEventListener(
    "click",
    (e) => {
      if (e.target === root || e.target === stage || e.target === bar) {
        dismiss();
      }
    },
    { signal },
  );
  full.addEventListener(
    "click",
    (e) => {
      // A data: URL cannot be opened as a page; a blob: URL from the widget already has a forced image type.
      if (full.href.startsWith("data:")) {
        e.preventDefault();
        void openInline(full.href).catch(() => undefined);
      }
    },
    { signal },
  );
  root.addEventListener(
    "keydown",
    (e) => {
      let handled = true;
      if (e.key === "Escape") {
        dismiss();
      } else if (e.key === "ArrowRight" || e.key === "ArrowDown") {
        show(current + 1);
      } else if (e.key === "ArrowLeft" || e.key === "ArrowUp") {
        show(current - 1);
      } else if (e.key === "Home") {
        show(0);
      } else if (e.key === "End") {
        show(items.length - 1);
      } else if (e.key === "Tab") {
        const nodes = focusables();
        const at = nodes.indexOf(document.activeElement as HTMLElement);
        const step = e.shiftKey ? -1 : 1;
        (nodes[(at + step + nodes.length) % nodes.length] ?? close).focus();
      } else {
        handled = false;
      }
      if (handled) {
        e.preventDefault();
        e.stopPropagation();
      }
    },
    { signal },
  );
  // Focus that leaves (a click elsewhere is impossible under the backdrop, but script or the browser may move it)
  // comes back.
  document.addEventListener(
    "focusin",
    (e) => {
      if (!root.contains(e.target as Node)) {
        close.focus();
      }
    },
    { signal },
  );

  show(current);
  document.body.append(root);
  close.focus();
  closeCurrent = dismiss;
  return dismiss;
}
