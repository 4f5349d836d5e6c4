"""Download links in a real JupyterLab and Chromium: a file saved under the widget's name, never a server's page.

The result's URLs are served by a small HTTP server in this test (on this machine, so both URL policies let
them through): one answers with an HTML page that would change the title of any page rendering it, the other
with a PNG it calls application/octet-stream. The kernel's widget is handed them as a finished result.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.pages import kernel_print, run_all, wait_js, wait_run_all, widgets

REPO = Path(__file__).resolve().parents[2]

EVIL_PAGE = b"<!doctype html><title>pwned</title><script>document.title = 'pwned'; alert(1)</script><h1>PWNED</h1>"


def _png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (16, 12), "orange").save(picture, "PNG")
    return picture.getvalue()


PNG = _png()


class _Media(BaseHTTPRequestHandler):
    """/evil.png: an HTML page; /good: a PNG without its type. Both readable by any page (CORS), as a CDN's are."""

    def do_GET(self) -> None:
        body, kind = (EVIL_PAGE, "text/html") if self.path.startswith("/evil") else (PNG, "application/octet-stream")
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def media_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Media)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.security("download links name a safe file and never render server HTML")
def test_a_download_saves_an_image_under_the_widgets_name_and_never_opens_the_servers_html(
    lab, media_server, console, tmp_path
):
    # The <img> of the HTML "image" fails to decode; Chromium may say so. That is the page being right.
    console.allow(r"evil\.png", "the HTML answer fails to load as an image, which is the point")
    page = lab.page
    evil, good = f"{media_server}/evil.png", f"{media_server}/good"
    lab.open(
        "downloads.ipynb",
        [
            "from conduit_widget import GenerationWidget\n"
            'w = GenerationWidget("a fox", auto_start=False, embed_media=False)\n'
            f'w.task_id = "task_0123abcd9999"\nw.image_urls = ["{evil}", "{good}"]\nw.status = "completed"\nw'
        ],
    )
    # The kernel runs this checkout's widget, whose front end is the one under test.
    assert str(REPO) in kernel_print(page, "import conduit_widget; print(conduit_widget.__file__)")
    run_all(page)
    wait_run_all(page)
    widget = widgets(page).first
    links = widget.locator("a.cw-download")
    wait_js(page, "() => document.querySelectorAll('.conduit-widget a.cw-download').length === 2", "two download links")
    assert [links.nth(i).get_attribute("href") for i in range(2)] == [None, None]  # nothing a tab could open
    assert [links.nth(i).get_attribute("target") for i in range(2)] == [None, None]

    downloads: list[str] = []
    page.on("download", lambda download: downloads.append(download.suggested_filename))
    evil_link = links.nth(0)
    evil_link.click()
    evil_link.click(modifiers=["Control"])  # "open in a new tab", for an <a href>
    evil_link.click(button="middle")
    evil_link.focus()
    page.keyboard.press("Enter")
    wait_js(
        page,
        '() => /Could not download the image 1: the file is not an image \\(type "text\\/html"\\)/'
        ".test(document.querySelector('.conduit-widget .cw-error-lines')?.textContent ?? '')",
        "the refused download to be reported",
    )

    with page.expect_download() as saved:
        links.nth(1).click()
    download = saved.value
    assert download.suggested_filename == "conduit-0123abcd-2.png"
    target = tmp_path / "saved.png"
    download.save_as(target)
    assert target.read_bytes() == PNG

    assert downloads == ["conduit-0123abcd-2.png"]  # the HTML was never saved, whatever the click
    assert len(page.context.pages) == 1, [p.url for p in page.context.pages]  # and never opened
    assert page.title() != "pwned"
