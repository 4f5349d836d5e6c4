// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { copyText, detailParts } from "../details";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the parameter line", () => {
  it("lists model, resolution, seed, timings, cost and task id in that order", () => {
    const parts = detailParts({
      model: "dall-e-3",
      resolution: "256x256",
      seed: 7,
      seed_note: "",
      task_id: "task_1",
      queued_seconds: 0.25,
      ran_seconds: 1.5,
      total_seconds: 1.75,
      cost: 0.04,
    });
    expect(parts).toEqual([
      "Model dall-e-3",
      "256x256",
      "Seed 7",
      "queued 0.3 s, ran 1.5 s, total 1.8 s",
      "Cost $0.04",
      "Task task_1",
    ]);
  });

  it("says the seed was not used instead of claiming one", () => {
    const parts = detailParts({ seed: null, seed_note: "seed not supported for images by this server" });
    expect(parts).toEqual(["seed not supported for images by this server"]);
  });

  it("shows nothing for no details, and skips values of the wrong type", () => {
    expect(detailParts({})).toEqual([]);
    expect(detailParts(null)).toEqual([]);
    expect(detailParts([1, 2])).toEqual([]);
    expect(detailParts({ model: 3, seed: "7", total_seconds: Number.NaN, task_id: "t" })).toEqual(["Task t"]);
  });
});

describe("copyText", () => {
  it("uses the async clipboard API when it is there", async () => {
    const writeText = vi.fn(async (_: string) => {});
    Object.defineProperty(window.navigator, "clipboard", { value: { writeText }, configurable: true });
    expect(await copyText('GenerationWidget("a\\nb")', document.body)).toBe(true);
    expect(writeText).toHaveBeenCalledWith('GenerationWidget("a\\nb")');
  });

  it("falls back to a selected textarea when the clipboard API refuses, and leaves nothing behind", async () => {
    const writeText = vi.fn(async (_: string) => {
      throw new Error("NotAllowedError");
    });
    Object.defineProperty(window.navigator, "clipboard", { value: { writeText }, configurable: true });
    let copied = "";
    const exec = vi.fn((command: string) => {
      copied = command === "copy" ? (document.querySelector("textarea")?.value ?? "") : "";
      return true;
    });
    Object.defineProperty(document, "execCommand", { value: exec, configurable: true });
    expect(await copyText("the prompt", document.body)).toBe(true);
    expect(exec).toHaveBeenCalledWith("copy");
    expect(document.querySelectorAll("textarea")).toHaveLength(0);
    expect(copied).toBe("the prompt");
  });
});
