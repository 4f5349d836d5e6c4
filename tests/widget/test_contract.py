"""The widget's contract with its front end, held to one set of names on both sides.

Python writes each rule once (the synced traits on `GenerationWidget`, `front_end.INPUTS` and `COMMANDS`,
`protocol.STATUSES`/`TERMINAL_STATUSES`, `protocol.SIZE_PATTERN`, `protocol.VIDEO_SECONDS`); the TypeScript front
end in ``js/`` states the same facts in its own words. These tests read the TypeScript source and fail on any
drift: a trait renamed on one side only, a new status the browser would not count as running, a size the kernel
would refuse and the browser would not flag.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from conduit_widget import GenerationWidget, front_end, protocol

JS = Path(__file__).parents[2] / "js"
TRAITS_TS = (JS / "traits.ts").read_text(encoding="utf-8")
CONTROLS_TS = (JS / "controls.ts").read_text(encoding="utf-8")


def _ts_model() -> dict[str, str]:
    """`WidgetModel`'s fields and their types, as traits.ts declares them."""
    start = "export type WidgetModel = {"
    body = TRAITS_TS[TRAITS_TS.index(start) + len(start) :].split("\n};", 1)[0]
    return dict(re.findall(r"^\s+(\w+): ([^;]+);", body, re.MULTILINE))


def _ts_type(trait: traitlets.TraitType[Any, Any]) -> str:
    """The TypeScript type a synced trait arrives as, through anywidget's JSON and binary buffers."""
    if isinstance(trait, traitlets.Unicode):
        return "string"
    if isinstance(trait, traitlets.Bool):
        return "boolean"
    if isinstance(trait, traitlets.Int | traitlets.Float):
        return "number | null" if trait.allow_none else "number"
    if isinstance(trait, traitlets.Bytes):
        return "DataView | null"  # an empty bytes value arrives as null in some front ends
    if isinstance(trait, traitlets.List):
        item = trait._trait
        if isinstance(item, traitlets.Dict):
            return "ModelEntry[]"
        assert item is not None
        return _ts_type(item).removesuffix(" | null") + "[]"
    if isinstance(trait, traitlets.Dict):
        return "RunDetails"  # the one Dict trait: `details` (conduit_widget.details)
    raise AssertionError(f"no TypeScript type known for {type(trait).__name__}")


def _synced() -> dict[str, traitlets.TraitType[Any, Any]]:
    inherited = set(anywidget.AnyWidget.class_traits(sync=True))  # anywidget's and ipywidgets' own
    return {name: trait for name, trait in GenerationWidget.class_traits(sync=True).items() if name not in inherited}


def test_every_synced_trait_is_in_the_typescript_model_with_the_type_it_arrives_as() -> None:
    python = {name: _ts_type(trait) for name, trait in _synced().items()}
    assert python == _ts_model()


def test_the_front_end_writes_exactly_the_inputs_the_kernel_takes() -> None:
    inputs = re.search(r"export const INPUTS = \[([^\]]*)\] as const;", TRAITS_TS)
    assert inputs is not None
    assert re.findall(r'"(\w+)"', inputs[1]) == list(front_end.INPUTS)
    model = _ts_model()
    for name, types in front_end.INPUTS.items():
        expected = "string" if types == (str,) else "number"
        assert model[name] == expected, name


def test_the_commands_are_the_same() -> None:
    command = re.search(r"export type Command = ([^;]+);", TRAITS_TS)
    assert command is not None
    assert tuple(re.findall(r'"(\w+)"', command[1])) == front_end.COMMANDS


def test_the_browser_counts_as_running_every_status_that_is_not_an_ending() -> None:
    active = re.search(r"const ACTIVE = new Set\(\[([^\]]*)\]\)", TRAITS_TS)
    assert active is not None
    running = [s for s in protocol.STATUSES if s not in protocol.TERMINAL_STATUSES]
    assert re.findall(r'"(\w+)"', active[1]) == running
    final = re.search(r"const FINAL = new Set\(\[([^\]]*)\]\)", TRAITS_TS)
    assert final is not None
    assert re.findall(r'"(\w+)"', final[1]) == [s for s in protocol.STATUSES if s in protocol.TERMINAL_STATUSES]


def test_sizes_limits_and_lengths_are_the_kernels() -> None:
    size = re.search(r"const SIZE_RE = /(.+)/;", CONTROLS_TS)
    assert size is not None and size[1] == protocol.SIZE_PATTERN
    images = re.search(r"export const MAX_IMAGES = (\d+);", CONTROLS_TS)
    assert images is not None and int(images[1]) == front_end.MAX_IMAGES
    duration = re.search(r"export const MAX_DURATION = (\d+);", CONTROLS_TS)
    assert duration is not None and int(duration[1]) == protocol.VIDEO_SECONDS[1]


def test_embedding_with_ipywidgets_defaults_keeps_what_the_page_needs_to_load_the_widget():
    from ipywidgets.embed import embed_data

    widget = GenerationWidget("a red fox", auto_start=False)
    try:
        [saved] = [
            s for key, s in embed_data(views=[widget])["manager_state"]["state"].items() if key == widget.model_id
        ]
    finally:
        widget.close()
    state = saved["state"]
    # drop_defaults (embed's default) left these out, and the page said "Class null not found".
    assert {name: state.get(name) for name in ("_model_name", "_model_module", "_view_name")} == {
        "_model_name": "AnyModel",
        "_model_module": "anywidget",
        "_view_name": "AnyView",
    }
    assert state["_esm"] == front_end.SyncedTraits._esm and state["_css"]
    assert "status" not in state, "a default value is still dropped"
