// Hides the kernel's static copy of the result. The kernel writes it next to
// the widget for front ends without widgets; where this view renders, it would
// show the result twice. The copy may be written (or rewritten, through a
// display handle) after the view renders, hence the observer.
// Only while the view shows a final status: a model saved before its run ended
// (pending, 0 %) shows no result, so the copy is the only one the reader gets.
// A live re-run does not show an old copy: the kernel empties it first.

import { isFinal } from "./traits";

const ATTR = "data-conduit-static";


/** Hides (or shows again, `hide` false) every element whose data-conduit-static equals `id`; returns how many. */
export function hideStaticCopies(doc: Document, id: string, hide = true): number {
  if (id === "") {
    return 0;
  }
  let count = 0;
  // Compared as an attribute value, never put into a selector, so no id can change the query.
  for (const node of doc.querySelectorAll<HTMLElement>(`[${ATTR}]`)) {
    if (node.getAttribute(ATTR) === id) {
      node.hidden = hide;
      node.style.display = hide ? "none" : "";
      count += 1;
    }
  }
  return count;
}

function mayHoldCopy(node: Node): boolean {
  if (!(node instanceof Element)) {
    return false;
  }
  return node.hasAttribute(ATTR) || node.querySelector(`[${ATTR}]`) !== null;
}

export interface StaticCopyHider {
  /** Checks again, for the current id and status (call when static_id or status changes). */
  check(): void;
  dispose(): void;
}

const LATE_CHECK_MS = 300;

export function createStaticCopyHider(
  getId: () => string,
  getStatus: () => string,
  doc: Document = document,
): StaticCopyHider {
  const check = (): void => {
    hideStaticCopies(doc, getId(), isFinal(getStatus()));
  };
  const observer =
    typeof MutationObserver === "function" && doc.body
      ? new MutationObserver((records) => {
          // Cheap filter: most mutations in a notebook page are unrelated.
          if (records.some((r) => [...r.addedNodes].some(mayHoldCopy))) {
            check();
          }
        })
      : null;
  observer?.observe(doc.body, { childList: true, subtree: true });
  const late = setTimeout(check, LATE_CHECK_MS);
  check();
  return {
    check,
    dispose: () => {
      clearTimeout(late);
      observer?.disconnect();
    },
  };
}
