import { describe, expect, it } from "vitest";
import { STALL_SECONDS, StallWatch } from "../stall";

const T0 = 1_700_000_000_000;

describe("StallWatch", () => {
  it("says nothing while progress moves, then how long it has not moved", () => {
    const watch = new StallWatch();
    expect(watch.check(true, 1, 10, "step 1", T0)).toBe("");
    expect(watch.check(true, 1, 44, "step 9", T0 + 5000)).toBe("");
    expect(watch.check(true, 1, 44, "step 9", T0 + 5000 + (STALL_SECONDS - 1) * 1000)).toBe("");
    expect(watch.check(true, 1, 44, "step 9", T0 + 5000 + STALL_SECONDS * 1000)).toBe("no progress for 10 s");
    expect(watch.check(true, 1, 44, "step 9", T0 + 5000 + 170_000)).toBe("no progress for 2:50");
  });

  it("a new message counts as a move, as does a new run", () => {
    const watch = new StallWatch();
    watch.check(true, 1, 44, "queued", T0);
    expect(watch.check(true, 1, 44, "loading the model", T0 + 60_000)).toBe("");
    expect(watch.check(true, 2, 44, "loading the model", T0 + 120_000)).toBe("");
  });

  it("an ended run is never stalled", () => {
    const watch = new StallWatch();
    watch.check(true, 1, 44, "", T0);
    expect(watch.check(false, 1, 44, "", T0 + 60_000)).toBe("");
  });
});
