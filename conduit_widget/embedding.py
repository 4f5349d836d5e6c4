"""What of a result the browser is given: the URLs it may load, and the media the kernel fetches for it.

A browser may not reach the Conduit's media (a local Conduit on the kernel's machine, a private host): then the
kernel fetches the result and the widget sends the bytes (``embed_media="auto"``). Either way only URLs the
URL policy allows are handed over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, Literal

from conduit_widget.client import ConduitError
from conduit_widget.client.models import TaskResult
from conduit_widget.url_policy import UnsafeUrl, check_media_url, should_embed

EmbedMedia = bool | Literal["auto"]
MAX_EMBED_BYTES: Final = 64 * 1024 * 1024  # more than this is left at its URL: a notebook is no place for it
Embedded = tuple[list[bytes], list[str], bytes, str]  # media, their MIME types, a video's poster, what went wrong


def safe_urls(urls: list[str]) -> tuple[set[str], list[str]]:
    """The URLs a browser may be given, and a sentence for each one it may not."""
    safe: set[str] = set()
    refusals = []
    for url in urls:
        try:
            safe.add(check_media_url(url))
        except UnsafeUrl as exc:
            refusals.append(f"The result's URL was not shown: {exc}.")
    return safe, refusals


async def embedded_media(result: TaskResult, embed: EmbedMedia, fetch: Callable[[str], Awaitable[bytes]]) -> Embedded:
    """The result's media for the widget to send, when the browser may not reach the URLs (``embed``)."""
    if not result.ok or not result.urls or not any(should_embed(u, embed) for u in result.urls):
        return [], [], b"", ""
    try:
        media = [await fetch(url) for url in result.urls]
        poster = await fetch(result.preview_url) if result.preview_url else b""
    except ConduitError as exc:
        return [], [], b"", f"The result could not be fetched for display: {exc.message}"
    if sum(map(len, media)) > MAX_EMBED_BYTES:
        return [], [], b"", ""
    types = ["video/mp4" if result.kind == "video" else image_type(m) for m in media]
    return media, types, poster, ""


def image_type(data: bytes) -> str:
    """The MIME type an image's first bytes say it has."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:3] == b"GIF":
        return "image/gif"
    return "application/octet-stream"
