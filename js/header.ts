// Header: status badge, connection indicator and backend label.
import { h, setHidden, setPrefixedClass, setText } from "./dom";
import { classSuffix, type Traits } from "./traits";

export interface Header {
  el: HTMLElement;
  update(): void;
}

// "local simulator" must never pass for a real gateway.
const SIMULATOR_RE = /simulat/i;

export function createHeader(traits: Traits): Header {
  const el = h("div", "cw-header");
  const badge = h("span", "cw-status");
  const side = h("div", "cw-header-side");

  const conn = h("span", "cw-conn");
  const dot = h("span", "cw-conn-dot");
  dot.setAttribute("aria-hidden", "true");
  const connText = h("span", "cw-conn-text");
  conn.append(dot, connText);

  const backend = h("span", "cw-backend");
  side.append(conn, backend);
  el.append(badge, side);

  const update = (): void => {
    const status = traits.status();
    setText(badge, status);
    setPrefixedClass(badge, "cw-status-", classSuffix(status));

    const state = traits.str("connection").trim().toLowerCase();
    setText(connText, state);
    setPrefixedClass(conn, "cw-conn-", classSuffix(state));
    conn.title = `Connection to the server: ${state}`;
    setHidden(conn, state === "");

    const name = traits.str("backend").trim();
    setText(backend, name);
    backend.title = `Backend: ${name}`;
    backend.classList.toggle("cw-backend-sim", SIMULATOR_RE.test(name));
    setHidden(backend, name === "");
  };

  return { el, update };
}
