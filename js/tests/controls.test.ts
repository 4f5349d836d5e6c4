// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { modelsFor } from "../model-picker";
import { isShown, keydown, mount, unmountAll } from "./harness";

afterEach(() => {
  unmountAll();
});

function type(input: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

function change(input: HTMLInputElement | HTMLSelectElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

const MODELS = [
  { id: "flux-schnell", type: "image" },
  { id: "veo-lite", type: "video" },
  { id: "mystery", type: "" },
  { id: "sdxl", type: "image" },
  { id: "odd", type: "audio" },
];

describe("controls", () => {
  it("are real labelled form controls", () => {
    const { q, all } = mount();
    const prompt = q<HTMLTextAreaElement>("textarea.cw-prompt");
    expect(prompt.closest("label")?.querySelector(".cw-label")?.textContent).toBe("Prompt");
    expect(prompt.value).toBe("a red fox");
    for (const control of all("select, input, textarea")) {
      expect(control.closest("label"), control.className).not.toBeNull();
    }
    expect(q(".cw-generate").tagName).toBe("BUTTON");
    expect(q(".cw-cancel").tagName).toBe("BUTTON");
    expect(q<HTMLButtonElement>(".cw-generate").type).toBe("button");
  });

  it("editing the prompt calls set and save_changes", () => {
    const { model, q } = mount();
    type(q("textarea.cw-prompt"), "a blue whale");
    expect(model.get("prompt")).toBe("a blue whale");
    expect(model.saved).toEqual([{ prompt: "a blue whale" }]);
  });

  it("shows kernel-side prompt changes in the box", () => {
    const { model, q } = mount();
    model.kernel({ prompt: "from python" });
    expect(q<HTMLTextAreaElement>("textarea.cw-prompt").value).toBe("from python");
    expect(q(".cw-caption").textContent).toBe("from python");
    expect(model.saved).toEqual([]);
  });

  it("writes size, n and duration on change, clamping numbers", () => {
    const { model, q } = mount({ status: "idle" });
    change(q("input.cw-size"), " 512X768 ");
    expect(model.get("size")).toBe("512x768");
    expect(q("input.cw-size").getAttribute("aria-invalid")).toBe("false");
    change(q("input.cw-size"), "huge");
    expect(q("input.cw-size").getAttribute("aria-invalid")).toBe("true");
    const n = q<HTMLInputElement>("input.cw-n");
    expect([n.min, n.max]).toEqual(["1", "10"]);
    change(n, "42");
    expect(model.get("n")).toBe(10);
    expect(n.value).toBe("10");
    change(n, "");
    expect(model.get("n")).toBe(10);
    model.kernel({ kind: "video" });
    change(q("input.cw-duration"), "8");
    expect(model.get("duration")).toBe(8);
    expect(model.saved.map((s) => Object.keys(s)[0])).toEqual(["size", "size", "n", "duration"]);
  });

  it("shows n for images and duration for videos", () => {
    const { model, q } = mount({ kind: "image" });
    expect(isShown(q("input.cw-n"))).toBe(true);
    expect(isShown(q("input.cw-duration"))).toBe(false);
    model.kernel({ kind: "video" });
    expect(isShown(q("input.cw-n"))).toBe(false);
    expect(isShown(q("input.cw-duration"))).toBe(true);
  });

  it("the kind picker writes the kind", () => {
    const { model, q } = mount();
    change(q("select.cw-kind"), "video");
    expect(model.get("kind")).toBe("video");
    expect(model.saved).toEqual([{ kind: "video" }]);
  });

  it("treats an unknown kind as image", () => {
    const { q } = mount({ kind: "hologram" });
    expect(q<HTMLSelectElement>("select.cw-kind").value).toBe("image");
    expect(isShown(q("input.cw-n"))).toBe(true);
  });
});

describe("model picker", () => {
  const options = (select: HTMLSelectElement) => [...select.options].map((o) => [o.value, o.textContent]);

  it("lists 'default' then the models of the current kind, plus untyped ones", () => {
    const { model, q } = mount({ models: MODELS });
    const select = q<HTMLSelectElement>("select.cw-model");
    expect(options(select)).toEqual([
      ["", "default"],
      ["flux-schnell", "flux-schnell"],
      ["mystery", "mystery"],
      ["sdxl", "sdxl"],
      ["odd", "odd"],
    ]);
    expect(select.value).toBe("");
    model.kernel({ kind: "video" });
    expect(options(select).map(([v]) => v)).toEqual(["", "veo-lite", "mystery", "odd"]);
  });

  it("writes the choice, and shows a model set from Python even if unlisted", () => {
    const { model, q } = mount({ models: MODELS });
    const select = q<HTMLSelectElement>("select.cw-model");
    change(select, "sdxl");
    expect(model.get("model")).toBe("sdxl");
    expect(model.saved).toEqual([{ model: "sdxl" }]);
    model.kernel({ model: "custom-1" });
    expect(select.value).toBe("custom-1");
  });

  it("follows a changed model list", () => {
    const { model, q } = mount();
    expect(q<HTMLSelectElement>("select.cw-model").options).toHaveLength(1);
    model.kernel({ models: MODELS });
    expect(q<HTMLSelectElement>("select.cw-model").options).toHaveLength(5);
  });

  it("modelsFor tolerates junk", () => {
    expect(modelsFor(null, "image")).toEqual([]);
    expect(modelsFor([null, 3, { id: 5 }, { id: "a" }, { id: "a", type: "image" }, { id: "" }], "image")).toEqual(["a"]);
  });
});

describe("Generate and Cancel", () => {
  it("Generate sends generate; disabled while running or with an empty prompt", () => {
    const { model, q } = mount({ status: "idle" });
    const generate = q<HTMLButtonElement>(".cw-generate");
    const cancel = q<HTMLButtonElement>(".cw-cancel");
    expect(generate.disabled).toBe(false);
    expect(cancel.disabled).toBe(true);
    generate.click();
    expect(model.sent).toEqual([{ type: "generate" }]);

    model.kernel({ status: "pending" });
    expect(generate.disabled).toBe(true);
    expect(cancel.disabled).toBe(false);
    model.kernel({ status: "processing" });
    expect(generate.disabled).toBe(true);
    model.kernel({ status: "failed" });
    expect(generate.disabled).toBe(false);
    expect(cancel.disabled).toBe(true);

    type(q("textarea.cw-prompt"), "   ");
    expect(generate.disabled).toBe(true);
    type(q("textarea.cw-prompt"), "a cat");
    expect(generate.disabled).toBe(false);
  });

  it("Cancel sends cancel while running", () => {
    const { model, q } = mount({ status: "processing" });
    q<HTMLButtonElement>(".cw-cancel").click();
    expect(model.sent).toEqual([{ type: "cancel" }]);
  });

  it("Ctrl+Enter and Cmd+Enter in the prompt generate; plain Enter does not", () => {
    const { model, q } = mount({ status: "idle" });
    const prompt = q<HTMLTextAreaElement>("textarea.cw-prompt");
    expect(keydown(prompt, "Enter").defaultPrevented).toBe(false);
    expect(model.sent).toEqual([]);
    expect(keydown(prompt, "Enter", { ctrlKey: true }).defaultPrevented).toBe(true);
    expect(keydown(prompt, "Enter", { metaKey: true }).defaultPrevented).toBe(true);
    expect(model.sent).toEqual([{ type: "generate" }, { type: "generate" }]);
  });

  it("Ctrl+Enter does nothing while running", () => {
    const { model, q } = mount({ status: "processing" });
    keydown(q("textarea.cw-prompt"), "Enter", { ctrlKey: true });
    expect(model.sent).toEqual([]);
  });

  it("Generate first saves a field whose change event has not fired yet", () => {
    const { model, q } = mount({ status: "idle" });
    q<HTMLInputElement>("input.cw-size").value = "640x480";
    q<HTMLButtonElement>(".cw-generate").click();
    expect(model.get("size")).toBe("640x480");
    expect(model.sent).toEqual([{ type: "generate" }]);
  });
});

describe("compact", () => {
  it("hides the editors and Generate, shows the prompt as a caption, keeps the rest", () => {
    const { model, q } = mount({ compact: true, prompt: "a red\nfox  in snow" });
    expect(isShown(q("textarea.cw-prompt"))).toBe(false);
    expect(isShown(q("select.cw-model"))).toBe(false);
    expect(isShown(q("input.cw-size"))).toBe(false);
    expect(isShown(q("input.cw-n"))).toBe(false);
    expect(isShown(q(".cw-generate"))).toBe(false);
    expect(isShown(q(".cw-caption"))).toBe(true);
    expect(q(".cw-caption").textContent).toBe("a red fox in snow");
    expect(isShown(q(".cw-cancel"))).toBe(true);
    expect(isShown(q(".cw-status"))).toBe(true);
    expect(isShown(q('[role="progressbar"]'))).toBe(true);
    expect(isShown(q(".cw-media"))).toBe(true);

    model.kernel({ compact: false });
    expect(isShown(q("textarea.cw-prompt"))).toBe(true);
    expect(isShown(q(".cw-caption"))).toBe(false);
  });
});

describe("the editor behind Edit", () => {
  it("closed (editable false): the caption and Edit show; Edit opens the editor and focuses the prompt box", () => {
    const { model, q } = mount({ editable: false, prompt: "a red fox" });
    const edit = q<HTMLButtonElement>(".cw-edit");
    expect(isShown(q("textarea.cw-prompt"))).toBe(false);
    expect(isShown(q(".cw-generate"))).toBe(false);
    expect(isShown(q(".cw-caption"))).toBe(true);
    expect(edit.getAttribute("aria-expanded")).toBe("false");
    edit.click();
    expect(isShown(q("textarea.cw-prompt"))).toBe(true);
    expect(isShown(q(".cw-generate"))).toBe(true);
    expect(isShown(q(".cw-caption"))).toBe(false);
    expect(document.activeElement).toBe(q("textarea.cw-prompt"));
    expect(edit.getAttribute("aria-expanded")).toBe("true");
    edit.click();
    expect(isShown(q("textarea.cw-prompt"))).toBe(false);
    // The kernel's own change of `editable` wins over this view's choice.
    model.kernel({ editable: true });
    expect(isShown(q("textarea.cw-prompt"))).toBe(true);
  });

  it("a Gallery tile (compact) has no Edit, whatever editable says", () => {
    const { q } = mount({ compact: true, editable: true });
    expect(isShown(q(".cw-edit"))).toBe(false);
    expect(isShown(q("textarea.cw-prompt"))).toBe(false);
  });
});
