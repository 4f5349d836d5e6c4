"""What the Gallery's front end shows of each tile: a small state (status, progress, a short reason) and, once it
finished, a small picture. The tiles are GenerationWidgets that are never displayed: they run the generations
and keep their results; the Gallery shows them all in one dense view of its own.

The states are plain JSON (no binary buffers, no widget references), and the pictures are data URLs of small
JPEGs: marimo, Voilà and both Jupyters render a widget with such traits alike.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any, Final

from conduit_widget import static_copy
from conduit_widget.widget import GenerationWidget

SHOWN_BY_ITS_GALLERY: Final = "This generation is shown by its Gallery: display the gallery to see it."


class GalleryTile(GenerationWidget):
    """The GenerationWidget behind a tile: it runs the generation and holds its result, and the Gallery shows it.
    Its model in the browser needs no front end of its own, and each widget model of a notebook saved with its
    widget state carries its module and stylesheet (about 46 kB): so it carries a view of one line, which says
    where it is shown if someone displays it anyway."""

    _esm = f"export default {{ render({{ el }}) {{ el.textContent = {SHOWN_BY_ITS_GALLERY!r}; }} }};\n"
    _css = ""


QUEUED: Final = "queued"  # not a server status: the tile waits for a free slot
ERROR_CHARACTERS: Final = 140  # a tile says why in a line or two; the whole message is in the widget's `error`


KERNEL_ONLY: Final = ("media", "poster")  # a tile's result bytes: the Gallery sends its small picture instead


def keep_media_in_the_kernel(tile: GenerationWidget) -> None:
    """A tile is never displayed, so its full media (for `save()` and the Gallery's picture) stay in the kernel:
    synced, they went to the browser for nothing and into a saved notebook's widget state (130 kB of PNGs for the
    quickstart's three tiles). ipywidgets syncs the traits named in the instance's ``keys``."""
    tile.keys = [name for name in tile.keys if name not in KERNEL_ONLY]


def short(text: str, limit: int = ERROR_CHARACTERS) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def state_of(tile: GenerationWidget, queued: bool) -> dict[str, Any]:
    """The tile as its front end shows it: what it is, where it is, why it failed."""
    status = QUEUED if queued and tile.status == "idle" else tile.status
    return {
        "prompt": tile.prompt,
        "kind": tile.kind,
        "status": status,
        "progress": tile.progress,
        "message": short(tile.message),
        "error": short(tile.error),
        "retryable": tile.retryable or status in ("failed", "timedout", "cancelled", "invalid"),
        "elapsed_seconds": round(tile.elapsed_seconds, 1),
        # Only a URL the widget let through (its URL policy); the picture itself is in `pictures`.
        "full_url": tile.image_url or tile.video_url,
    }


async def picture_of(tile: GenerationWidget) -> str:
    """A data URL of a small JPEG of the tile's result (its first image, or a video's poster); "" when there is
    none to make (the tile then shows its full URL, if the policy let one through, or its status)."""
    # The previews are thumbnails already (media_channel); with embed_media="full" there are none: made from the full.
    previews, full = tile._media.previews, tile._media.full
    if previews.media or previews.poster:
        return (
            "data:image/jpeg;base64,"
            + base64.b64encode(previews.media[0] if previews.media else previews.poster).decode()
        )
    data = b""
    if full.media and full.types and full.types[0].startswith("image/"):
        data = full.media[0]
    elif full.poster:
        data = full.poster
    if not data:
        return tile.image_url
    # Decoding takes a while: off the event loop, as the static copy does.
    jpeg = await asyncio.get_running_loop().run_in_executor(None, static_copy.thumbnail, data)
    if jpeg is None:
        return tile.image_url
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
