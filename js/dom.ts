// DOM helpers. Everything the widget shows is built here with createElement
// and textContent: no trait value is ever parsed as HTML.

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className !== "") {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** Writes text only when it differs, so live regions do not re-announce unchanged text. */
export function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) {
    node.textContent = text;
  }
}

export function setHidden(node: HTMLElement, hidden: boolean): void {
  if (node.hidden !== hidden) {
    node.hidden = hidden;
  }
}

/** Replaces the one class that starts with `prefix` (e.g. "cw-status-"). */
export function setPrefixedClass(node: HTMLElement, prefix: string, suffix: string): void {
  for (const name of [...node.classList]) {
    if (name.startsWith(prefix) && name !== `${prefix}${suffix}`) {
      node.classList.remove(name);
    }
  }
  node.classList.add(`${prefix}${suffix}`);
}

/**
 * A control wrapped in its <label>: the implicit association needs no id, so
 * several views of one model in the same page cannot collide.
 */
export function labelled(text: string, control: HTMLElement, className = ""): HTMLLabelElement {
  const label = h("label", `cw-field ${className}`.trim());
  label.append(h("span", "cw-label", text), control);
  return label;
}

export function button(text: string, className: string, onClick: () => void, signal: AbortSignal): HTMLButtonElement {
  const node = h("button", `cw-button ${className}`, text);
  node.type = "button";
  node.addEventListener("click", onClick, { signal });
  return node;
}
