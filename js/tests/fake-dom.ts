// A deliberately tiny stand-in for the few DOM features widget.ts uses, so the
// view can be rendered in vitest's node environment without jsdom. It refuses
// every HTML-parsing entry point, so a test fails if the widget ever uses one.

type Listener = (...args: unknown[]) => void;

export class FakeElement {
  readonly tagName: string;
  className = "";
  children: FakeElement[] = [];
  parent: FakeElement | null = null;
  hidden = false;
  readonly attributes = new Map<string, string>();
  readonly dataset: Record<string, string> = {};
  readonly style: Record<string, string> = {};
  readonly listeners = new Map<string, Listener[]>();
  private ownText = "";
  // media element properties
  src = "";
  alt = "";
  poster = "";
  controls = false;
  preload = "";
  playsInline = false;
  decoding = "";

  constructor(tag: string) {
    this.tagName = tag.toUpperCase();
  }

  get classList() {
    const names = () => this.className.split(/\s+/).filter(Boolean);
    return {
      contains: (n: string) => names().includes(n),
      toggle: (n: string, force?: boolean) => {
        const has = names().includes(n);
        const want = force ?? !has;
        this.className = want ? [...names().filter((x) => x !== n), n].join(" ") : names().filter((x) => x !== n).join(" ");
        return want;
      },
    };
  }

  get textContent(): string {
    return this.ownText + this.children.map((c) => c.textContent).join("");
  }
  set textContent(v: string) {
    this.replaceChildren();
    this.ownText = v;
  }

  set innerHTML(_v: string) {
    throw new Error("innerHTML must not be used");
  }
  set outerHTML(_v: string) {
    throw new Error("outerHTML must not be used");
  }
  insertAdjacentHTML(): never {
    throw new Error("insertAdjacentHTML must not be used");
  }

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }

  append(...nodes: FakeElement[]): void {
    for (const n of nodes) {
      n.remove();
      n.parent = this;
      this.children.push(n);
    }
  }
  replaceChildren(...nodes: FakeElement[]): void {
    for (const c of this.children) {
      c.parent = null;
    }
    this.children = [];
    this.ownText = "";
    this.append(...nodes);
  }
  remove(): void {
    if (this.parent) {
      this.parent.children = this.parent.children.filter((c) => c !== this);
      this.parent = null;
    }
  }

  addEventListener(type: string, fn: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  dispatch(type: string): void {
    for (const fn of this.listeners.get(type) ?? []) {
      fn();
    }
  }

  /** All descendants (depth first) matching a class name or tag name. */
  findAll(pred: (e: FakeElement) => boolean): FakeElement[] {
    return this.children.flatMap((c) => [...(pred(c) ? [c] : []), ...c.findAll(pred)]);
  }
  byClass(name: string): FakeElement[] {
    return this.findAll((e) => e.classList.contains(name));
  }
  one(name: string): FakeElement {
    const [first, ...rest] = this.byClass(name);
    if (!first || rest.length > 0) {
      throw new Error(`expected exactly one .${name}`);
    }
    return first;
  }
}

export const fakeDocument = {
  createElement: (tag: string) => new FakeElement(tag),
};

/** A minimal anywidget model: get/set/on/off, with change events. */
export class FakeModel<T extends Record<string, unknown>> {
  readonly handlers = new Map<string, Set<() => void>>();
  constructor(private state: T) {}

  get<K extends keyof T>(key: K): T[K] {
    return this.state[key];
  }
  set<K extends keyof T>(key: K, value: T[K]): void {
    this.state = { ...this.state, [key]: value };
    for (const fn of this.handlers.get(`change:${String(key)}`) ?? []) {
      fn();
    }
  }
  on(event: string, fn: () => void): void {
    if (!this.handlers.has(event)) {
      this.handlers.set(event, new Set());
    }
    this.handlers.get(event)?.add(fn);
  }
  off(event?: string | null, fn?: (() => void) | null): void {
    if (event && fn) {
      this.handlers.get(event)?.delete(fn);
    }
  }
  listenerCount(): number {
    return [...this.handlers.values()].reduce((n, s) => n + s.size, 0);
  }
  save_changes(): void {}
  send(): void {}
}
