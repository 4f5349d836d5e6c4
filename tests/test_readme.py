"""The README's notebook examples, run as a user types them: each python block between its ``<!-- notebook``
markers is one cell, run in a real kernel against the local Conduit, and each cell that makes a widget shows one."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

README = Path(__file__).resolve().parents[1] / "README.md"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def readme_cells() -> list[str]:
    text = README.read_text(encoding="utf-8")
    regions = re.findall(r"<!-- notebook\b.*?-->(.*?)<!-- /notebook -->", text, flags=re.DOTALL)
    return [block.strip() for region in regions for block in re.findall(r"```python\n(.*?)```", region, re.DOTALL)]


def test_the_readme_marks_its_notebook_examples() -> None:
    cells = readme_cells()
    assert len(cells) >= 6, cells
    assert cells[0].count("\n") == 2, "the first example is three lines"
    assert cells[0].startswith("from conduit_widget import")


def test_every_widget_the_readme_makes_is_shown_by_its_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONDUIT_BASE_URL", "CONDUIT_API_KEY"):  # the README's cells meet what a new user has: nothing
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONDUIT_LOCAL_SPEED", "50")
    monkeypatch.setenv("PYTHONPATH", str(README.parent))  # this checkout's package, in the kernel too
    cells = readme_cells()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    makers = [c for c in notebook.cells if re.search(r"^\w+ = (GenerationWidget|Gallery)\(", c.source, re.MULTILINE)]
    assert len(makers) == 4, [c.source for c in makers]
    for cell in makers:
        shown = [o for o in cell.outputs if WIDGET_VIEW in o.get("data", {})]
        assert shown, f"this README cell makes a widget but shows none:\n{cell.source}"
    errors = [o for c in notebook.cells for o in c.outputs if o.get("output_type") == "error"]
    assert errors == []
    assert (tmp_path / "fox.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the cell that saves did save
