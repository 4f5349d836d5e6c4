"""Driving JupyterLab and Notebook 7 pages, and reading the widget's DOM, from Playwright's sync API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
from playwright.sync_api import Locator, Page

from tests.browser.servers import ARTIFACTS

SCREENSHOTS = ARTIFACTS / "screenshots"
WIDGET = ".conduit-widget"
CELL_ERRORS = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-RenderedText.jp-mod-trusted[data-mime-type="application/vnd.jupyter.error"]'

# Seconds. Generous bounds on conditions waited for, never sleeps: a passing run takes a fraction of each.
APP_TIMEOUT = 60
RUN_TIMEOUT = 60


def write_notebook(root: Path, name: str, cells: list[str]) -> str:
    """A notebook of code cells, for the venv's python3 kernel; returns its path relative to the root."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(notebook, root / name)
    return name


def screenshot(target: Page | Locator, name: str) -> Path:
    """Saved under tests/_artifacts/screenshots/; a Locator is cropped to its element."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    target.screenshot(path=path, animations="disabled")
    return path


def wait_js(page: Page, predicate: str, what: str, timeout: float = RUN_TIMEOUT, arg: Any = None) -> Any:
    """Wait until the JavaScript `predicate` (an expression, or a function of `arg`) is truthy; on timeout,
    fail saying what was awaited and what the notebook printed to stderr, if anything."""
    try:
        return page.wait_for_function(predicate, arg=arg, timeout=timeout * 1000, polling=50).json_value()
    except Exception as exc:
        if "Timeout" not in type(exc).__name__:
            raise
        raise AssertionError(f"waited {timeout:g} s for {what}{cell_errors(page)}") from None


def cell_errors(page: Page) -> str:
    texts = page.locator(CELL_ERRORS).all_inner_texts() if not page.is_closed() else []
    return ("; the notebook printed:\n" + "\n".join(texts)) if texts else ""


# -- JupyterLab and Notebook 7 (window.jupyterapp, exposed by the servers' options) --------------------------

_NOTEBOOK_READY = """(path) => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.context || panel.context.path !== path || !panel.context.isReady) return false;
  const kernel = panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === "connected" && kernel.status === "idle";
}"""


def open_notebook(page: Page, url: str, path: str) -> None:
    """Open the notebook at `url` and wait until it is the current document with an idle kernel."""
    page.goto(url)
    wait_js(page, _NOTEBOOK_READY, f"{path} to open with an idle kernel", APP_TIMEOUT, arg=path)


def theme_is_light(page: Page) -> bool:
    """Whether the app shows a light theme (JupyterLab and Notebook 7 mark <body> once a theme is loaded)."""
    return wait_js(page, "() => document.body.dataset.jpThemeLight", "a theme to load", APP_TIMEOUT) == "true"


def run_all(page: Page) -> None:
    """Start `notebook:run-all-cells` without waiting for it (its promise is kept for `wait_run_all`)."""
    page.evaluate("() => { window.__cwRunAll = window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


def wait_run_all(page: Page, timeout: float = RUN_TIMEOUT) -> None:
    """Wait for every cell started by `run_all` to finish, and fail if one raised."""
    wait_js(page, "() => window.__cwRunAll !== undefined", "run-all to start", 5)
    page.evaluate("() => window.__cwRunAll.then((ok) => { window.__cwRunAllDone = ok; })")
    ok = wait_js(
        page, "() => window.__cwRunAllDone !== undefined && [window.__cwRunAllDone]", "all cells to run", timeout
    )
    assert ok == [True], f"a cell failed{cell_errors(page)}"


def command(page: Page, name: str, args: dict[str, Any] | None = None) -> Any:
    """Run an app command and wait for its promise."""
    return page.evaluate("([name, args]) => window.jupyterapp.commands.execute(name, args)", [name, args or {}])


def kernel_id(page: Page) -> str:
    return str(page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id"))


def kernel_print(page: Page, code: str) -> str:
    """Run `code` in the current notebook's kernel, outside any cell, and return what it printed."""
    return str(
        page.evaluate(
            """async (code) => {
              const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
              const future = kernel.requestExecute({ code, silent: false, store_history: false });
              let out = "";
              future.onIOPub = (msg) => {
                if (msg.header.msg_type === "stream") out += msg.content.text;
                if (msg.header.msg_type === "error") out += "ERROR: " + msg.content.ename + ": " + msg.content.evalue;
              };
              await future.done;
              return out;
            }""",
            code,
        )
    )


# -- the widget's DOM -------------------------------------------------------------------------------------


def widgets(page: Page) -> Locator:
    return page.locator(WIDGET)


def status_of(widget: Locator) -> str:
    return widget.locator(".cw-status").inner_text().strip().lower()


def wait_status(page: Page, index: int, statuses: set[str], timeout: float = RUN_TIMEOUT) -> str:
    """Wait until widget number `index` in the page shows one of `statuses`; returns it."""
    found = wait_js(
        page,
        """([selector, index, wanted]) => {
          const badge = document.querySelectorAll(selector)[index]?.querySelector(".cw-status");
          const status = badge && badge.textContent.trim().toLowerCase();
          return wanted.includes(status) && status;
        }""",
        f"widget {index} to show {sorted(statuses)}",
        timeout,
        arg=[WIDGET, index, sorted(statuses)],
    )
    return str(found)


def record_statuses(page: Page) -> None:
    """From now on, note every text the widgets' status badges show (window.__cwStatuses), however brief."""
    page.evaluate(
        """() => {
          window.__cwStatuses = [];
          const note = (badge) => {
            const text = badge.textContent.trim().toLowerCase();
            const seen = window.__cwStatuses;
            if (seen[seen.length - 1] !== text) seen.push(text);
          };
          new MutationObserver((records) => {
            for (const r of records) {
              const node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
              const badge = node && node.closest && node.closest(".cw-status");
              if (badge) note(badge);
              for (const added of r.addedNodes) {
                if (added.nodeType === 1) added.querySelectorAll(".cw-status").forEach(note);
              }
            }
          }).observe(document.body, { subtree: true, childList: true, characterData: true });
        }"""
    )


def record_progress(page: Page) -> None:
    """From now on, note every aria-valuenow the widgets' progress bars take (window.__cwProgress)."""
    page.evaluate(
        """() => {
          window.__cwProgress = [];
          new MutationObserver((records) => {
            for (const r of records) {
              if (r.target.closest && r.target.closest(".conduit-widget [role=progressbar]")) {
                window.__cwProgress.push(Number(r.target.getAttribute("aria-valuenow")));
              }
            }
          }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ["aria-valuenow"] });
        }"""
    )


# -- keys in the prompt box, as in a notebook cell (JupyterLab and Notebook 7 share the notebook widget) ------

NOTEBOOK = "window.jupyterapp.shell.currentWidget.content"
KEYS_NOTEBOOK = ["from conduit_widget import GenerationWidget\nw = GenerationWidget()\nw", "after = 1"]


def check_notebook_keys(page: Page) -> None:
    """In the open KEYS_NOTEBOOK: Esc in the prompt box gives the notebook command mode on the widget's cell,
    Shift+Enter runs that cell (without a newline in the box), and Ctrl+Enter generates without running it."""
    run_all(page)
    wait_run_all(page)
    widget = widgets(page).first
    prompt = widget.locator("textarea.cw-prompt")
    assert prompt.is_visible(), "a widget made without a prompt opens with its editor"

    prompt.click()
    page.keyboard.type("a fox")
    assert prompt.evaluate("(p) => document.activeElement === p")
    page.keyboard.press("Escape")
    on_cell = page.evaluate(f"() => document.activeElement === {NOTEBOOK}.activeCell.node")
    assert on_cell, page.evaluate("() => document.activeElement.className")
    assert page.evaluate(f"() => {NOTEBOOK}.mode") == "command"
    assert page.evaluate(f"() => {NOTEBOOK}.activeCellIndex") == 0

    count = page.evaluate(f"() => {NOTEBOOK}.widgets[0].model.executionCount")
    prompt.click()
    page.keyboard.press("Shift+Enter")
    wait_js(page, f"() => {NOTEBOOK}.activeCellIndex === 1", "the next cell to become active", 10)
    wait_js(
        page,
        f"(count) => {NOTEBOOK}.widgets[0].model.executionCount > count",
        "the widget's cell to run again",
        arg=count,
    )
    # The key ran the cell; it did not also type a newline into the prompt box.
    assert "\n" not in widgets(page).first.locator("textarea.cw-prompt").input_value()
    # Ctrl+Enter is still the widget's own: it generates, and the notebook does not run the cell for it.
    widget = widgets(page).first
    widget.locator("textarea.cw-prompt").fill("a cat")
    count = page.evaluate(f"() => {NOTEBOOK}.widgets[0].model.executionCount")
    widget.locator("textarea.cw-prompt").press("Control+Enter")
    ended = {"completed", "failed", "cancelled", "timedout"}
    assert wait_status(page, 0, ended) == "completed"
    assert page.evaluate(f"() => {NOTEBOOK}.widgets[0].model.executionCount") == count


def run_to_the_hang(page: Page) -> None:
    """Run every cell and wait until a `test-hang` task (which stops half-way and stays there) has got there."""
    record_progress(page)
    run_all(page)
    wait_run_all(page)
    wait_js(page, "() => window.__cwProgress.some((v) => v >= 40)", "the task to get half-way")


_IMAGE_FACTS = """(img) => {
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  const colours = new Set();
  let sum = 0, squares = 0;
  const pixels = data.length / 4;
  for (let i = 0; i < data.length; i += 4) {
    colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    const grey = (data[i] + data[i + 1] + data[i + 2]) / 3;
    sum += grey;
    squares += grey * grey;
  }
  const mean = sum / pixels;
  const box = img.getBoundingClientRect();
  return {
    src: img.currentSrc || img.src,
    complete: img.complete,
    width: img.naturalWidth,
    height: img.naturalHeight,
    shownWidth: box.width,
    shownHeight: box.height,
    colours: colours.size,
    variance: squares / pixels - mean * mean,
  };
}"""


def image_facts(img: Locator) -> dict[str, Any]:
    """The image's natural size, size on screen, and how varied its pixels are (drawn on a canvas)."""
    img.wait_for(state="visible")
    img.page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    facts: dict[str, Any] = img.evaluate(_IMAGE_FACTS)
    return facts


def assert_real_picture(facts: dict[str, Any], width: int, height: int) -> None:
    assert (facts["width"], facts["height"]) == (width, height), facts
    assert facts["shownWidth"] > 0 and facts["shownHeight"] > 0, f"the image takes no room on screen: {facts}"
    # A blank, or a single flat colour, has one colour and no variance; the local Conduit paints scenes.
    assert facts["colours"] >= 50, f"the image is nearly blank: {facts}"
    assert facts["variance"] >= 20, f"the image is nearly flat: {facts}"


# -- colours ----------------------------------------------------------------------------------------------

_RGB = re.compile(r"rgba?\(([^)]*)\)")


def parse_colour(css: str) -> tuple[float, float, float, float]:
    """`rgb(…)` / `rgba(…)` as getComputedStyle gives them (commas or spaces) to r, g, b in 0..255 and alpha."""
    match = _RGB.fullmatch(css.strip())
    assert match, f"not an rgb() colour: {css!r}"
    parts = [p for p in re.split(r"[\s,/]+", match[1]) if p]
    r, g, b = (float(p) for p in parts[:3])
    alpha = float(parts[3]) if len(parts) > 3 else 1.0
    return r, g, b, alpha


def over(top: tuple[float, float, float, float], below: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b, a = top
    return (r * a + below[0] * (1 - a), g * a + below[1] * (1 - a), b * a + below[2] * (1 - a))


def luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
