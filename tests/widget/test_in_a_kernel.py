"""The widget in a real kernel: what a saved notebook keeps (the static copy) and never keeps (the key); saving
without blocking the kernel's loop; misuse shown as one line."""

from __future__ import annotations

import json
import os
from pathlib import Path

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
    assert "image/jpeg" not in copies[0], "the thumbnail stored a second time, beside the HTML that holds it"
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


SAVE_CELLS = [
    "import json, tempfile, time\nfrom conduit_widget import GenerationWidget\nfrom tests.widget.stall import LoopStalls\n"
    "w = GenerationWidget('a red fox in snow', size='96x64', n=2, embed_media=False)\nw",
    "result = await w.wait(60)\nprint(result.status, w.backend, len(w.media))",
    "folder = tempfile.mkdtemp()\nstarted = time.monotonic()\nasync with LoopStalls() as stalls:\n"
    "    files = await w.save(folder + '/out/')\n"
    "print(json.dumps({'seconds': time.monotonic() - started, 'worst': stalls.worst, 'ticks': stalls.ticks,\n"
    "                  'files': [str(f) for f in files]}))",
    # Misuse, as a notebook shows it: each a one-line error, not a traceback.
    "slow = GenerationWidget('a lighthouse', size='64x64', model='test-hang')\nawait slow.wait(timeout=0.001)",
    "await slow.wait(timeout='5')",
    "slow.close()\nawait slow.wait()",
    "w.save_now(folder + '/again.png')  # not embedded: save_now would have to download",
]


def _run_in_a_kernel(cells: list[str], errors: set[int]) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    for index in errors:  # nbclient goes on past these, and keeps what they raised
        notebook.cells[index].metadata["tags"] = ["raises-exception"]
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": os.getcwd()}}
    ).execute()
    return notebook


@pytest.mark.security("nothing the widget or client offers blocks the kernel's event loop")
def test_save_in_a_kernel_with_its_own_local_conduit_is_quick_and_never_blocks_the_loop(monkeypatch):
    """Issue 17's must-show: with the local Conduit inside the kernel (nothing configured) and embed_media=False,
    the old save() made a blocking request to a server that answers on the very loop it blocked: 60 s, then a
    traceback. Now `await w.save(...)` returns in under 5 s and the loop is never held for 100 ms."""
    for name in ("CONDUIT_BASE_URL", "CONDUIT_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONDUIT_LOCAL_SPEED", "20")
    notebook = _run_in_a_kernel(SAVE_CELLS, errors={3, 4, 5, 6})

    assert notebook.cells[1].outputs[0]["text"].strip() == "completed local simulator 0", "the media were embedded"
    saved = json.loads(notebook.cells[2].outputs[0]["text"])
    assert saved["seconds"] < 5, f"save took {saved['seconds']:.1f} s"
    assert saved["ticks"] > 0
    assert saved["worst"] < 0.1, f"save held the kernel's loop for {saved['worst'] * 1000:.0f} ms"
    assert [Path(f).parent.name for f in saved["files"]] == ["out", "out"]
    assert all(Path(f).read_bytes().startswith(b"\x89PNG") for f in saved["files"])

    expected = {
        3: ("DeadlineExceededError", "did not finish within 0.001 s"),
        4: ("ConfigurationError", "timeout must be a number"),
        5: ("ConduitError", "the widget was closed"),
        6: ("ConduitError", "await widget.save("),
    }
    for index, (name, words) in expected.items():
        (error,) = [o for o in notebook.cells[index].outputs if o["output_type"] == "error"]
        assert error["ename"] == name, error
        assert words in error["evalue"], error["evalue"]
        assert len(error["traceback"]) == 1 and "\n" not in error["traceback"][0], error["traceback"]
