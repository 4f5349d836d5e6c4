// A minimal full-page picture viewer with the signature the dense widget's
// lightbox (branch i19-dense) has; theirs replaces this file at merge.
import { h } from "./dom";

export interface LightboxItem {
  src: string;
  alt: string;
  caption?: string;
  fullUrl?: string;
}

/** Shows items[index] over the whole page; arrows move, Esc closes and gives focus back. Returns a closer. */
export function openLightbox(items: LightboxItem[], index: number, returnFocus: HTMLElement | null): () => void {
  const doc = returnFocus?.ownerDocument ?? document;
  const box = h("div", "cw-lightbox");
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-modal", "true");
  box.tabIndex = -1;
  Object.assign(box.style, {
    position: "fixed",
    inset: "0",
    zIndex: "10000",
    display: "flex",
    flexDirection: "column",
    alignItems: "center",
    justifyContent: "center",
    gap: "8px",
    background: "rgba(0, 0, 0, 0.88)",
    color: "#fff",
  });
  const img = h("img", "cw-lightbox-image");
  Object.assign(img.style, { maxWidth: "92vw", maxHeight: "82vh", objectFit: "contain" });
  const caption = h("div", "cw-lightbox-caption");
  const full = h("a", "cw-lightbox-full", "open full size");
  full.target = "_blank";
  full.rel = "noopener noreferrer";
  Object.assign(full.style, { color: "#9cf" }); // constant: the page's link colour may not read on black
  box.append(img, caption, full);
  let at = index;
  const show = (): void => {
    const item = items[at];
    if (item === undefined) {
      return;
    }
    img.src = item.src;
    img.alt = item.alt;
    caption.textContent = `${item.caption ?? item.alt} (${at + 1} of ${items.length})`;
    full.hidden = !item.fullUrl;
    full.href = item.fullUrl ?? "";
    box.dataset.index = String(at);
  };
  const close = (): void => {
    box.remove();
    returnFocus?.focus();
  };
  box.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      close();
    } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      at = (at + (e.key === "ArrowRight" ? 1 : items.length - 1)) % items.length;
      show();
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  });
  box.addEventListener("click", (e) => {
    if (e.target === box) {
      close();
    }
  });
  show();
  doc.body.append(box);
  box.focus();
  return close;
}
