import { describe, expect, it } from "vitest";
import { canCancel, readTiles, safePicture, setProgress } from "../gallery-traits";

describe("readTiles", () => {
  it("reads what the kernel sends and falls back on anything else", () => {
    const tiles = readTiles([
      { prompt: "a fox", kind: "image", status: "processing", progress: 140, error: 3, retryable: "yes" },
      null,
    ]);
    expect(tiles[0]).toMatchObject({ prompt: "a fox", status: "processing", progress: 100, error: "", retryable: false });
    expect(tiles[1]).toMatchObject({ prompt: "", status: "idle", kind: "image", progress: 0 });
    expect(readTiles("tiles")).toEqual([]);
  });
});

describe("the set's progress", () => {
  it("counts the tiles that ended, of all", () => {
    const tiles = readTiles(["completed", "failed", "queued", "processing"].map((status) => ({ status })));
    expect(setProgress(tiles).text).toBe("2 of 4");
    expect(setProgress([]).text).toBe("");
    expect(tiles.map((t) => canCancel(t.status))).toEqual([false, false, true, true]);
  });
});

describe("safePicture", () => {
  it("takes the kernel's JPEG data URLs and http(s) URLs only", () => {
    expect(safePicture("data:image/jpeg;base64,/9j/4AAQ")).toBe("data:image/jpeg;base64,/9j/4AAQ");
    expect(safePicture("https://cdn.example/a.png")).toBe("https://cdn.example/a.png");
    expect(safePicture("javascript:alert(1)")).toBe("");
    expect(safePicture("data:image/svg+xml;base64,PHN2Zz4=")).toBe("");
    expect(safePicture(42)).toBe("");
  });
});
