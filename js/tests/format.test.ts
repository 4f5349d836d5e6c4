import { describe, expect, it } from "vitest";
import { clampPercent, formatBytes, formatElapsed, formatEta } from "../format";

describe("formatEta", () => {
  it.each<[number | null | undefined, string]>([
    [null, ""],
    [undefined, ""],
    [Number.NaN, ""],
    [Number.POSITIVE_INFINITY, ""],
    [Number.NEGATIVE_INFINITY, ""],
    [-1, ""],
    [-0.0001, ""],
    [0, "<1 s"],
    [0.4, "<1 s"],
    [0.999, "<1 s"],
    [1, "1 s"],
    [1.4, "1 s"],
    [12, "12 s"],
    [12.4, "12 s"],
    [59, "59 s"],
    [59.4, "59 s"],
    [59.6, "1 min 00 s"],
    [60, "1 min 00 s"],
    [65, "1 min 05 s"],
    [125, "2 min 05 s"],
    [599, "9 min 59 s"],
    [600, "10 min 00 s"],
    [3599, "59 min 59 s"],
    [3599.6, "1 h 00 min"],
    [3600, "1 h 00 min"],
    [3720, "1 h 02 min"],
    [3779, "1 h 02 min"],
    [36_000 + 59 * 60, "10 h 59 min"],
    [90_000, "25 h 00 min"],
  ])("%s -> %j", (input, expected) => {
    expect(formatEta(input)).toBe(expected);
  });

  it("ignores non-numbers at run time", () => {
    expect(formatEta("12" as unknown as number)).toBe("");
  });
});

describe("formatElapsed", () => {
  it.each<[number | null | undefined, string]>([
    [0, "0:00"],
    [0.9, "0:00"],
    [7, "0:07"],
    [7.99, "0:07"],
    [59, "0:59"],
    [60, "1:00"],
    [65, "1:05"],
    [600, "10:00"],
    [3599, "59:59"],
    [3600, "1:00:00"],
    [3723, "1:02:03"],
    [36_000 + 5, "10:00:05"],
    [100 * 3600, "100:00:00"],
    [null, "0:00"],
    [undefined, "0:00"],
    [Number.NaN, "0:00"],
    [Number.POSITIVE_INFINITY, "0:00"],
    [-5, "0:00"],
  ])("%s -> %j", (input, expected) => {
    expect(formatElapsed(input)).toBe(expected);
  });
});

describe("formatBytes", () => {
  const KB = 1024;
  const MB = KB * 1024;
  const GB = MB * 1024;
  it.each<[number | null | undefined, string]>([
    [0, "0 B"],
    [1, "1 B"],
    [512, "512 B"],
    [1023, "1023 B"],
    [1023.4, "1023 B"],
    [1023.6, "1.0 KB"],
    [1024, "1.0 KB"],
    [1536, "1.5 KB"],
    [10 * KB, "10.0 KB"],
    [1023 * KB, "1023.0 KB"],
    [MB - 1, "1.0 MB"],
    [MB, "1.0 MB"],
    [2.3 * MB, "2.3 MB"],
    [2.34 * MB, "2.3 MB"],
    [2.35 * MB + 1, "2.4 MB"],
    [GB, "1.0 GB"],
    [GB - 1, "1.0 GB"],
    [5.5 * GB, "5.5 GB"],
    [1024 * GB, "1.0 TB"],
    [1024 * 1024 * GB, "1.0 PB"],
    [4096 * 1024 * 1024 * GB, "4096.0 PB"],
    [-1, ""],
    [Number.NaN, ""],
    [Number.POSITIVE_INFINITY, ""],
    [null, ""],
    [undefined, ""],
  ])("%s -> %j", (input, expected) => {
    expect(formatBytes(input)).toBe(expected);
  });
});

describe("clampPercent", () => {
  it.each<[number | null | undefined, number]>([
    [0, 0],
    [-0, 0],
    [-5, 0],
    [0.4, 0],
    [0.6, 1],
    [42, 42],
    [42.4, 42],
    [42.5, 43],
    [99, 99],
    [99.4, 99],
    [99.6, 99],
    [99.999, 99],
    [100, 100],
    [100.1, 100],
    [250, 100],
    [Number.NaN, 0],
    [Number.POSITIVE_INFINITY, 100],
    [Number.NEGATIVE_INFINITY, 0],
    [null, 0],
    [undefined, 0],
  ])("%s -> %s", (input, expected) => {
    const out = clampPercent(input);
    expect(out).toBe(expected);
    expect(Number.isInteger(out)).toBe(true);
    expect(Object.is(out, -0)).toBe(false);
  });

  it("non-numbers give 0", () => {
    expect(clampPercent("50" as unknown as number)).toBe(0);
  });
});
