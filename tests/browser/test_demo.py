"""`conduit-widget demo`, as the README tells a newcomer to run it: open the URL it prints and run the quickstart."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.browser.pages import assert_real_picture, image_facts, screenshot, wait_status, widgets
from tests.browser.servers import REPO, VENV_BIN, Isolation, ServerProcess

ENDED = {"completed", "failed", "cancelled", "timedout", "invalid"}
URL = re.compile(r"Open this URL: (http://127\.0\.0\.1:\d+/lab/tree/notebooks/quickstart\.ipynb\?token=\S+)")


@pytest.fixture
def demo(tmp_path_factory) -> Iterator[ServerProcess]:
    # Its own isolated Jupyter folders, and no CONDUIT_* from outside: the demo starts its own local Conduit.
    isolation = Isolation(tmp_path_factory.mktemp("demo-home"), conduit=None)
    command = [str(VENV_BIN / "conduit-widget"), "demo", "--no-browser", "--lab-port", "0", "--speed", "5"]
    process = ServerProcess("demo", command, env=isolation.env, cwd=REPO)
    try:
        yield process
    finally:
        process.stop()


def wait_for_line(process: ServerProcess, pattern: re.Pattern[str], timeout: float = 120) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = pattern.search(process.log_path.read_text(errors="replace"))
        if match:
            return match
        assert process.process.poll() is None, f"the demo exited early:\n{process.log_tail()}"
        time.sleep(0.1)
    raise AssertionError(f"the demo printed no {pattern.pattern!r} within {timeout:.0f} s:\n{process.log_tail()}")


def test_the_demo_serves_a_quickstart_that_works(demo, page):
    url = wait_for_line(demo, URL)[1]
    page.goto(url)
    # As a person would: wait for the kernel, then Run > Run All Cells.
    page.locator(".jp-NotebookPanel").wait_for(timeout=60_000)
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=60_000)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()

    assert wait_status(page, 0, ENDED, timeout=60) == "completed"
    fox = widgets(page).first
    assert_real_picture(image_facts(fox.locator("img.cw-image")), 384, 384)
    assert "local simulator" in fox.locator(".cw-backend").inner_text()
    fox.scroll_into_view_if_needed()  # run-all leaves the page at the last cell
    screenshot(page, "demo-quickstart")
    page.context.close()

    # Stopping the demo (SIGTERM, as a service manager would) stops JupyterLab with it.
    lab = url.split("/lab/")[0]
    demo.process.send_signal(signal.SIGTERM)
    assert demo.process.wait(30) == 128 + signal.SIGTERM, demo.log_tail()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{lab}/api/status", timeout=2)
