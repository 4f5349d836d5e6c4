// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseFullMedia } from "../full-media";
import { type FakeModel, bytes, mount, renderAgain, unmountAll } from "./harness";

const TASK = "3f2a9c1d-7b6e-4d2a-9e1f-000000000000";
const PNG = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1);
const JPEG = bytes(0xff, 0xd8, 0xff, 2);
const MP4 = bytes(0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70);

beforeEach(() => {
  let next = 0;
  vi.spyOn(URL, "createObjectURL").mockImplementation((blob) => `blob:http://localhost:8888/${next++}-${(blob as Blob).type}`);
  vi.spyOn(URL, "revokeObjectURL").mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
  unmountAll();
});

/** The kernel's "media" message (conduit_widget/media_channel.py), delivered as anywidget delivers it. */
function sendFull(model: FakeModel, media: DataView[], types: string[], poster: DataView | null = null): void {
  const content = { type: "media", task_id: TASK, media_types: types, poster_type: poster ? "image/png" : "", count: media.length };
  for (const fn of model.handlers.get("msg:custom") ?? []) {
    fn(content, poster ? [...media, poster] : media);
  }
}

const srcs = (root: HTMLElement) => [...root.querySelectorAll<HTMLImageElement>(".cw-grid img")].map((i) => i.src);
const downloads = (root: HTMLElement) => root.querySelectorAll("a.cw-download").length;

describe("parseFullMedia", () => {
  it("takes the buffers as the media, then the poster", () => {
    const full = parseFullMedia({ type: "media", task_id: TASK, media_types: ["video/mp4"], poster_type: "image/png", count: 1 }, [MP4, PNG]);
    expect(full).toEqual({ taskId: TASK, media: [MP4], types: ["video/mp4"], poster: PNG, posterType: "image/png" });
  });

  it("refuses a message whose buffers do not match what it says", () => {
    const says = { type: "media", task_id: TASK, media_types: ["image/png", "image/png"], poster_type: "", count: 2 };
    expect(parseFullMedia(says, [PNG])).toBeNull();
    expect(parseFullMedia({ ...says, count: 1 }, [PNG])).toBeNull(); // two types for one picture
    expect(parseFullMedia({ type: "hello" }, [])).toBeNull();
    expect(parseFullMedia({ ...says, task_id: "" }, [PNG, PNG])).toBeNull();
  });
});

describe("full media by message, previews in the traits", () => {
  it("at the end of a run the full bytes come first, and the traits' previews after them rebuild nothing", () => {
    const { model, root } = mount({ status: "processing" });
    sendFull(model, [PNG], ["image/png"]);
    const [shown] = root.querySelectorAll(".cw-grid img");
    expect(srcs(root)).toEqual([expect.stringMatching(/-image\/png$/)]);
    model.kernel({ status: "completed", media: [JPEG], media_types: ["image/jpeg"], media_is_preview: true });
    expect(root.querySelector(".cw-grid img")).toBe(shown); // no flash: the same picture, never the preview
    expect(downloads(root)).toBe(1);
    expect(root.querySelector(".cw-preview-only")).toBeNull();
  });

  it("a view shows the previews until the full bytes answer its hello; a second view of the model has them at once", () => {
    const state = { status: "completed", media: [JPEG], media_types: ["image/jpeg"], media_is_preview: true };
    const first = mount(state);
    expect(srcs(first.root)).toEqual([expect.stringMatching(/-image\/jpeg$/)]);
    sendFull(first.model, [PNG], ["image/png"]);
    expect(srcs(first.root)).toEqual([expect.stringMatching(/-image\/png$/)]);
    expect(downloads(first.root)).toBe(1);
    // The same model in a second output: the store is the model's, not the view's.
    const second = renderAgain(first.model);
    expect(srcs(second)).toEqual([expect.stringMatching(/-image\/png$/)]);
  });

  it("a restored view (no kernel) shows the previews as pictures, without a download of them", () => {
    const { root, q } = mount({ status: "completed", media: [JPEG], media_types: ["image/jpeg"], media_is_preview: true }, { kernel: false });
    expect(srcs(root)).toEqual([expect.stringMatching(/-image\/jpeg$/)]);
    expect(downloads(root)).toBe(0);
    expect(q(".cw-preview-only").textContent).toMatch(/^Preview only/);
  });

  it("a restored video shows its poster's preview, not a player of a URL that may be gone", () => {
    const { root, q } = mount(
      { kind: "video", status: "completed", video_url: "http://127.0.0.1:1/v.mp4", poster: JPEG, poster_type: "image/jpeg", media_is_preview: true },
      { kernel: false },
    );
    expect(root.querySelector("video")).toBeNull();
    expect(q<HTMLImageElement>("img.cw-preview").src).toMatch(/-image\/jpeg$/);
  });

  it("a live video plays the full bytes with the full poster", () => {
    const { model, root } = mount({ kind: "video", status: "completed", poster: JPEG, poster_type: "image/jpeg", media_is_preview: true });
    sendFull(model, [MP4], ["video/mp4"], PNG);
    const video = root.querySelector("video");
    expect(video?.getAttribute("src")).toMatch(/-video\/mp4$/);
    expect(video?.getAttribute("poster")).toMatch(/-image\/png$/);
  });

  it("full bytes of another task are not shown for this one", () => {
    const { model, root } = mount({ status: "completed", media: [JPEG], media_types: ["image/jpeg"], media_is_preview: true });
    for (const fn of model.handlers.get("msg:custom") ?? []) {
      fn({ type: "media", task_id: "another", media_types: ["image/png"], poster_type: "", count: 1 }, [PNG]);
    }
    expect(srcs(root)).toEqual([expect.stringMatching(/-image\/jpeg$/)]);
  });
});
