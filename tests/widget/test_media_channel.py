"""A result's full bytes go to each live view as a custom message, never as state; the traits carry small previews.

A saved notebook stores state (JupyterLab's "Save Widget State", marimo export html), never messages: what an update
message carries is what a notebook would hold. The views say hello as the browser does, through the comm.
"""

from __future__ import annotations

import base64
import io

from PIL import Image

from conduit_widget import GenerationWidget
from conduit_widget.static_copy import THUMBNAIL_SIDE

from .conftest import CommSpy


def hello(widget: GenerationWidget) -> None:
    """A view rendering: it says hello, as js/restored.ts does."""
    widget._handle_msg({"content": {"data": {"method": "custom", "content": {"type": "hello"}}}, "buffers": []})


def media_messages(spy: CommSpy) -> list[tuple[dict, list[bytes]]]:
    return [(content, buffers) for content, buffers in spy.custom if content.get("type") == "media"]


def is_small_preview(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as picture:
        return picture.format == "JPEG" and max(picture.size) <= THUMBNAIL_SIDE


async def test_updates_carry_only_previews_and_each_view_gets_the_full_bytes_once_per_hello_and_at_the_end(
    client, tmp_path
):
    widget = GenerationWidget("a red fox in snow", size="640x480", n=2, model="test-slow", client=client)
    spy = CommSpy(widget)
    hello(widget)  # a view while it runs: nothing to send yet
    await widget.wait(30)
    assert len(media_messages(spy)) == 1, "the end of the run did not send the full bytes to the view"
    hello(widget)  # a second view (the widget displayed again)
    messages = media_messages(spy)
    assert len(messages) == 2

    saved = await widget.save(tmp_path)  # the kernel's full bytes: the PNGs as the server made them
    full = [path.read_bytes() for path in saved]
    assert [Image.open(io.BytesIO(data)).size for data in full] == [(640, 480), (640, 480)]
    for content, buffers in messages:
        assert buffers == full
        assert content == {
            "type": "media",
            "task_id": widget.task_id,
            "media_types": ["image/png", "image/png"],
            "poster_type": "",
            "count": 2,
        }
    # What state ever carried: two previews, each a JPEG of at most THUMBNAIL_SIDE a side, far smaller than a PNG.
    assert len(spy.update_buffers) == 2
    assert all(is_small_preview(data) and len(data) < len(full[0]) for data in spy.update_buffers)
    assert widget.media_types == ["image/jpeg", "image/jpeg"] and widget.media_is_preview
    # The static copy shows the very same thumbnails (made once).
    copy = widget.static_copy["text/html"]
    assert all(base64.b64encode(data).decode() in copy for data in spy.update_buffers)


async def test_a_video_never_is_state_only_its_posters_preview(client, conduit):
    widget = GenerationWidget("waves", kind="video", size="96x64", duration=1, client=client)
    spy = CommSpy(widget)
    hello(widget)
    await widget.wait(30)
    [(content, buffers)] = media_messages(spy)
    assert content["media_types"] == ["video/mp4"] and buffers[0][4:8] == b"ftyp"
    assert not any(data[4:8] == b"ftyp" for data in spy.update_buffers), "the clip went into the state"
    assert all(is_small_preview(data) for data in spy.update_buffers)
    if content["poster_type"]:  # a profile with a preview: its PNG goes with the clip, its JPEG preview is state
        assert buffers[1].startswith(b"\x89PNG") and len(spy.update_buffers) == 1


async def test_embed_media_full_keeps_the_full_bytes_in_the_state_and_sends_no_message(client):
    widget = GenerationWidget("a red fox in snow", size="640x480", client=client, embed_media="full")
    spy = CommSpy(widget)
    hello(widget)
    await widget.wait(30)
    hello(widget)
    assert media_messages(spy) == []
    [png] = spy.update_buffers
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).size == (640, 480)
    assert not widget.media_is_preview


async def test_a_widget_no_view_said_hello_from_sends_no_full_bytes(client):
    # A Gallery's tiles are such widgets: never displayed, their media would cross to the browser for nothing.
    widget = GenerationWidget("a red fox in snow", size="640x480", client=client)
    spy = CommSpy(widget)
    await widget.wait(30)
    assert media_messages(spy) == []
    assert widget.media and widget.media_is_preview  # its previews, for a view that comes later
