"""The quickstart as `make demo` runs it: pointed at a running Conduit through CONDUIT_* variables.

nbval (in `make test`) runs the notebooks with no Conduit configured, so they start one in the kernel;
this runs the other branch, against the session's server, and checks the key never lands in the outputs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def test_quickstart_runs_against_the_configured_conduit_and_keeps_the_key_out(conduit, monkeypatch):
    monkeypatch.setenv("CONDUIT_BASE_URL", conduit.base_url)
    monkeypatch.setenv("CONDUIT_API_KEY", conduit.api_key)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": os.getcwd()}}).execute()
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "completed - 1 image from local simulator" in outputs
    assert conduit.base_url in outputs, "the results did not come from the configured Conduit"
    assert conduit.api_key not in outputs
