// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { openLightbox } from "../lightbox";

const items = [
  { src: "https://x.example/1.png", alt: "one" },
  { src: "https://x.example/2.png", alt: "two", caption: "the second", fullUrl: "https://x.example/2-full.png" },
  { src: "data:image/png;base64,iVBORw0KGgo=", alt: "three" },
];

const box = () => document.body.querySelector<HTMLElement>(".cw-lightbox");
const shown = () => box()?.querySelector<HTMLImageElement>(".cw-lightbox-img")?.getAttribute("src");
const press = (key: string, init: KeyboardEventInit = {}): KeyboardEvent => {
  const event = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init });
  (document.activeElement ?? document.body).dispatchEvent(event);
  return event;
};

let close: () => void = () => undefined;
afterEach(() => {
  close();
  document.body.replaceChildren();
});

describe("openLightbox", () => {
  it("covers the page from document.body with its own styles, as a modal dialog", () => {
    close = openLightbox(items, 0, null);
    const root = box();
    expect(root?.parentElement).toBe(document.body);
    expect(root?.getAttribute("role")).toBe("dialog");
    expect(root?.getAttribute("aria-modal")).toBe("true");
    expect(root?.querySelector("style")?.textContent).toContain(".cw-lightbox{position:fixed;inset:0");
  });

  it("arrow keys move through the items and wrap; Home and End jump", () => {
    close = openLightbox(items, 1, null);
    expect(shown()).toBe(items[1]?.src);
    expect(box()?.textContent).toContain("2 / 3");
    expect(press("ArrowRight").defaultPrevented).toBe(true);
    expect(shown()).toBe(items[2]?.src);
    press("ArrowRight");
    expect(shown()).toBe(items[0]?.src);
    press("ArrowLeft");
    expect(shown()).toBe(items[2]?.src);
    press("Home");
    expect(shown()).toBe(items[0]?.src);
    press("End");
    expect(shown()).toBe(items[2]?.src);
  });

  it("Esc closes it and gives focus back; closing twice is harmless", () => {
    const opener = document.createElement("button");
    document.body.append(opener);
    close = openLightbox(items, 0, opener);
    expect(document.activeElement?.className).toBe("cw-lightbox-close");
    press("Escape");
    expect(box()).toBeNull();
    expect(document.activeElement).toBe(opener);
    close();
    expect(document.activeElement).toBe(opener);
  });

  it("a click on the backdrop closes it, a click on the image does not", () => {
    close = openLightbox(items, 0, null);
    box()?.querySelector<HTMLElement>(".cw-lightbox-img")?.click();
    expect(box()).not.toBeNull();
    box()?.querySelector<HTMLElement>(".cw-lightbox-stage")?.click();
    expect(box()).toBeNull();
  });

  it("'Open full size' links the full URL when given, the image otherwise, in a new tab without an opener", () => {
    close = openLightbox(items, 1, null);
    const link = () => box()?.querySelector<HTMLAnchorElement>(".cw-lightbox-full");
    expect(link()?.getAttribute("href")).toBe("https://x.example/2-full.png");
    expect(link()?.rel).toBe("noopener noreferrer");
    expect(link()?.target).toBe("_blank");
    press("ArrowLeft");
    expect(link()?.getAttribute("href")).toBe("https://x.example/1.png");
  });

  it("offers no link for a scheme it does not open", () => {
    close = openLightbox([{ src: "https://x.example/1.png", alt: "one", fullUrl: "javascript:alert(1)" }], 0, null);
    expect(box()?.querySelector<HTMLAnchorElement>(".cw-lightbox-full")?.hidden).toBe(true);
  });

  it("Tab stays inside", () => {
    close = openLightbox(items, 0, null);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i += 1) {
      press("Tab");
      expect(box()?.contains(document.activeElement)).toBe(true);
      seen.add((document.activeElement as HTMLElement).className);
    }
    expect(seen.size).toBe(4); // the link, close, previous, next
  });

  it("one item: no arrows and no count; another lightbox replaces it", () => {
    close = openLightbox(items.slice(0, 1), 0, null);
    expect(box()?.querySelector<HTMLElement>(".cw-lightbox-next")?.hidden).toBe(true);
    expect(box()?.querySelector(".cw-lightbox-count")?.textContent).toBe("");
    close = openLightbox(items, 2, null);
    expect(document.body.querySelectorAll(".cw-lightbox")).toHaveLength(1);
    expect(shown()).toBe(items[2]?.src);
  });
});
