// Test harness: a minimal anywidget model and a mount() that renders the
// widget into happy-dom's document. Test files that use it start with
// `// @vitest-environment happy-dom`.
import type { RenderProps } from "@anywidget/types";
import widget from "../widget";
import type { WidgetModel } from "../traits";

type Handler = (...args: unknown[]) => void;

// Like the source scan, but at run time: any HTML-parsing entry point fails the test.
for (const name of ["innerHTML", "outerHTML"] as const) {
  const original = Object.getOwnPropertyDescriptor(Element.prototype, name);
  Object.defineProperty(Element.prototype, name, {
    configurable: true,
    // Reading stays allowed: vitest prints elements with it in failure messages.
    ...(original?.get ? { get: original.get } : {}),
    set() {
      throw new Error(`${name} must not be used`);
    },
  });
}
Element.prototype.insertAdjacentHTML = () => {
  throw new Error("insertAdjacentHTML must not be used");
};

/** get/set/on/off/save_changes/send, with change events fired synchronously as Backbone does. */
export class FakeModel {
  readonly handlers = new Map<string, Set<Handler>>();
  readonly sent: unknown[] = [];
  hellos = 0;
  /** Trait values at each save_changes, to check what was pushed to the kernel. */
  readonly saved: Array<Partial<WidgetModel>> = [];
  private dirty: Partial<WidgetModel> = {};

  constructor(
    private state: WidgetModel,
    readonly kernelAnswers = true,
  ) {}

  get<K extends keyof WidgetModel>(key: K): WidgetModel[K] {
    return this.state[key];
  }
  set<K extends keyof WidgetModel>(key: K, value: WidgetModel[K]): void {
    this.state = { ...this.state, [key]: value };
    this.dirty = { ...this.dirty, [key]: value };
    for (const fn of this.handlers.get(`change:${key}`) ?? []) {
      fn();
    }
  }
  /** A kernel-side update: like set, but not something the view should save. */
  kernel(update: Partial<WidgetModel>): void {
    for (const [key, value] of Object.entries(update)) {
      this.set(key as keyof WidgetModel, value as never);
    }
    this.dirty = {};
  }
  on(event: string, fn: Handler): void {
    if (!this.handlers.has(event)) {
      this.handlers.set(event, new Set());
    }
    this.handlers.get(event)?.add(fn);
  }
  off(event?: string | null, fn?: Handler | null): void {
    if (event && fn) {
      this.handlers.get(event)?.delete(fn);
    }
  }
  listenerCount(): number {
    return [...this.handlers.values()].reduce((n, s) => n + s.size, 0);
  }
  save_changes(): void {
    this.saved.push(this.dirty);
    this.dirty = {};
  }
  send(content: unknown): void {
    if ((content as { type?: unknown })?.type !== "hello") {
      this.sent.push(content);
      return;
    }
    // Kept apart from the commands: a kernel answers a view's hello (restored.ts); a restored model's kernel does not.
    this.hellos += 1;
    if (this.kernelAnswers) {
      for (const fn of this.handlers.get("msg:custom") ?? []) {
        fn({ type: "hello" }, []);
      }
    }
  }
}

export const BASE: WidgetModel = {
  prompt: "a red fox",
  kind: "image",
  model: "",
  size: "",
  n: 1,
  duration: 0,
  models: [],
  compact: false,
  editable: true,
  status: "processing",
  progress: 42.4,
  message: "step 4 of 10",
  eta_seconds: 12,
  elapsed_seconds: 3,
  started_at: 0,
  task_id: "3f2a9c1d-7b6e-4d2a-9e1f-000000000000",
  image_url: "",
  image_urls: [],
  video_url: "",
  preview_url: "",
  media: [],
  media_types: [],
  poster: null,
  poster_type: "",
  media_is_preview: false,
  error: "",
  retryable: false,
  connection: "connected",
  backend: "local simulator",
  static_id: "",
  details: {},
};

const mounted: Array<() => void> = [];

/** Cleans up every view mount() made (call in afterEach), then empties the document. */
export function unmountAll(): void {
  for (const cleanup of mounted.splice(0)) {
    cleanup();
  }
  document.body.replaceChildren();
}

/** `kernel: false` mounts a view restored from saved state: nothing answers its hello. */
export function mount(overrides: Partial<WidgetModel> = {}, { kernel = true } = {}) {
  const model = new FakeModel({ ...BASE, ...overrides }, kernel);
  const el = document.createElement("div");
  document.body.append(el);
  const props = { model, el, signal: new AbortController().signal, host: {}, experimental: {} };
  const cleanup = widget.render(props as unknown as RenderProps<WidgetModel>);
  mounted.push(cleanup);
  const root = el.querySelector<HTMLElement>(".conduit-widget");
  if (root === null) {
    throw new Error("no .conduit-widget rendered");
  }
  const q = <T extends HTMLElement = HTMLElement>(selector: string): T => {
    const found = root.querySelector<T>(selector);
    if (found === null) {
      throw new Error(`no ${selector}`);
    }
    return found;
  };
  const all = <T extends HTMLElement = HTMLElement>(selector: string): T[] => [...root.querySelectorAll<T>(selector)];
  return { model, el, root, cleanup, q, all };
}

/** A second view of `model` (a widget displayed twice); returns its root. */
export function renderAgain(model: FakeModel): HTMLElement {
  const el = document.createElement("div");
  document.body.append(el);
  const props = { model, el, signal: new AbortController().signal, host: {}, experimental: {} };
  mounted.push(widget.render(props as unknown as RenderProps<WidgetModel>));
  const root = el.querySelector<HTMLElement>(".conduit-widget");
  if (root === null) {
    throw new Error("no .conduit-widget rendered");
  }
  return root;
}

/** Whether an element or any ancestor up to the widget root is hidden. */
export function isShown(node: HTMLElement): boolean {
  for (let n: HTMLElement | null = node; n !== null; n = n.parentElement) {
    if (n.hidden) {
      return false;
    }
    if (n.classList.contains("conduit-widget")) {
      return true;
    }
  }
  return true;
}

export function bytes(...values: number[]): DataView {
  return new DataView(new Uint8Array(values).buffer);
}

export function keydown(target: HTMLElement, key: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const event = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init });
  target.dispatchEvent(event);
  return event;
}
