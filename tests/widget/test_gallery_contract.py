"""The Gallery's contract with its front end (``js/gallery-traits.ts``), held to one set of names: its synced
traits, the fields of a tile's state and the commands the browser sends."""

from __future__ import annotations

import re
from pathlib import Path

import anywidget

from conduit_widget import Gallery, GenerationWidget, gallery_tiles

TS = (Path(__file__).parents[2] / "js" / "gallery-traits.ts").read_text(encoding="utf-8")
TYPES = {"Int": "number", "Unicode": "string", "List": "TileState[]|string[]", "Bool": "boolean", "Float": "number"}


def _ts_fields(start: str) -> dict[str, str]:
    body = TS[TS.index(start) + len(start) :].split("\n}", 1)[0]
    return dict(re.findall(r"^\s+(\w+): ([^;]+);", body, re.MULTILINE))


def test_every_synced_trait_is_in_the_typescript_model() -> None:
    inherited = set(anywidget.AnyWidget.class_traits(sync=True))
    python = {n: t for n, t in Gallery.class_traits(sync=True).items() if n not in inherited}
    typescript = _ts_fields("export type GalleryModel = {")
    assert set(python) == set(typescript)
    for name, trait in python.items():
        assert typescript[name] in TYPES[type(trait).__name__].split("|"), name
    assert typescript["tiles"] == "TileState[]" and typescript["pictures"] == "string[]"


def test_a_tile_state_has_exactly_the_fields_the_front_end_reads() -> None:
    tile = GenerationWidget("a fox", auto_start=False)
    state = gallery_tiles.state_of(tile, queued=True)
    tile.close()
    typescript = _ts_fields("export interface TileState {")
    assert set(state) == set(typescript)
    expected = {str: "string", bool: "boolean", int: "number", float: "number"}
    assert {k: expected[type(v)] for k, v in state.items()} == typescript
    assert state["status"] == gallery_tiles.QUEUED


def test_the_commands_are_the_ones_the_gallery_handles() -> None:
    command = re.search(r"export type GalleryCommand = ([^;]+);", TS)
    assert command is not None
    source = (Path(__file__).parents[2] / "conduit_widget" / "gallery.py").read_text(encoding="utf-8")
    handled = re.findall(r'command == "(\w+)"', source)
    assert re.findall(r'"(\w+)"', command[1]) == handled
