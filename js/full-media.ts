// A result's full bytes as the kernel sends them to live views (conduit_widget/media_channel.py): a custom
// message with binary buffers, never state, so a saved notebook holds only the traits' small previews. Kept per
// model, so a second view of it has them at once; each belongs to one task, and a new run (another task_id) leaves
// them unused until its own arrive.

/** The full media of one task: what the `media`, `media_types`, `poster` and `poster_type` traits held before. */
export interface FullMedia {
  taskId: string;
  media: DataView[];
  types: string[];
  poster: DataView | null;
  posterType: string;
}

/** What of a model the store needs: its custom messages, with their buffers. */
export interface CustomMessages {
  on(event: "msg:custom", fn: (content: unknown, buffers?: DataView[]) => void): void;
  off(event: "msg:custom", fn: (content: unknown, buffers?: DataView[]) => void): void;
}

export interface FullMediaStore {
  /** The full media of `taskId`, or null when none (yet) arrived for it. */
  of(taskId: string): FullMedia | null;
  /** Calls `fn` whenever full media arrive; returns the unsubscriber. */
  subscribe(fn: () => void): () => void;
}

/** The full media a "media" message carries, or null when it is no such message or is malformed. */
export function parseFullMedia(content: unknown, buffers: readonly unknown[] | undefined): FullMedia | null {
  if (typeof content !== "object" || content === null || (content as { type?: unknown }).type !== "media") {
    return null;
  }
  const { task_id: taskId, media_types: types, poster_type: posterType, count } = content as Record<string, unknown>;
  const views = (buffers ?? []).filter((b): b is DataView => b instanceof DataView);
  if (
    typeof taskId !== "string" ||
    taskId === "" ||
    typeof count !== "number" ||
    !Number.isInteger(count) ||
    count < 0 ||
    !Array.isArray(types) ||
    !types.every((t) => typeof t === "string") ||
    typeof posterType !== "string"
  ) {
    return null;
  }
  const hasPoster = posterType !== "";
  if (views.length !== count + (hasPoster ? 1 : 0) || types.length !== count) {
    return null; // buffers lost or added on the way: showing the wrong bytes under a type would be worse than none
  }
  return {
    taskId,
    media: views.slice(0, count),
    types: types as string[],
    poster: hasPoster ? (views[count] ?? null) : null,
    posterType,
  };
}

const stores = new WeakMap<object, FullMediaStore>();

/** The one store of `model`. It listens while a view subscribes (a view subscribes before it says hello, so the
 * answer is never missed) and keeps what arrived for the next view. */
export function fullMediaOf(model: CustomMessages): FullMediaStore {
  const known = stores.get(model);
  if (known !== undefined) {
    return known;
  }
  let current: FullMedia | null = null;
  const listeners = new Set<() => void>();
  const onMessage = (content: unknown, buffers?: DataView[]): void => {
    const full = parseFullMedia(content, buffers);
    if (full !== null) {
      current = full;
      for (const fn of [...listeners]) {
        fn();
      }
    }
  };
  const store: FullMediaStore = {
    of: (taskId) => (current !== null && current.taskId === taskId ? current : null),
    subscribe: (fn) => {
      if (listeners.size === 0) {
        model.on("msg:custom", onMessage);
      }
      listeners.add(fn);
      return () => {
        if (listeners.delete(fn) && listeners.size === 0) {
          model.off("msg:custom", onMessage);
        }
      };
    },
  };
  stores.set(model, store);
  return store;
}
