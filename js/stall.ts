// "No progress for N s" in place of an ETA that has gone stale: a hung task kept
// showing "44 % … ETA 3 s" while its clock passed 2:50. Progress "moves" when its
// percentage or its message changes; the clock keeps counting either way.
import { formatElapsed } from "./format";

/**
 * Seconds without a move before the ETA gives way. A working task reports every
 * sampler step (well under a second each on the local Conduit, a few seconds on a
 * slow GPU), so 10 s of silence is not a normal pause; shorter would flash the
 * warning on slow steps, longer would leave a false ETA up for longer.
 */
export const STALL_SECONDS = 10;

export class StallWatch {
  private key = "";
  private since = 0;

  /** Notes what progress shows now; returns "" while it moves, "no progress for …" once it has not for a while. */
  check(active: boolean, startedAt: number, progress: number, message: string, nowMs: number): string {
    const key = JSON.stringify([startedAt, progress, message]);
    if (key !== this.key || !active) {
      this.key = key;
      this.since = nowMs;
    }
    const still = (nowMs - this.since) / 1000;
    if (!active || still < STALL_SECONDS) {
      return "";
    }
    return `no progress for ${still < 60 ? `${Math.floor(still)} s` : formatElapsed(still)}`;
  }
}
