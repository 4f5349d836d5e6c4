"""Saved notebooks opened again without the kernel that made them, in a real Chromium: the quickstart executed by
`jupyter nbconvert --execute` and opened in JupyterLab (with its saved widget state, and without it), the same
notebook exported to HTML, a page from `ipywidgets.embed.embed_minimal_html`, and the quickstart as JupyterLab
saves it after a run. Every result must show: its static copy, or the widget saying it is an earlier result."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import anywidget
import nbformat
import pytest
from playwright.sync_api import Page, Route

from tests.browser.pages import open_notebook, screenshot, wait_js
from tests.browser.servers import ARTIFACTS
from tests.notebooks.executing import QUICKSTART, execute, nbconvert
from tests.notebooks.test_executed_quickstart import JPEG_PAYLOAD

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
RESULTS = 5  # thumbnails in the static copies: the quickstart's fox, waves' poster and the gallery's three tiles
WIDGETS = 2  # the fox and the waves; the gallery is one view of its own (its tiles' widgets are never displayed)
EARLIER_WAIT = 10  # seconds: a view waits 3 s for a kernel's answer before it says it shows an earlier result
# The quickstart as JupyterLab saved it after a run weighed about 71 kB when this was set (the README has the
# figure): each thumbnail once, no widget state (JupyterLab's saveState is off by default).
LAB_SAVED_BUDGET = 120_000

# Every result shown: each static copy's thumbnail visible and decoded (an untrusted notebook's sanitizer strips the
# copy's data attribute, so the thumbnails are found as what they are: JPEGs outside any widget), and every widget
# that renders says it shows an earlier result: no pending clock.
_RESULTS_SHOWN = """(count) => {
  const views = ".conduit-widget, .conduit-gallery";
  const thumbs = [...document.querySelectorAll('img[src^="data:image/jpeg"]')].filter((img) => !img.closest(views));
  const shown = thumbs.filter((img) => img.offsetParent !== null && img.complete && img.naturalWidth > 0);
  const widgets = [...document.querySelectorAll(".conduit-widget")];
  const galleries = [...document.querySelectorAll(".conduit-gallery")];
  const settled = widgets.every((w) => w.classList.contains("cw-earlier"))
    && galleries.every((g) => g.classList.contains("cg-earlier"));
  const statuses = widgets.map((w) => w.querySelector(".cw-status").textContent.trim().toLowerCase());
  return shown.length === count && thumbs.length === count && settled
    && { widgets: widgets.length, galleries: galleries.length, statuses };
}"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory, browser_conduit) -> Path:
    """The quickstart as `jupyter nbconvert --execute` saves it, against the browser tests' local Conduit."""
    return execute(QUICKSTART, tmp_path_factory.mktemp("executed"), browser_conduit)


@pytest.fixture(scope="module")
def cdn_packages() -> Path:
    """The npm packages an exported page loads from a CDN (require.js, @jupyter-widgets/html-manager, anywidget at
    the kernel's version), installed once into tests/_artifacts/cdn with npm."""
    folder = ARTIFACTS / "cdn"
    if not (folder / "node_modules" / "anywidget" / "dist" / "index.js").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"private": true}\n')
        packages = ["@jupyter-widgets/html-manager@^1.0", f"anywidget@{anywidget.__version__}", "requirejs@^2.3"]
        npm = ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", *packages]
        subprocess.run(npm, cwd=folder, check=True, capture_output=True, timeout=600)
    return folder / "node_modules"


def serve_cdn_from(page: Page, packages: Path, console) -> None:
    """The one stand-in in these tests: the exported page loads require.js, the widgets' HTML manager and
    anywidget from public CDNs, and this machine has no internet. The same files come from the npm packages
    those CDNs serve; nothing else is answered (MathJax and mermaid, which the page does not need here, fail)."""
    files = [
        (r"^https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/[^/]+/require(\.min)?\.js", "requirejs/require.js"),
        (
            r"^https://(unpkg\.com|cdn\.jsdelivr\.net/npm)/@jupyter-widgets/html-manager@[^/]*/dist/(?P<file>[^?#]+)",
            "@jupyter-widgets/html-manager/dist/",
        ),
        (r"^https://cdn\.jsdelivr\.net/npm/anywidget@[^/]*/dist/index\.js", "anywidget/dist/index.js"),
    ]

    def answer(route: Route) -> None:
        url = route.request.url
        for pattern, path in files:
            found = re.match(pattern, url)
            if found:
                name = path + found.group("file") if "file" in found.groupdict() else path
                route.fulfill(path=packages / name, headers={"Access-Control-Allow-Origin": "*"})
                return
        route.abort()

    page.route(re.compile(r"^https://"), answer)
    console.allow(r"net::ERR_FAILED|Failed to load resource", "MathJax and mermaid from a CDN: not needed, not served")


def wait_results_shown(page: Page, count: int = RESULTS) -> dict:
    return wait_js(page, _RESULTS_SHOWN, f"{count} results shown", EARLIER_WAIT + 30, arg=count)


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "untrusted"])
def test_the_executed_quickstart_opened_in_jupyterlab_shows_every_result(lab, lab_isolation, executed, trusted):
    shutil.copy(executed, lab.root / "executed.ipynb")
    if trusted:  # as if its reader had run `jupyter trust`: JupyterLab then renders the widgets from the saved state
        trust = [sys.executable, "-m", "jupyter", "trust", "executed.ipynb"]
        subprocess.run(trust, cwd=lab.root, env=lab_isolation.env, check=True, capture_output=True)
    open_notebook(lab.page, lab.server.page_url("executed.ipynb"), "executed.ipynb")  # a new kernel, never run
    if trusted:
        lab.page.locator(".conduit-widget").nth(WIDGETS - 1).wait_for(state="attached")
        lab.page.locator(".conduit-gallery").wait_for(state="attached")
    shown = wait_results_shown(lab.page)
    assert shown["statuses"] == ["completed"] * (WIDGETS if trusted else 0), shown
    assert shown["galleries"] == (1 if trusted else 0), shown
    if trusted:  # the fox shows the preview its saved state holds, not a link to a server that may be gone
        fox = lab.page.locator(".conduit-widget").first
        assert "Preview only" in fox.inner_text()
        width = fox.locator("img").first.evaluate("(img) => img.complete ? img.naturalWidth : 0")
        assert 0 < width <= 384, width
    assert "pending" not in lab.page.locator(".jp-Notebook").inner_text().lower(), "a stale repr says pending"


def test_the_executed_quickstart_without_its_widget_state_shows_every_result(lab, executed, console):
    notebook = nbformat.read(executed, as_version=4)
    del notebook.metadata["widgets"]
    nbformat.write(notebook, lab.root / "stateless.ipynb")
    console.allow(r"model not found|Could not find model|Model not found", "no saved state: the models are gone")
    open_notebook(lab.page, lab.server.page_url("stateless.ipynb"), "stateless.ipynb")
    wait_results_shown(lab.page)


def test_the_executed_quickstart_exported_to_html_shows_every_result(page, executed, cdn_packages, console, tmp_path):
    nbconvert("--to", "html", "--output-dir", str(tmp_path), str(executed))
    exported = tmp_path / "quickstart.html"
    assert f'"{WIDGET_STATE}"' in exported.read_text(encoding="utf-8"), "the export holds no widget state"
    serve_cdn_from(page, cdn_packages, console)
    page.goto(exported.as_uri())
    page.locator(".conduit-widget").nth(WIDGETS - 1).wait_for(state="attached")
    page.locator(".conduit-gallery").wait_for(state="attached")
    shown = wait_results_shown(page)
    assert shown["statuses"] == ["completed"] * WIDGETS, "the HTML manager rendered every widget, final"
    assert shown["galleries"] == 1, shown
    first = page.locator(".conduit-widget").first
    first.scroll_into_view_if_needed()
    screenshot(page.locator(".jp-Cell").filter(has=first).first, "saved-html-earlier-result--widget")


# In a process of its own: in this one, Playwright's sync API keeps an event loop running, and a widget made here
# would start the shared local Conduit on it, to outlive the test.
EMBED = """
import sys
from ipywidgets.embed import embed_minimal_html
from conduit_widget import GenerationWidget

widget = GenerationWidget("a red fox", auto_start=False)
embed_minimal_html(sys.argv[1], views=[widget], title="fox")
"""


def test_embed_minimal_html_with_its_defaults_renders_the_widget(page, cdn_packages, console, tmp_path):
    subprocess.run([sys.executable, "-c", EMBED, str(tmp_path / "fox.html")], check=True, capture_output=True)
    html = (tmp_path / "fox.html").read_text(encoding="utf-8")
    assert "integrity=" in html
    # Part of the CDN stand-in: the page pins cdnjs's own minified require.js by its hash, a build no npm package
    # ships; npm's require.js is served in its place, so the pin goes.
    (tmp_path / "fox.html").write_text(re.sub(r'\s(integrity|crossorigin)="[^"]*"', "", html), encoding="utf-8")
    serve_cdn_from(page, cdn_packages, console)
    page.goto((tmp_path / "fox.html").as_uri())
    note = page.locator(".conduit-widget .cw-earlier-note")
    note.wait_for(state="visible", timeout=(EARLIER_WAIT + 30) * 1000)
    assert "Earlier result" in note.inner_text()
    assert page.locator(".conduit-widget .cw-prompt").input_value() == "a red fox"
    assert page.locator(".conduit-widget button").first.is_disabled()


def test_the_quickstart_saved_by_jupyterlab_after_a_run_stores_each_image_once(lab):
    saved = lab.run_and_save(QUICKSTART, "quickstart.ipynb")
    notebook = json.loads(saved.read_text(encoding="utf-8"))
    copies = 0
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = json.dumps(output.get("data", {}))
            payloads = JPEG_PAYLOAD.findall(text)
            assert len(payloads) == len(set(payloads)), "an image stored twice in one output"
            copies += len(payloads) if "data-conduit-static" in text else 0
    assert copies == RESULTS
    assert WIDGET_STATE not in json.dumps(notebook["metadata"]), "JupyterLab saved widget state: not its default"
    size = saved.stat().st_size
    print(f"the quickstart as JupyterLab saved it after a run: {size:,} bytes")
    assert size < LAB_SAVED_BUDGET, f"{size:,} bytes"
