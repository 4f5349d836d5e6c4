"""The widget in a real kernel: what a saved notebook keeps (the static copy) and never keeps (the key)."""

from __future__ import annotations

import json
import os

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = [
    "from conduit_widget import GenerationWidget, Gallery\nw = GenerationWidget('a red fox in snow', size='96x64')\nw",
    "result = await w.wait(30)\nprint(result.status, w.status, w.backend)",
    "g = Gallery(columns=2)\ng",
    "results = await g.generate_many(['a cat', 'a dog'], size='64x64')\nprint([r.status for r in results])",
]


@pytest.mark.security("the key is in no saved notebook")
def test_a_saved_notebook_keeps_a_static_copy_and_no_key(conduit, monkeypatch):
    monkeypatch.setenv("CONDUIT_BASE_URL", conduit.base_url)
    monkeypatch.setenv("CONDUIT_API_KEY", conduit.api_key)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": os.getcwd()}},
    ).execute()
    saved = nbformat.writes(notebook)

    assert conduit.api_key not in saved, "the key is in the saved notebook"
    widget_state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any(m["model_name"] == "AnyModel" for m in widget_state.values()), "no widget state was saved"

    assert "completed completed local simulator" in notebook.cells[1].outputs[0]["text"]
    assert "['completed', 'completed']" in notebook.cells[3].outputs[0]["text"]
    copies = []
    for cell in (notebook.cells[0], notebook.cells[2]):
        kinds = [set(o.get("data", {})) for o in cell.outputs]
        assert any("application/vnd.jupyter.widget-view+json" in k for k in kinds), "no widget view"
        static = [o for o in cell.outputs if "data-conduit-static" in o.get("data", {}).get("text/html", "")]
        assert len(static) == 1, "no static copy of the result next to the widget"
        assert "data:image/jpeg;base64," in static[0]["data"]["text/html"]
        copies.append(static[0]["data"])
    assert "image/jpeg" in copies[0], "GitHub and nbviewer show an image where they show no HTML"
    assert len(json.dumps(notebook.cells[0].outputs)) < 60_000, "the static copy is too heavy for a notebook"


@pytest.mark.security(
    "the key is in no trait, static copy, log record, exception or CLI output, even when the server echoes it"
)
def test_a_key_the_server_echoes_stays_out_of_the_saved_notebook(monkeypatch):
    from tests.hostile import KEY, Hostility, hostile_conduit

    with hostile_conduit(Hostility(echo_key=True, fail=True)) as server:
        monkeypatch.setenv("CONDUIT_BASE_URL", server.base_url)
        monkeypatch.setenv("CONDUIT_API_KEY", KEY)
        cells = [
            "import logging\nlogging.basicConfig(level=logging.DEBUG)\n"
            "from conduit_widget import GenerationWidget\nw = GenerationWidget('a fox')\nw",
            "try:\n    await w.wait(30)\nexcept Exception as e:\n    print(type(e).__name__, e)\nprint(w.error)",
        ]
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        NotebookClient(notebook, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    saved = nbformat.writes(notebook)
    assert "the model crashed (for key [redacted])" in saved  # the server's words arrived, without the key
    assert KEY not in saved, "the echoed key is in the saved notebook"
