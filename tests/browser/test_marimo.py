"""The widget and the Gallery in marimo (`marimo run`, headless, on a free port), in a real Chromium: marimo
renders only anywidgets, inside a shadow root of its own, and themes them with its own variables. marimo runs its
event loop between cells, so a widget that no cell awaits moves and ends, and the browser's Cancel reaches it; a
re-run or a second visitor adopts the task of the same request (request_memo); an HTML export replays the widgets'
final state."""

from __future__ import annotations

import mimetypes
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import marimo
import pytest
from playwright.sync_api import Locator, Page, Route

from conduit_widget.server import LocalConduit
from tests.browser.pages import assert_real_picture, image_facts, luminance, parse_colour, screenshot, wait_js
from tests.browser.servers import Isolation, ServerProcess, free_port

SIX = ["a lighthouse at night", "a forest after rain", "a cat made of clouds", "a red fox in snow", "ocean waves",
       "a paper boat"]  # fmt: skip

NOTEBOOK = f"""import marimo

app = marimo.App(width="medium")


@app.cell
def _():
    from conduit_widget import Gallery, GenerationWidget

    widget = GenerationWidget("a city at night", size="192x192")
    widget
    return Gallery, widget


@app.cell
async def _(widget):
    result = await widget.wait(60)
    return


@app.cell
def _(Gallery):
    gallery = Gallery(columns=3)
    gallery
    return (gallery,)


@app.cell
async def _(gallery):
    results = await gallery.generate_many({SIX!r}, size="192x192", concurrency=6)
    return
"""


class MarimoServer(ServerProcess):
    """`marimo run NOTEBOOK` on a free port, without a token, in `theme` (a `.marimo.toml` beside it)."""

    def __init__(self, notebook: Path, isolation: Isolation, theme: str = "dark") -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        (notebook.parent / ".marimo.toml").write_text(f'[display]\ntheme = "{theme}"\n')
        cmd = [sys.executable, "-m", "marimo", "run", notebook.name, "--headless", f"--port={self.port}"]
        cmd += ["--host=127.0.0.1", "--no-token"]
        env = dict(isolation.env, HOME=str(isolation.base))  # marimo's own state, not the user's
        super().__init__("marimo", cmd, env=env, cwd=notebook.parent)
        self.wait_until_answers(f"{self.base_url}/health")


@pytest.fixture
def marimo_page(tmp_path: Path, isolation: Isolation, page: Page) -> Iterator[Page]:
    notebook = tmp_path / "gallery_in_marimo.py"
    notebook.write_text(NOTEBOOK)
    server = MarimoServer(notebook, isolation)
    try:
        page.goto(server.base_url)
        yield page
    finally:
        server.stop()


def test_a_gallery_of_six_and_a_widget_in_marimos_dark_theme(marimo_page: Page, console) -> None:
    page = marimo_page  # no console error allowed: marimo's first, thrown-away view no longer loses its blob
    # marimo puts each anywidget in a shadow root; Playwright's CSS locators go through open ones.
    gallery = page.locator(".conduit-gallery")
    wait_js(
        page,
        "() => document.documentElement.classList.contains('dark') || document.body.classList.contains('dark')",
        "marimo's dark theme",
    )
    widget = page.locator(".conduit-widget")
    widget.locator(".cw-status-completed").wait_for(timeout=60_000)
    tiles = gallery.locator(".cg-tile")
    gallery.locator(".cg-count", has_text="6 of 6").wait_for(timeout=60_000)
    assert tiles.evaluate_all("(ts) => ts.map((t) => t.dataset.status)") == ["completed"] * 6
    for index in range(6):
        assert_real_picture(image_facts(tiles.nth(index).locator("img.cg-picture")), 192, 192)
    assert gallery.locator(".cg-backend").inner_text() == "local simulator"

    # Dark: both follow marimo's theme, not a bright white box on a dark page.
    for part in (widget, gallery):
        background = parse_colour(part.evaluate("(el) => getComputedStyle(el).backgroundColor"))
        assert luminance(background[:3]) < 0.1, f"not dark: {background}"
        text = parse_colour(part.evaluate("(el) => getComputedStyle(el).color"))
        assert luminance(text[:3]) > 0.5, f"the text is not light: {text}"
    screenshot(widget, "marimo-dark-widget--widget")
    screenshot(gallery, "marimo-dark-gallery--widget")

    # The lightbox: over the whole page, arrows move through the pictures, Esc gives focus back to the tile.
    tiles.nth(1).focus()
    page.keyboard.press("Enter")
    box = page.locator(".cw-lightbox")
    box.wait_for()
    # (The lightbox that main merged names its place in its count, not in a data-index attribute.)
    assert box.locator(".cw-lightbox-count").inner_text() == "2 / 6"
    viewport = page.viewport_size
    assert viewport is not None
    rect = box.bounding_box()
    assert rect is not None and rect["width"] == viewport["width"] and rect["height"] == viewport["height"]
    assert box.locator("img").get_attribute("alt") == SIX[1]
    page.keyboard.press("ArrowRight")
    assert box.locator(".cw-lightbox-count").inner_text() == "3 / 6"
    assert box.locator("img").get_attribute("alt") == SIX[2]
    page.keyboard.press("Escape")
    box.wait_for(state="detached")
    assert tiles.nth(1).evaluate("(el) => el.getRootNode().activeElement === el"), "focus did not go back to the tile"


# -- without a cell awaiting: live, cancellable, adopted on a re-run ----------------------------------------


@pytest.fixture
def run_marimo(tmp_path: Path, isolation: Isolation, page: Page) -> Iterator[Callable[[str, str], MarimoServer]]:
    """Serve a notebook's source with `marimo run` in a theme and open it in the test's page."""
    servers: list[MarimoServer] = []

    def start(source: str, theme: str) -> MarimoServer:
        notebook = tmp_path / f"notebook_{len(servers)}.py"
        notebook.write_text(source)
        servers.append(MarimoServer(notebook, isolation, theme))
        page.goto(servers[-1].base_url)
        return servers[-1]

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


def tasks_of(conduit: LocalConduit, prompt: str) -> list[str]:
    """The statuses of the server's tasks of this prompt, oldest first."""
    return [record.status for record in conduit.tasks() if record.prompt == prompt]


def task_id_in(widget: Locator) -> str:
    """The task id the parameter line names."""
    found = re.search(r"\btask_[0-9a-f]+", widget.locator(".cw-details").inner_text())
    assert found is not None, "no task id in the parameter line"
    return found.group()


UNAWAITED = """import marimo

app = marimo.App()


@app.cell
def _():
    from conduit_widget import GenerationWidget

    GenerationWidget("a harbour at dawn", size="192x192")
    return (GenerationWidget,)


@app.cell
def _(GenerationWidget):
    GenerationWidget("a harbour that hangs", model="test-hang", size="192x192")
    return
"""


def test_widgets_no_cell_awaits_end_and_cancel_in_marimos_light_theme(
    run_marimo: Callable[[str, str], MarimoServer], page: Page, browser_conduit: LocalConduit, console
) -> None:
    run_marimo(UNAWAITED, "light")
    done, hanging = page.locator(".conduit-widget").nth(0), page.locator(".conduit-widget").nth(1)
    # Every cell has ended: what moves now comes from the run on marimo's loop, between cells.
    done.locator(".cw-status-completed").wait_for(timeout=60_000)
    assert_real_picture(image_facts(done.locator("img.cw-image").first), 192, 192)
    for part in (done, hanging):
        background = parse_colour(part.evaluate("(el) => getComputedStyle(el).backgroundColor"))
        assert luminance(background[:3]) > 0.8, f"not light: {background}"
        text = parse_colour(part.evaluate("(el) => getComputedStyle(el).color"))
        assert luminance(text[:3]) < 0.3, f"the text is not dark: {text}"
    screenshot(done, "marimo-light-widget--widget")

    hanging.locator(".cw-status-processing").wait_for(timeout=60_000)
    hanging.locator("button.cw-cancel").click()
    hanging.locator(".cw-status-cancelled").wait_for(timeout=30_000)
    assert tasks_of(browser_conduit, "a harbour that hangs") == ["cancelled"]


GALLERY_UNAWAITED = """import marimo

app = marimo.App()


@app.cell
def _():
    import asyncio

    from conduit_widget import Gallery

    gallery = Gallery(columns=3)
    # Not awaited: the cell ends, the tiles go on, and the browser's Cancel reaches them between cells.
    gallery_run = asyncio.ensure_future(
        gallery.generate_many(
            ["a hanging gate one", "a hanging gate two", "a hanging gate three"],
            model="test-hang", size="192x192", concurrency=1,
        )
    )
    gallery
    return
"""


def test_cancel_one_queued_tile_then_cancel_all_in_a_running_gallery(
    run_marimo: Callable[[str, str], MarimoServer], page: Page, browser_conduit: LocalConduit, console
) -> None:
    run_marimo(GALLERY_UNAWAITED, "dark")
    tiles = page.locator(".conduit-gallery .cg-tile")
    page.locator(".conduit-gallery .cg-tile[data-status='processing']").wait_for(timeout=60_000)
    assert tiles.evaluate_all("(ts) => ts.map((t) => t.dataset.status)") == ["processing", "queued", "queued"]

    tiles.nth(2).hover()
    tiles.nth(2).locator("button.cg-cancel").click()
    page.locator(".conduit-gallery .cg-tile[data-status='cancelled']").wait_for()
    assert tiles.evaluate_all("(ts) => ts.map((t) => t.dataset.status)") == ["processing", "queued", "cancelled"]

    page.locator(".conduit-gallery button.cg-cancel-all").click()
    wait_js(
        page,
        "() => [...document.querySelectorAll('marimo-anywidget')].flatMap((w) =>"
        " [...(w.shadowRoot ?? w).querySelectorAll('.cg-tile')]).every((t) => t.dataset.status === 'cancelled')",
        "every tile cancelled",
        timeout=30_000,
    )
    # The running one was cancelled on the server; the queued ones were never created.
    assert tasks_of(browser_conduit, "a hanging gate one") == ["cancelled"]
    assert tasks_of(browser_conduit, "a hanging gate two") == tasks_of(browser_conduit, "a hanging gate three") == []


RERUN = """import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    again = mo.ui.button(label="Run the widget's cell again")
    again
    return (again,)


@app.cell
def _(again):
    from conduit_widget import GenerationWidget

    again.value  # a click re-runs this cell: the same request, no new paid task
    GenerationWidget("a windmill in a field", size="192x192")
    return
"""


def test_a_rerun_and_a_second_visitor_adopt_the_task_of_the_same_request(
    run_marimo: Callable[[str, str], MarimoServer], page: Page, browser_conduit: LocalConduit, console
) -> None:
    prompt = "a windmill in a field"
    server = run_marimo(RERUN, "dark")
    widget = page.locator(".conduit-widget")
    widget.locator(".cw-status-completed").wait_for(timeout=60_000)
    first_id, first_line = task_id_in(widget), widget.locator(".cw-details-line").inner_text()
    assert tasks_of(browser_conduit, prompt) == ["completed"]

    widget.evaluate("(el) => { el.dataset.before = 'rerun'; }")
    page.get_by_role("button", name="Run the widget's cell again").click()
    widget = page.locator(".conduit-widget:not([data-before])")  # the re-run's widget, not the one it replaced
    widget.locator(".cw-status-completed").wait_for(timeout=60_000)
    assert tasks_of(browser_conduit, prompt) == ["completed"], "the re-run started a second task"
    assert task_id_in(widget) == first_id
    assert widget.locator(".cw-details-line").inner_text() == first_line, "not the timings of the run that made it"

    visitor = page.context.new_page()  # `marimo run` runs the notebook again for each visitor
    visitor.goto(server.base_url)
    visitor.locator(".conduit-widget .cw-status-completed").wait_for(timeout=60_000)
    assert_real_picture(image_facts(visitor.locator(".conduit-widget img.cw-image").first), 192, 192)
    assert tasks_of(browser_conduit, prompt) == ["completed"], "a second visitor started a second task"


# -- marimo export html ------------------------------------------------------------------------------------

EXPORTED = f"""import marimo

app = marimo.App()


@app.cell
def _():
    from conduit_widget import Gallery, GenerationWidget

    widget = GenerationWidget("a kite over a beach", size="192x192")
    widget
    return Gallery, widget


@app.cell
def _(Gallery):
    gallery = Gallery(columns=2)
    gallery
    return (gallery,)


@app.cell
async def _(gallery, widget):
    # An export runs the notebook once: it waits here, so that the state it records is the final one.
    await widget.wait(60)
    await gallery.generate_many({SIX[:2]!r}, size="192x192")
    return
"""
MARIMO_CDN = f"https://cdn.jsdelivr.net/npm/@marimo-team/frontend@{marimo.__version__}/dist/"
MARIMO_STATIC = Path(marimo.__file__).parent / "_static"


def serve_marimo_frontend(route: Route) -> None:
    """The exported page loads marimo's front end from its CDN; this machine has no internet, so the same
    version's files come from the installed marimo."""
    path = MARIMO_STATIC / route.request.url.removeprefix(MARIMO_CDN).split("?")[0]
    if not path.is_file():
        route.fulfill(status=404)
        return
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    route.fulfill(path=path, content_type=kind, headers={"Access-Control-Allow-Origin": "*"})


def test_marimo_export_html_shows_the_widget_and_the_gallery(
    tmp_path: Path, isolation: Isolation, page: Page, console
) -> None:
    notebook = tmp_path / "exported.py"
    notebook.write_text(EXPORTED)
    out = tmp_path / "out.html"
    env = dict(isolation.env, HOME=str(isolation.base))
    cmd = [sys.executable, "-m", "marimo", "export", "html", notebook.name, "-o", str(out)]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]

    page.route(f"{MARIMO_CDN}**", serve_marimo_frontend)
    page.goto(out.as_uri())
    widget = page.locator(".conduit-widget")
    widget.locator(".cw-status-completed").wait_for(timeout=30_000)
    assert_real_picture(image_facts(widget.locator("img.cw-image").first), 192, 192)
    gallery = page.locator(".conduit-gallery")
    gallery.locator(".cg-count", has_text="2 of 2").wait_for()
    for index in range(2):
        assert_real_picture(image_facts(gallery.locator("img.cg-picture").nth(index)), 192, 192)
    screenshot(page, "marimo-export--widget")
