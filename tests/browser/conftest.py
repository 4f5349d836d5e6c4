"""End-to-end fixtures: a local Conduit, JupyterLab, and Debian's Chromium driven by Playwright's sync API.

Everything listens on 127.0.0.1 on free ports; every server runs in a process group of its own that is ended
even when a test fails. Each test gets a fresh browser context whose console errors and uncaught page errors
fail the test (`ConsoleErrors`); a failing test leaves a screenshot in tests/_artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, sync_playwright

from conduit_widget.server import LocalConduit
from tests.browser.pages import (
    SCREENSHOTS,
    command,
    open_notebook,
    run_all,
    theme_is_light,
    wait_run_all,
    write_notebook,
)
from tests.browser.servers import Isolation, JupyterServer

# An image takes about 2 s at this speed (5 s at speed 1), and a 2-second video about 3 s: slow enough to
# watch the progress move, fast enough for the suite.
SPEED = 2.5
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-background-networking",  # this machine has no internet: no update, safe-browsing or sync calls
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Nothing but this machine: a page that links an outside host (Voilà's template does) fails at once,
    # without a DNS query leaving the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]

# Console errors that come from outside this project, whichever test sees them. Each says why it is safe.
ALWAYS_ALLOWED: list[tuple[str, str]] = []


@dataclass
class ConsoleErrors:
    """Console messages of type "error" and uncaught page errors, from every page of a test's context."""

    errors: list[str] = field(default_factory=list)
    allowed: list[tuple[re.Pattern[str], str]] = field(
        default_factory=lambda: [(re.compile(p), why) for p, why in ALWAYS_ALLOWED]
    )

    def allow(self, pattern: str, why: str) -> None:
        """Allow errors matching `pattern` in this test only; `why` says why they are not this project's."""
        assert why, "say why this error is allowed"
        self.allowed.append((re.compile(pattern), why))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"console.error: {message.text} ({where})")

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"page error: {error.message}\n{error.stack or ''}")

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p, _ in self.allowed)]


CONSOLE = pytest.StashKey[ConsoleErrors]()
PAGE = pytest.StashKey[Page]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After the test body: no console error and no page error, or the test fails."""
    result = yield
    console = item.stash.get(CONSOLE, None)
    if console is not None:
        unexpected = console.unexpected()
        assert not unexpected, "the browser reported errors:\n" + "\n".join(unexpected)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    page = item.stash.get(PAGE, None)
    if report.failed and report.when == "call" and page is not None and not page.is_closed():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Error):
            page.screenshot(path=SCREENSHOTS / f"{item.name}-FAILED.png", full_page=True)
    return report


# -- servers ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser_conduit() -> Iterator[LocalConduit]:
    """The local Conduit the browser tests' kernels use, in a thread of this process."""
    with LocalConduit(speed=SPEED) as server:
        yield server


@pytest.fixture(scope="package")
def lab_isolation(tmp_path_factory: pytest.TempPathFactory, browser_conduit: LocalConduit) -> Isolation:
    return Isolation(tmp_path_factory.mktemp("lab-home"), browser_conduit)


@pytest.fixture
def isolation(tmp_path_factory: pytest.TempPathFactory, browser_conduit: LocalConduit) -> Isolation:
    """Fresh Jupyter folders for a server a test starts itself (nothing left by JupyterLab's tests)."""
    return Isolation(tmp_path_factory.mktemp("jupyter-home"), browser_conduit)


@pytest.fixture(scope="package")
def lab_server(tmp_path_factory: pytest.TempPathFactory, lab_isolation: Isolation) -> Iterator[JupyterServer]:
    server = JupyterServer("lab", tmp_path_factory.mktemp("lab-root"), lab_isolation)
    try:
        yield server
    finally:
        server.stop()


# -- the browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # Package scope, not session: Playwright's sync API keeps an event loop of its own in this thread,
    # which must be gone before the rest of the suite's asyncio tests run.
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail(
            "Chromium is not installed: the browser tests drive Debian's Chromium (/usr/bin/chromium). "
            "Install it with `apt-get install -y chromium` (.ci/run does this on a fresh machine)."
        )
    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def console(request: pytest.FixtureRequest) -> ConsoleErrors:
    errors = ConsoleErrors()
    request.node.stash[CONSOLE] = errors
    return errors


@pytest.fixture
def page(browser: Browser, console: ConsoleErrors, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
    context.set_default_timeout(30_000)
    context.on("console", console.on_console)
    context.on("weberror", lambda web_error: console.on_page_error(web_error.error))
    page = context.new_page()
    request.node.stash[PAGE] = page
    yield page
    with contextlib.suppress(Error):
        context.close()


# -- JupyterLab -------------------------------------------------------------------------------------------


@dataclass
class Lab:
    server: JupyterServer
    page: Page

    @property
    def root(self) -> Path:
        return self.server.root

    def open(self, name: str, cells: list[str]) -> str:
        """Write a notebook of these code cells and open it; returns its path."""
        path = write_notebook(self.root, name, cells)
        open_notebook(self.page, self.server.page_url(path), path)
        # Every test starts in the default theme, whatever an earlier one chose.
        assert theme_is_light(self.page)
        return path

    def run_and_save(self, notebook: Path, name: str) -> Path:
        """A copy of `notebook` opened, run whole and saved by JupyterLab; returns the saved file."""
        shutil.copy(notebook, self.root / name)
        open_notebook(self.page, self.server.page_url(name), name)
        run_all(self.page)
        wait_run_all(self.page, timeout=180)
        command(self.page, "docmanager:save")
        return self.root / name


@pytest.fixture
def lab(lab_server: JupyterServer, lab_isolation: Isolation, page: Page) -> Iterator[Lab]:
    lab_isolation.reset_theme()  # the dark-theme test leaves its choice in the shared settings
    yield Lab(lab_server, page)
    # The page first, so that nothing in it reacts to its kernels going away; then the kernels.
    with contextlib.suppress(Error):
        page.context.close()
    lab_server.shut_down_kernels()
