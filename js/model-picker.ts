// The model picker: "default" ("" = the server's choice) and the models of the
// current kind. Options are rebuilt only when the list changes, so an open
// dropdown is not disturbed by unrelated updates.
import { h } from "./dom";
import type { Kind, ModelEntry, Traits } from "./traits";

export interface ModelPicker {
  select: HTMLSelectElement;
  update(): void;
}

/** Models for the picker: those of `kind`, plus any whose type is neither image nor video. */
export function modelsFor(models: unknown, kind: Kind): string[] {
  if (!Array.isArray(models)) {
    return [];
  }
  const ids: string[] = [];
  for (const entry of models as Array<Partial<ModelEntry> | null>) {
    const id = typeof entry?.id === "string" ? entry.id : "";
    const type = typeof entry?.type === "string" ? entry.type : "";
    const otherKind = (type === "image" || type === "video") && type !== kind;
    if (id !== "" && !otherKind && !ids.includes(id)) {
      ids.push(id);
    }
  }
  return ids;
}

export function option(value: string, text: string): HTMLOptionElement {
  const node = h("option", "", text);
  node.value = value;
  return node;
}

export function createModelPicker(traits: Traits, signal: AbortSignal): ModelPicker {
  const select = h("select", "cw-model");
  select.addEventListener("change", () => traits.write("model", select.value), { signal });

  let shownKey = "";
  const update = (): void => {
    const current = traits.str("model");
    const ids = modelsFor(traits.raw("models"), traits.kind());
    // A model set from Python that the list lacks still shows as chosen.
    if (current !== "" && !ids.includes(current)) {
      ids.push(current);
    }
    const key = JSON.stringify(ids);
    if (key !== shownKey) {
      shownKey = key;
      select.replaceChildren(option("", "default"), ...ids.map((id) => option(id, id)));
    }
    if (select.value !== current) {
      select.value = current;
    }
  };

  return { select, update };
}
