"""Final states recorded where a notebook is executed (conduit_widget.recording), in a real kernel: an executor
records the final state even when no cell awaits the widget; an interactive front end is sent nothing again."""

from __future__ import annotations

import base64
import os
import queue
import time

import nbformat
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

MAKE = "from conduit_widget import GenerationWidget\nw = GenerationWidget('a red fox in snow', size='96x64')\nw"
# No cell awaits the widget: its run ends while the next cell awaits something else.
LATER = "import asyncio\nawait asyncio.sleep(2)\nprint('later')"


def test_an_executor_records_the_final_state_of_a_widget_no_cell_awaits(conduit, monkeypatch):
    monkeypatch.setenv("CONDUIT_BASE_URL", conduit.base_url)
    monkeypatch.setenv("CONDUIT_API_KEY", conduit.api_key)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in (MAKE, LATER, LATER)])
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": os.getcwd()}}
    ).execute()

    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    [saved] = [m for m in state.values() if "static_id" in m["state"]]
    model = saved["state"]
    assert (model["status"], model["progress"]) == ("completed", 100)
    assert model["task_id"] and model["image_urls"], "the result's identity is in the saved model"
    # A preview, not the PNG: a restored widget shows its result without its server, and the notebook stays light.
    assert model["media_is_preview"] is True and model["media_types"] == ["image/jpeg"]
    [preview] = [base64.b64decode(b["data"]) for b in saved["buffers"] if b["path"] == ["media", 0]]
    assert preview[:3] == b"\xff\xd8\xff"
    static = [o for o in notebook.cells[0].outputs if "data-conduit-static" in o.get("data", {}).get("text/html", "")]
    assert len(static) == 1 and "data:image/jpeg;base64," in static[0]["data"]["text/html"]


def test_embed_media_full_records_the_media_in_the_saved_state(conduit, monkeypatch):
    monkeypatch.setenv("CONDUIT_BASE_URL", conduit.base_url)
    monkeypatch.setenv("CONDUIT_API_KEY", conduit.api_key)
    make = MAKE.replace("size='96x64'", "size='96x64', embed_media='full'")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in (make, LATER)])
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": os.getcwd()}}
    ).execute()

    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    [saved] = [m for m in state.values() if "static_id" in m["state"]]
    assert saved["state"]["status"] == "completed"
    assert saved["state"]["media_types"] == ["image/png"]
    assert [b["path"] for b in saved["buffers"] if b["data"]] == [["media", 0]]


def test_an_interactive_front_end_is_not_sent_the_final_state_again(conduit):
    env = {**os.environ, "CONDUIT_BASE_URL": conduit.base_url, "CONDUIT_API_KEY": conduit.api_key}
    manager, kernel = start_new_kernel(kernel_name="python3", env=env)
    try:
        # As JupyterLab runs cells: input allowed. Its models already hold every update the run sent.
        kernel.execute_interactive(MAKE, allow_stdin=True, timeout=60, output_hook=lambda _msg: None)
        later = kernel.execute(LATER, allow_stdin=True)
        again = kernel.execute("print('again')", allow_stdin=True)
        updates: dict[str, list[dict]] = {later: [], again: []}
        deadline = time.monotonic() + 60
        idle: set[str] = set()
        while idle != {later, again} and time.monotonic() < deadline:
            try:
                msg = kernel.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            parent = msg["parent_header"].get("msg_id")
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle" and parent in updates:
                idle.add(parent)
            if msg["msg_type"] == "comm_msg" and parent in updates:
                updates[parent].append(msg["content"]["data"].get("state", {}))
        assert idle == {later, again}, "the cells did not finish"
        assert kernel.execute_interactive("print(w.status)", timeout=30, output_hook=lambda _msg: None)
        assert not any("status" in state for states in updates.values() for state in states), updates
    finally:
        kernel.stop_channels()
        manager.shutdown_kernel(now=True)


def test_an_executor_records_a_gallery_no_cell_awaits_and_no_tile_saves_its_full_media(conduit, monkeypatch):
    monkeypatch.setenv("CONDUIT_BASE_URL", conduit.base_url)
    monkeypatch.setenv("CONDUIT_API_KEY", conduit.api_key)
    cells = [
        "from conduit_widget import Gallery\ng = Gallery(columns=2)\ng",
        "job = g.generate_many(['a cat', 'a dog'], size='96x64')",  # left to run, as a marimo cell leaves it
        LATER,
        LATER,
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": os.getcwd()}}
    ).execute()

    state = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    [gallery] = [m for m in state.values() if "tiles" in m["state"]]
    assert [t["status"] for t in gallery["state"]["tiles"]] == ["completed", "completed"]
    assert all(p.startswith("data:image/jpeg;base64,") for p in gallery["state"]["pictures"])
    tiles = [m for m in state.values() if "static_id" in m["state"] and "tiles" not in m["state"]]
    assert len(tiles) == 2 and all(m["state"]["status"] == "completed" for m in tiles)
    assert not [b for m in tiles for b in m.get("buffers", []) if b.get("data")], "a tile's full media were saved"
    assert all(len(m["state"]["_esm"]) + len(m["state"]["_css"]) < 200 for m in tiles), "a tile saved a front end"
    copies = [o for o in notebook.cells[0].outputs if "data-conduit-static" in o.get("data", {}).get("text/html", "")]
    assert len(copies) == 1 and copies[0]["data"]["text/html"].count("data:image/jpeg;base64,") == 2
