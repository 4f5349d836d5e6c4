"""The quickstart as `jupyter nbconvert --execute` saves it (the real command, a real kernel, the session's local
Conduit): the widget state it records is each widget's final one, and the notebook stays light."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from tests.notebooks.executing import QUICKSTART, execute

# The executed quickstart weighed about 254 kB when this budget was set (see the README, where the static copy is
# described): well above it means media went into the notebook whole or twice.
SIZE_BUDGET = 300_000
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
JPEG_PAYLOAD = re.compile(r"/9j/[A-Za-z0-9+/=]{200,}")  # base64 of a JPEG starts with /9j/


@pytest.fixture(scope="module")
def executed(tmp_path_factory, conduit) -> Path:
    return execute(QUICKSTART, tmp_path_factory.mktemp("executed"), conduit)


def generation_models(notebook) -> list[dict]:
    state = notebook.metadata["widgets"][WIDGET_STATE]["state"]
    return [m["state"] for m in state.values() if "task_id" in m["state"]]  # a Gallery has a static_id too


def test_every_widget_model_in_the_executed_quickstart_has_its_final_state(executed):
    notebook = nbformat.read(executed, as_version=4)
    models = generation_models(notebook)
    assert len(models) == 5, "fox, waves and the gallery's three tiles"
    assert [(m["status"], m["progress"]) for m in models] == [("completed", 100)] * 5
    assert all(m["message"].startswith("Finished in") for m in models)
    kinds = sorted(m["kind"] for m in models)
    assert kinds == ["image"] * 4 + ["video"]
    assert all(m["media"] or m["image_urls"] or m["video_url"] for m in models), "a final model with no result"


def test_the_executed_quickstart_stores_each_image_once_per_output_and_stays_light(executed, conduit):
    notebook = nbformat.read(executed, as_version=4)
    copies = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = json.dumps(output.get("data", {}))
            payloads = JPEG_PAYLOAD.findall(text)
            assert len(payloads) == len(set(payloads)), f"an image stored twice in one output: {text[:200]}"
            if "data-conduit-static" in text:
                copies += 1
                assert "image/jpeg" not in output["data"], "the thumbnail again, beside the HTML that holds it"
                assert len(payloads) >= 1, "a static copy without its thumbnail"
    assert copies == 3, "fox, waves and the gallery (one copy of its three tiles)"
    assert executed.stat().st_size < SIZE_BUDGET, f"{executed.stat().st_size:,} bytes"
    assert conduit.api_key not in executed.read_text(encoding="utf-8")
