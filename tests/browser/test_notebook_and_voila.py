"""The quickstart notebook in Jupyter Notebook 7 and in Voilà: the other two front ends people use."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.browser.pages import (
    KEYS_NOTEBOOK,
    assert_real_picture,
    check_notebook_keys,
    image_facts,
    open_notebook,
    run_all,
    screenshot,
    theme_is_light,
    wait_run_all,
    wait_status,
    widgets,
    write_notebook,
)
from tests.browser.servers import REPO, JupyterServer, VoilaServer

QUICKSTART = REPO / "notebooks" / "quickstart.ipynb"
ENDED = {"completed", "failed", "cancelled", "timedout", "invalid"}
FOX_SIZE = (384, 384)  # the quickstart's first widget: GenerationWidget("a red fox ...", size="384x384")
WIDGETS_IN_QUICKSTART = 2  # the fox and the waves; then a gallery of three tiles
TILES = ".conduit-gallery .cg-tile"
# Notebook 7.6's own shortcut-settings code throws this while the page loads, on an empty notebook with every
# federated extension disabled too (ours, ipywidgets', Voilà's): nothing of this project is involved.
NOTEBOOK7_START_UP_ERROR = (
    r"(?s)^page error: Cannot read properties of undefined \(reading 'schema'\).*/static/notebook/notebook_core\.",
    "a Notebook 7 start-up error, seen without any extension",
)


def wait_tiles_completed(page, timeout: float = 90) -> None:
    page.wait_for_function(
        f"[...document.querySelectorAll('{TILES}')].map((t) => t.dataset.status).join() === "
        "'completed,completed,completed'",
        timeout=timeout * 1000,
    )


@pytest.fixture
def quickstart_copy(tmp_path):
    shutil.copy(QUICKSTART, tmp_path / QUICKSTART.name)
    return tmp_path / QUICKSTART.name


@pytest.fixture
def notebook_server(quickstart_copy, isolation) -> Iterator[JupyterServer]:
    server = JupyterServer("notebook", quickstart_copy.parent, isolation)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def voila_server(quickstart_copy, isolation) -> Iterator[VoilaServer]:
    server = VoilaServer(quickstart_copy, isolation)
    try:
        yield server
    finally:
        server.stop()


def test_the_quickstart_runs_in_notebook_7(notebook_server, page, console):
    console.allow(*NOTEBOOK7_START_UP_ERROR)
    open_notebook(page, notebook_server.page_url(QUICKSTART.name), QUICKSTART.name)
    assert page.locator("#main-panel, .jp-NotebookPanel").count() > 0
    assert theme_is_light(page)
    run_all(page)
    assert wait_status(page, 0, ENDED) == "completed"
    fox = widgets(page).first
    assert_real_picture(image_facts(fox.locator("img.cw-image")), *FOX_SIZE)
    fox.scroll_into_view_if_needed()  # run-all leaves the page at the last cell
    screenshot(page, "notebook7-quickstart")
    wait_run_all(page, timeout=90)
    assert widgets(page).count() == WIDGETS_IN_QUICKSTART
    for index in range(WIDGETS_IN_QUICKSTART):
        assert wait_status(page, index, ENDED) == "completed"
    wait_tiles_completed(page)


def test_esc_in_the_prompt_box_returns_to_the_notebook_and_shift_enter_runs_the_cell_in_notebook_7(
    notebook_server, page, console
):
    console.allow(*NOTEBOOK7_START_UP_ERROR)
    path = write_notebook(notebook_server.root, "keys.ipynb", KEYS_NOTEBOOK)
    open_notebook(page, notebook_server.page_url(path), path)
    check_notebook_keys(page)


def test_the_quickstart_renders_in_voila(voila_server, page, console):
    # Both also appear for a notebook that only prints "hello", without any widget:
    # Voilà's page template links Font Awesome on a CDN, which this offline machine cannot reach...
    console.allow(
        r"^console\.error: Failed to load resource: net::ERR_NAME_NOT_RESOLVED \(https://cdn\.jsdelivr\.net/npm/@fortawesome/",
        "Voilà's lab template loads Font Awesome from cdn.jsdelivr.net",
    )
    # ... and Voilà loads every federated extension, Notebook 7's too, which needs a module Voilà lacks.
    console.allow(
        r'(?s)^console\.error: Error: The getter for the shared module is not a function.*"shareKey":"@jupyterlab/docregistry".*/voila/labextensions/@jupyter-notebook/lab-extension/',
        "Notebook 7's lab extension cannot load inside Voilà",
    )
    # Voilà runs every cell in the kernel before the page is complete; the widgets then show their results.
    page.goto(voila_server.page_url(), timeout=120_000)
    widgets(page).first.wait_for(timeout=120_000)
    assert wait_status(page, 0, ENDED, timeout=90) == "completed"
    fox = widgets(page).first
    assert_real_picture(image_facts(fox.locator("img.cw-image")), *FOX_SIZE)
    page.wait_for_function(f"document.querySelectorAll('.conduit-widget').length === {WIDGETS_IN_QUICKSTART}")
    for index in range(WIDGETS_IN_QUICKSTART):
        assert wait_status(page, index, ENDED, timeout=90) == "completed"
    wait_tiles_completed(page)
    assert page.locator("video.cw-video").count() == 1
    # Voilà shows outputs, not code: the printed results are there, the source is not.
    assert page.get_by_text("completed - 1 image from").count() == 1
    assert page.get_by_text("from conduit_widget import").count() == 0
    screenshot(page, "voila-quickstart")
