"""Light saved widget state in a real JupyterLab and Chromium, with "Save Widget State" on (jupyterlab_widgets'
saveState, off by default): a notebook saved after a run holds only small JPEG previews in its widget state, never a
PNG or an MP4, while the live views show the full picture and play the clip (their bytes came by message, which is
not state); reopened without its kernel it shows the previews; embed_media="full" still saves the full bytes."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, UnidentifiedImageError

from conduit_widget.static_copy import THUMBNAIL_SIDE
from tests.browser.pages import (
    assert_real_picture,
    command,
    image_facts,
    open_notebook,
    run_all,
    screenshot,
    wait_js,
    wait_run_all,
    wait_status,
    widgets,
)
from tests.notebooks.executing import QUICKSTART

IMPORT = "from conduit_widget import GenerationWidget"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGETS_PLUGIN = "@jupyter-widgets/jupyterlab-manager/plugin"
EARLIER_WAIT = 40  # seconds: a view waits 3 s for a kernel's answer; JupyterLab itself takes a while to restore


@pytest.fixture
def save_state_on(lab_isolation) -> Iterator[None]:
    """JupyterLab saves widget state with the notebook (read when the page loads): on for this test only, since the
    other tests check JupyterLab's default."""
    path = lab_isolation.settings / f"{WIDGETS_PLUGIN}.jupyterlab-settings"
    lab_isolation.write_setting(WIDGETS_PLUGIN, {"saveState": True})
    yield
    path.unlink(missing_ok=True)


def saved_buffers(notebook: dict[str, Any]) -> dict[str, list[bytes]]:
    """Each saved model's binary traits that hold bytes, decoded, by the model's prompt."""
    state = notebook["metadata"]["widgets"][WIDGET_STATE]["state"]
    found: dict[str, list[bytes]] = {}
    for model in state.values():
        prompt = model.get("state", {}).get("prompt")
        if prompt is not None:
            # An empty trait (no poster) is saved as an empty buffer: nothing stored.
            found[prompt] = [base64.b64decode(b["data"]) for b in model.get("buffers", []) if b["data"]]
    return found


def picture_size(data: bytes) -> tuple[str, tuple[int, int]]:
    """The format and size of a saved picture; an MP4 or anything else is "not a picture"."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            return str(picture.format), picture.size
    except UnidentifiedImageError:
        return "not a picture", (0, 0)


def test_a_notebook_saved_with_widget_state_holds_previews_and_reopens_showing_them(lab, lab_isolation, save_state_on):
    page = lab.page
    path = lab.open(
        "light.ipynb",
        [
            f"{IMPORT}\nfox = GenerationWidget('a red fox', size='640x480')\nfox",
            "waves = GenerationWidget('waves', kind='video', size='320x240', duration=1)\nwaves",
            "full = GenerationWidget('a full fox', size='320x240', embed_media='full')\nfull",
            "await fox.wait(); await waves.wait(); await full.wait()",
        ],
    )
    run_all(page)
    for index in range(3):
        assert wait_status(page, index, {"completed", "failed", "cancelled", "timedout"}) == "completed"
    wait_run_all(page)

    # Live: the full picture (its bytes came by message, after the preview state) and a clip that plays.
    fox, waves = widgets(page).nth(0), widgets(page).nth(1)
    assert_real_picture(image_facts(fox.locator("img.cw-image")), 640, 480)
    assert fox.locator("a.cw-download").count() == 1 and fox.locator(".cw-preview-only").count() == 0
    video = waves.locator("video.cw-video")
    video.evaluate("(v) => { v.muted = true; return v.play(); }")
    wait_js(
        page,
        "(v) => v.readyState >= 2 && !v.paused && v.currentTime > 0.2",
        "the clip to play",
        arg=video.element_handle(),
    )

    command(page, "docmanager:save")
    saved = lab.root / path
    notebook = json.loads(saved.read_text(encoding="utf-8"))
    buffers = saved_buffers(notebook)
    # The light widgets: previews only (a JPEG of at most THUMBNAIL_SIDE a side), never a PNG or an MP4.
    assert [picture_size(b) for b in buffers["a red fox"]] == [("JPEG", (THUMBNAIL_SIDE, 288))]
    assert [picture_size(b)[0] for b in buffers["waves"]] == ["JPEG"], "the clip or its PNG poster was saved"
    assert max(picture_size(buffers["waves"][0])[1]) <= THUMBNAIL_SIDE
    # Asked for: the full PNG, as before.
    assert [picture_size(b) for b in buffers["a full fox"]] == [("PNG", (320, 240))]
    print(f"saved with widget state: {saved.stat().st_size:,} bytes")

    # Reopened with no kernel holding its models: the previews, small, and no download of them as the result.
    page.goto("about:blank")  # first, so that nothing in the page reacts to its kernel going away
    lab.server.shut_down_kernels()
    trust = [sys.executable, "-m", "jupyter", "trust", path]  # as its author would have it: widgets from saved state
    subprocess.run(trust, cwd=lab.root, env=lab_isolation.env, check=True, capture_output=True)
    open_notebook(page, lab.server.page_url(path), path)
    restored = widgets(page).nth(0)
    restored.locator(".cw-earlier-note").wait_for(state="visible", timeout=EARLIER_WAIT * 1000)
    facts = image_facts(restored.locator("img.cw-image"))
    assert (facts["width"], facts["height"]) == (THUMBNAIL_SIDE, 288), facts
    assert restored.locator("a.cw-download").count() == 0
    assert restored.locator(".cw-preview-only").inner_text().startswith("Preview only")
    preview = widgets(page).nth(1).locator("img.cw-preview")
    assert image_facts(preview)["width"] <= THUMBNAIL_SIDE
    screenshot(restored, "saved-state-preview--widget")


def test_the_quickstart_saved_with_widget_state_is_small(lab, save_state_on):
    saved = lab.run_and_save(QUICKSTART, "quickstart-state.ipynb")
    notebook = json.loads(saved.read_text(encoding="utf-8"))
    size, held = saved.stat().st_size, sum(len(d) for ds in saved_buffers(notebook).values() for d in ds)
    print(f"the quickstart as JupyterLab saved it after a run, with widget state: {size:,} bytes ({held:,} of media)")
    assert WIDGET_STATE in notebook["metadata"]["widgets"], "JupyterLab saved no widget state"
    for prompt, datas in saved_buffers(notebook).items():
        for data in datas:
            kind, sides = picture_size(data)
            assert kind == "JPEG" and max(sides) <= THUMBNAIL_SIDE, (prompt, kind, sides)
    # Measured when this was set: 645 kB with 233 kB of media (full PNGs and the MP4) before the previews, 383 kB with
    # 28 kB after, 256 kB once the Gallery's tile widgets carried no front end of their own; the rest is the fox's,
    # the waves' and the gallery's own copies of their JS and CSS.
    assert held < 50_000, f"{held:,} bytes of media in the widget state"
    assert size < 320_000, f"{size:,} bytes"
