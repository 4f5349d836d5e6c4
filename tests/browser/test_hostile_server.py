"""The widget in real JupyterLab and Chromium, following a task on a hostile Conduit (`tests.hostile`).

Two widgets: one whose server names result URLs at a cloud metadata address, a link-local one, and its own media
with credentials in the URL; one whose task fails with the key quoted in the message. The page is watched for
every request it makes and the widgets' text is read as a user would see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.pages import run_all, wait_js, wait_run_all, widgets
from tests.hostile import KEY, HostileConduit, Hostility, hostile_conduit


@pytest.fixture
def forbidden_urls() -> Iterator[HostileConduit]:
    with hostile_conduit(Hostility()) as server:
        port = server.base_url.rsplit(":", 1)[1]
        server.hostility.urls = [
            "https://169.254.169.254/latest/meta-data/a.png",
            "https://[fe80::1]/b.png",
            f"http://user:secret@127.0.0.1:{port}/media/c.png",
        ]
        yield server


@pytest.fixture
def echoing() -> Iterator[HostileConduit]:
    with hostile_conduit(Hostility(echo_key=True, fail=True)) as server:
        yield server


def _cell(server: HostileConduit, name: str, key_file: Path) -> str:
    # The key is read from a file: in the cell's source it would be on the page whatever the widget did.
    return (
        "from pathlib import Path\nfrom conduit_widget import ConduitClient, GenerationWidget\n"
        f"{name} = GenerationWidget('a fox', embed_media=True, client=ConduitClient("
        f"{server.base_url!r}, Path({str(key_file)!r}).read_text(), transport='polling', poll_interval=0.05))\n{name}"
    )


@pytest.mark.security("link-local, metadata and credentialed media URLs are never requested")
def test_the_browser_never_requests_a_forbidden_url_nor_shows_an_echoed_key(
    lab, forbidden_urls, echoing, console, tmp_path
):
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    page = lab.page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    lab.open("hostile.ipynb", [_cell(forbidden_urls, "refused", key_file), _cell(echoing, "echoed", key_file)])
    run_all(page)
    wait_run_all(page)
    wait_js(
        page,
        "() => [...document.querySelectorAll('.conduit-widget')].every(w => /completed|failed/i.test(w.textContent))",
        "both widgets to end",
    )
    first, second = widgets(page).nth(0).inner_text(), widgets(page).nth(1).inner_text()

    assert "the model crashed" in second and KEY not in second and KEY not in page.content()
    assert "not shown" in first or "never loaded" in first, first
    assert not any("169.254" in url or "fe80" in url or "user:" in url for url in requested), requested
    sources = page.eval_on_selector_all(".conduit-widget img", "imgs => imgs.map(i => i.getAttribute('src') || '')")
    assert not any(sources), sources  # nothing of the refused result was drawn
