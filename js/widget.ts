// Anywidget front-end module (AFM) for conduit-widget: wires the parts to the
// model. Each trait change updates only the parts that depend on it, so a
// progress tick never touches the media area.
import type { AnyWidget, RenderProps } from "@anywidget/types";
import { createControls } from "./controls";
import { createDetails } from "./details";
import { h } from "./dom";
import { createEditorToggle } from "./editor-toggle";
import { createErrorPanel } from "./errors";
import { fullMediaOf } from "./full-media";
import { createHeader } from "./header";
import { createMediaView } from "./media";
import { installNotebookKeys } from "./notebook-keys";
import { createProgress } from "./progress";
import { type Presence, askForKernel } from "./restored";
import { createStaticCopyHider } from "./static-copy";
import { type TraitName, Traits, type WidgetModel } from "./traits";

export type { WidgetModel } from "./traits";

function render({ model, el }: RenderProps<WidgetModel>): () => void {
  const traits = new Traits(model);
  // Aborting removes every DOM listener the parts added.
  const dom = new AbortController();
  const signal = dom.signal;

  const root = h("div", "conduit-widget");
  // Keys typed here are the widget's: JupyterLab must not run its notebook
  // shortcuts on them (Ctrl+Enter, Escape, a/b/d d on a focused image).
  root.setAttribute("data-lm-suppress-shortcuts", "true");

  const header = createHeader(traits);
  const controls = createControls(traits, signal);
  const progress = createProgress(traits);
  const errors = createErrorPanel(traits, signal);
  const media = createMediaView(traits, errors.setMediaProblems, signal, fullMediaOf(model));
  const details = createDetails(traits, signal);
  const editor = createEditorToggle(
    traits,
    controls.setCompact,
    () => controls.editors.querySelector("textarea")?.focus(),
    signal,
  );
  // One row for the status, the prompt (while the editor is closed), the connection and the buttons.
  const top = h("div", "cw-top");
  top.append(header.el, controls.caption, editor.button, controls.actions);

  // Until a kernel answers, a final view hides the copy as a live one does; an earlier result shows it too.
  let presence: Presence = "asking";
  const staticCopy = createStaticCopyHider(
    () => traits.str("static_id"),
    () => (presence === "earlier" ? "earlier" : traits.status()),
  );
  const kernel = askForKernel(model, () => traits.send("hello"), [top, controls.editors, errors.el], (state) => {
    presence = state;
    root.classList.toggle("cw-earlier", state === "earlier");
    if (state === "earlier") {
      progress.dispose(); // a clock counting for a run no kernel follows would say it still runs
    }
    staticCopy.check();
  });

  root.append(top, kernel.el, controls.editors, progress.el, errors.el, media.el, details.el);
  el.append(root);
  installNotebookKeys(root, signal);

  const setCompact = (): void => {
    root.classList.toggle("cw-compact", traits.bool("compact"));
    editor.update();
  };
  const onStatus = (): void => {
    header.update();
    controls.updateButtons();
    progress.update();
    errors.update();
    media.updatePlaceholder();
  };

  const MEDIA: TraitName[] = [
    "kind",
    "image_url",
    "image_urls",
    "video_url",
    "preview_url",
    "task_id",
    "media",
    "media_types",
    "poster",
    "poster_type",
    "media_is_preview",
  ];
  const routes: Array<[TraitName[], () => void]> = [
    [["status"], onStatus],
    [["progress", "message", "eta_seconds", "elapsed_seconds", "started_at"], progress.update],
    [["connection", "backend"], header.update],
    [["error", "retryable"], errors.update],
    [["prompt", "kind", "model", "size", "n", "duration"], controls.sync],
    [["models"], controls.updateModels],
    [["compact", "editable"], setCompact],
    [MEDIA, media.update],
    [["static_id", "status"], staticCopy.check],
    [["details"], details.update],
  ];
  const listeners: Array<[string, () => void]> = routes.flatMap(([names, fn]) =>
    names.map((name): [string, () => void] => [`change:${name}`, fn]),
  );
  for (const [event, fn] of listeners) {
    model.on(event, fn);
  }

  header.update();
  controls.sync();
  setCompact();
  onStatus();
  media.update();

  return () => {
    for (const [event, fn] of listeners) {
      model.off(event, fn);
    }
    dom.abort();
    progress.dispose();
    staticCopy.dispose();
    kernel.dispose();
    media.dispose();
    root.remove();
  };
}

export default { render } satisfies AnyWidget<WidgetModel>;
