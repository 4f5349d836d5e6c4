// Progress: an accessible progress bar, percentage, message, elapsed clock and
// ETA. The clock ticks locally between kernel updates, which may be seconds apart.
import { clampPercent, formatElapsed, formatEta } from "./format";
import { h, setHidden, setPrefixedClass, setText } from "./dom";
import { StallWatch } from "./stall";
import { classSuffix, type Traits, isActive } from "./traits";

export interface Progress {
  el: HTMLElement;
  update(): void;
  /** Stops the clock. */
  dispose(): void;
}

/** Statuses before anything ran: nothing to show. */
const NOT_STARTED = new Set(["idle", "invalid"]);
const TICK_MS = 1000;

/**
 * Seconds to show on the clock. While running, counted from started_at (epoch
 * seconds) but never behind the kernel's own figure, which also covers a
 * browser clock that runs behind the kernel's; otherwise the kernel's figure.
 */
export function elapsedNow(status: string, startedAt: number, elapsedSeconds: number, nowMs: number): number {
  if (isActive(status) && startedAt > 0) {
    return Math.max(elapsedSeconds, nowMs / 1000 - startedAt);
  }
  return elapsedSeconds;
}

export function createProgress(traits: Traits): Progress {
  const el = h("div", "cw-progress-section");

  const bar = h("div", "cw-progress");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  bar.setAttribute("aria-label", "Generation progress");
  const fill = h("div", "cw-progress-fill");
  bar.append(fill);

  const info = h("div", "cw-progress-info");
  const percent = h("span", "cw-percent");
  const message = h("span", "cw-message");
  message.setAttribute("aria-live", "polite");
  const times = h("span", "cw-times");
  const elapsed = h("span", "cw-elapsed");
  elapsed.title = "Elapsed time";
  const eta = h("span", "cw-eta");
  eta.title = "Estimated time remaining";
  times.append(elapsed, eta);
  info.append(percent, message, times);
  el.append(bar, info);

  let timer: ReturnType<typeof setInterval> | null = null;
  const stall = new StallWatch();

  // The clock, and the ETA or, when progress has stopped moving, how long it has not moved.
  const updateClock = (): void => {
    const now = Date.now();
    const status = traits.status();
    setText(elapsed, formatElapsed(elapsedNow(status, traits.num("started_at"), traits.num("elapsed_seconds"), now)));
    const active = isActive(status);
    const stalled = stall.check(active, traits.num("started_at"), traits.num("progress", 0), traits.str("message"), now);
    const etaText = active && stalled === "" ? formatEta(traits.num("eta_seconds", Number.NaN)) : "";
    setText(eta, stalled !== "" ? stalled : etaText === "" ? "" : `ETA ${etaText}`);
    eta.classList.toggle("cw-stalled", stalled !== "");
    eta.title = stalled !== "" ? "The server has reported no progress for this long" : "Estimated time remaining";
    setHidden(eta, stalled === "" && etaText === "");
  };

  const stopTicking = (): void => {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };

  const update = (): void => {
    const status = traits.status();
    const active = isActive(status);
    setHidden(el, NOT_STARTED.has(status));

    const pct = clampPercent(traits.num("progress", 0));
    bar.setAttribute("aria-valuenow", String(pct));
    bar.setAttribute("aria-valuetext", `${pct}%`);
    fill.style.width = `${pct}%`;
    setText(percent, `${pct}%`);
    bar.classList.toggle("cw-active", active);
    setPrefixedClass(bar, "cw-bar-", classSuffix(status));

    const text = traits.str("message");
    setText(message, text);
    setHidden(message, text === "");

    updateClock();
    if (active && traits.num("started_at") > 0) {
      timer ??= setInterval(updateClock, TICK_MS);
    } else {
      stopTicking();
    }
  };

  return { el, update, dispose: stopTicking };
}
