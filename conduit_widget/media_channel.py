"""A result's full bytes reach each live view as a message, never as state: the synced traits hold small previews.

A saved notebook stores every synced trait (JupyterLab's "Save Widget State", marimo export html), so full PNGs and
a whole MP4 in `media` and `poster` went into it as base64. Those traits now hold JPEG previews, the static copy's
thumbnails (made once for both), and a video none of itself but its poster's; the full bytes go to the views in a
custom message with binary buffers (never base64), when the run ends and in answer to each view's hello. A message
is not state: a saved notebook never holds it. ``embed_media="full"`` keeps the full bytes in the traits, as asked.

The message at the end goes only to a model a view has said hello from: a Gallery's tiles are never displayed, and
their media would cross to the browser for nothing. What it carries was bounded by ``embedding.MAX_EMBED_BYTES``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final, NamedTuple

from conduit_widget import static_copy

log = logging.getLogger(__name__)

PREVIEW_TYPE: Final = "image/jpeg"  # static_copy.thumbnail makes JPEGs


class HeldMedia(NamedTuple):
    """A result's media as the widget holds them: the images or video, their MIME types, a video's poster."""

    media: list[bytes]
    types: list[str]
    poster: bytes
    poster_type: str


NONE: Final = HeldMedia([], [], b"", "")


async def previews_of(full: HeldMedia) -> HeldMedia:
    """JPEG thumbnails (at most static_copy.THUMBNAIL_SIDE a side) of the images and the poster; a video itself gets
    none. A picture Pillow cannot read (or no Pillow) has none: the static copy says why. Made off the event loop."""
    pictures = [m for m, t in zip(full.media, full.types, strict=False) if t.startswith("image/")]
    thumbs = await asyncio.to_thread(lambda: [static_copy.thumbnail(p) for p in [*pictures, full.poster] if p])
    images = [t for t in thumbs[: len(pictures)] if t is not None]
    poster = (thumbs[len(pictures)] if full.poster else None) or b""
    return HeldMedia(images, [PREVIEW_TYPE] * len(images), poster, PREVIEW_TYPE if poster else "")


class MediaChannel:
    """The full media of a widget's current result, and the custom message that hands them to its live views."""

    def __init__(self, widget: Any) -> None:
        self._widget = widget
        self.full = NONE  # what save(), save_now(), the details and a Gallery's picture use
        self.previews = NONE  # what the traits hold, unless embed_media="full"
        self._seen_a_view = False
        self._by_message = False  # the views get the full bytes by message (the traits hold previews)

    async def hold(self, full: HeldMedia, *, previews_only: bool) -> HeldMedia:
        """Keep `full` and return what the traits get: its previews when `previews_only` (the views get the full
        bytes by message), else `full` itself."""
        self.full, self._by_message = full, previews_only
        self.previews = await previews_of(full) if previews_only and (full.media or full.poster) else NONE
        return self.previews if previews_only else full

    def clear(self) -> None:
        self.full = self.previews = NONE
        self._by_message = False

    def on_hello(self) -> None:
        self._seen_a_view = True
        self.send()

    def send_to_views(self) -> None:
        """At the end of a run: to a model that has a view."""
        if self._seen_a_view:
            self.send()

    def send(self) -> None:
        full = self.full
        if not self._by_message or not (full.media or full.poster):
            return
        content = {
            "type": "media",
            "task_id": self._widget.task_id,
            "media_types": full.types,
            "poster_type": full.poster_type,
            "count": len(full.media),
        }
        buffers = [*full.media, *([full.poster] if full.poster else [])]
        try:
            self._widget.send(content, buffers=buffers)
        except Exception:  # a comm closed under us: the view that asked is gone
            log.debug("could not send the full media", exc_info=True)
