"""The static copy of a finished result, for wherever the live widget cannot be shown.

A widget lives only as long as its kernel: a saved notebook reopened after a restart, on GitHub or nbviewer,
or in a front end without widget support shows nothing of it. So next to the widget the kernel writes a
plain output: small embedded thumbnails (JPEG, at most 384 px a side, a few tens of kilobytes) and a line of
text with the links. The live widget hides
that copy (it carries ``data-conduit-static``), so a running notebook does not show the result twice.
"""

from __future__ import annotations

import asyncio
import base64
import html
import importlib.util
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, NamedTuple

from conduit_widget.client.errors import ConduitError
from conduit_widget.client.models import TaskResult
from conduit_widget.embedding import PICTURE_FORMATS, picture_problem
from conduit_widget.terminal import for_terminal
from conduit_widget.url_policy import UnsafeUrl, check_media_url

log = logging.getLogger(__name__)

THUMBNAIL_SIDE: Final = 384
EMPTY: Final = {"text/plain": "", "text/html": ""}  # the copy's placeholder: nothing to show (yet)


def thumbnail(data: bytes) -> bytes | None:
    """A JPEG of at most THUMBNAIL_SIDE pixels a side, or None if `data` is not a picture Pillow reads. For
    pictures `picture_problem` let through: decoding takes a while, so run it off the event loop."""
    try:
        from PIL import Image
    except ImportError:  # Pillow comes with the `local` extra; the copy says why it has no picture
        return None
    try:
        with Image.open(io.BytesIO(data), formats=PICTURE_FORMATS) as picture:
            picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            out = io.BytesIO()
            picture.convert("RGB").save(out, format="JPEG", quality=80, optimize=True)
            return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):  # a damaged file, or a bomb past the check
        return None


def display_with_placeholder(widget: Any) -> Any:
    """Display `widget`, then an empty output for its static copy; returns the copy's display handle."""
    from IPython.display import display

    bundle = widget._repr_mimebundle_()
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})  # anywidget returns a pair
    # Its repr at display time ("pending 0%") would be saved with the notebook and read, where no widget renders,
    # as the state of the result; the copy below says what the result is.
    data = {**data, "text/plain": f"{type(widget).__name__}: a live widget (its result is written below when done)"}
    display(data, metadata=metadata, raw=True)  # type: ignore[no-untyped-call]
    # Nothing visible until the result exists: then the handle's update() fills it in.
    return display(EMPTY, raw=True, display_id=True)  # type: ignore[no-untyped-call]


class Shown(NamedTuple):
    """What the widget already holds of a result: embedded media, their MIME types, a video's poster; `thumbnails`
    when those are its previews (media_channel), thumbnails already."""

    media: list[bytes]
    types: list[str]
    poster: bytes
    thumbnails: bool = False


async def pictures_of(
    result: TaskResult, shown: Shown, fetch: Callable[[str], Awaitable[bytes]]
) -> tuple[list[bytes], list[str]]:
    """The pictures the copy shows: the embedded images and poster, or else the result's images (or a video's
    preview) fetched now; and why any is missing. The copy still has the text and links without them."""
    pictures = [bytes(b) for b, t in zip(shown.media, shown.types, strict=False) if t.startswith("image/")]
    if shown.poster:
        pictures.append(shown.poster)
    missing: list[str] = []
    if not pictures and result.ok:
        for url in result.image_urls or ([result.preview_url] if result.preview_url else []):
            try:
                pictures.append(await fetch(url))
            except ConduitError as exc:
                missing.append(f"no thumbnail: {exc.message}")
    return [p for p in pictures if p], missing


async def static_copy_of(
    result: TaskResult, prompt: str, shown: Shown, fetch: Callable[[str], Awaitable[bytes]], static_id: str
) -> dict[str, Any]:
    """The display bundle of a finished result's static copy, its thumbnails made off the event loop."""
    pictures, missing = await pictures_of(result, shown, fetch)
    if shown.thumbnails:  # made once, for the traits and this copy alike
        return static_bundle(result, prompt, pictures, static_id, missing)
    decodable = []
    for picture in pictures:
        problem = picture_problem(picture)  # from the header alone: quick, before anything is decoded
        if problem is None:
            decodable.append(picture)
        else:
            missing.append(f"no thumbnail: {problem}")
    if decodable and importlib.util.find_spec("PIL") is None:
        missing.append("no thumbnail: Pillow is not installed (pip install pillow)")
    thumbs = await asyncio.to_thread(lambda: [t for t in map(thumbnail, decodable) if t is not None])
    return static_bundle(result, prompt, thumbs, static_id, missing)


def static_bundle(
    result: TaskResult, prompt: str, thumbs: list[bytes], static_id: str, missing: list[str] | None = None
) -> dict[str, Any]:
    """The display bundle of the copy: ``thumbs`` are JPEG thumbnails of the images or the video's poster;
    ``missing`` says why one is not there."""
    what = "video" if result.kind == "video" else ("image" if len(result.urls) <= 1 else f"{len(result.urls)} images")
    caption = f"Generated {what} for {prompt!r}" if result.ok else f"The {result.kind} task {result.status}"
    # Front ends render text/plain's ANSI sequences, and a terminal (jupyter console) obeys them: none from a server.
    error = f": {for_terminal(result.error)}" if result.error else ""
    lines = [caption + error + "".join(f" ({for_terminal(m)})" for m in missing or ())]
    lines += [f"  {for_terminal(url)}" for url in result.urls]
    parts = [f'<div class="conduit-widget-static" data-conduit-static="{html.escape(static_id)}">']
    for thumb in thumbs:
        source = "data:image/jpeg;base64," + base64.b64encode(thumb).decode()
        parts.append(f'<img src="{source}" alt="{html.escape(prompt)}" style="max-width:256px;margin:2px">')
    links = []
    for url in result.urls:
        try:
            safe = check_media_url(url)
        except UnsafeUrl:
            continue
        if not safe.startswith("data:"):
            links.append(f'<a href="{html.escape(safe)}" rel="noopener noreferrer">{html.escape(safe)}</a>')
    parts.append(f"<div>{html.escape(lines[0])}{'<br>' if links else ''}{'<br>'.join(links)}</div></div>")
    # Each thumbnail once: in the HTML only. An image/jpeg beside it stored the first one a second time for front
    # ends that show no HTML, and every notebook front end and viewer shows HTML.
    return {"text/plain": "\n".join(lines), "text/html": "".join(parts)}
