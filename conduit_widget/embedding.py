"""What of a result the browser is given: the URLs it may load, and the media the kernel fetches for it.

A browser may not reach the Conduit's media (a local Conduit on the kernel's machine, a private host): then the
kernel fetches the result and the widget sends the bytes (``embed_media="auto"``). Either way only URLs the
URL policy allows are handed over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, Literal

from conduit_widget.client import ConduitClient, ConduitError, UnsafeUrlError
from conduit_widget.client.models import TaskResult
from conduit_widget.client.rest import MAX_DOWNLOAD_BYTES
from conduit_widget.url_policy import UnsafeUrl, check_media_url, should_embed

EmbedMedia = bool | Literal["auto"]
MAX_EMBED_BYTES: Final = 64 * 1024 * 1024  # more than this is left at its URL: a notebook is no place for it
# A picture with more pixels is neither decoded in the kernel nor sent to the browser: 8192 x 8192 is beyond what
# image models make, and a PNG of 20000 x 20000 zeros (a few MB; 1.6 GB decoded) is not worth a kernel or a tab.
MAX_PICTURE_PIXELS: Final = 8192 * 8192
PICTURE_FORMATS: Final = ("PNG", "JPEG", "WEBP", "GIF")
Embedded = tuple[list[bytes], list[str], bytes, str]  # media, their MIME types, a video's poster, what went wrong


class Downloads:
    """A result's media, each fetched once: embedding, the static copy and saving share the bytes, or the error (a
    medium that could not be fetched is not asked for again, unless for more bytes than the failed attempt allowed:
    a video too large to embed can still be saved). `client` gives the client to fetch with."""

    def __init__(self, client: Callable[[], Awaitable[ConduitClient]]) -> None:
        self._client = client
        self._got: dict[str, bytes | tuple[ConduitError, int]] = {}

    async def fetch(self, url: str, limit: int = MAX_EMBED_BYTES) -> bytes:
        """At most `limit` bytes: by default what a notebook may hold."""
        got = self._got.get(url)
        if got is None or (isinstance(got, tuple) and limit > got[1] and not isinstance(got[0], UnsafeUrlError)):
            try:
                got = self._got[url] = await (await self._client()).download(url, limit=limit)
            except ConduitError as exc:
                got = self._got[url] = (exc, limit)
        if isinstance(got, tuple):
            raise got[0]
        if len(got) > limit:
            raise ConduitError(f"downloading {url}: {len(got):,} bytes, more than the {limit:,} allowed here")
        return got

    async def fetch_whole(self, url: str) -> bytes:
        """Up to what any result may have (`MAX_DOWNLOAD_BYTES`): for saving it."""
        return await self.fetch(url, MAX_DOWNLOAD_BYTES)

    def refused(self) -> set[str]:
        """URLs the kernel would not fetch (the policy refused them, or a redirect they led to): nor will the
        browser be given them."""
        return {url for url, got in self._got.items() if isinstance(got, tuple) and isinstance(got[0], UnsafeUrlError)}


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


async def embedded_media(
    result: TaskResult, embed: EmbedMedia, fetch: Callable[[str, int], Awaitable[bytes]]
) -> Embedded:
    """The result's media for the widget to send, when the browser may not reach the URLs (``embed``). `fetch(url,
    limit)` reads at most `limit` bytes: all of them together may not pass MAX_EMBED_BYTES."""
    if not result.ok or not result.urls or not any(should_embed(u, embed) for u in result.urls):
        return [], [], b"", ""
    media: list[bytes] = []
    try:
        for url in [*result.urls, *([result.preview_url] if result.preview_url else [])]:
            media.append(await fetch(url, MAX_EMBED_BYTES - sum(map(len, media))))
    except ConduitError as exc:
        return [], [], b"", f"The result could not be fetched for display: {exc.message}"
    poster = media.pop() if result.preview_url else b""
    if result.kind == "image":
        for picture in media:
            problem = picture_problem(picture)
            if problem is not None:
                return [], [], b"", f"The result is not shown: {problem}."
    types = ["video/mp4" if result.kind == "video" else image_type(m) for m in media]
    return media, types, poster, ""


def picture_problem(data: bytes) -> str | None:
    """Why an image result should not be decoded or shown (too many pixels, not a picture), from its header alone
    (no decoder needed, so a lean install without Pillow judges as the local one does); None when it may be."""
    size = header_size(data)
    if size is None:
        return "the result is not a PNG, JPEG, WebP or GIF image"
    width, height = size
    if width * height > MAX_PICTURE_PIXELS:
        return f"the image is {width} x {height} pixels, more than the {MAX_PICTURE_PIXELS:,} shown inline"
    return None


def header_size(data: bytes) -> tuple[int, int] | None:
    """A PNG, JPEG, WebP or GIF picture's width and height as its header says them; None if it says none."""
    kind = image_type(data)
    if kind == "image/png" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20]), int.from_bytes(data[20:24])
    if kind == "image/gif" and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if kind == "image/webp":
        chunk = data[12:16]
        if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # a lossy key frame's start code
            return int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF
        if chunk == b"VP8L" and len(data) >= 25:
            bits = int.from_bytes(data[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if chunk == b"VP8X" and len(data) >= 30:
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        return None
    if kind == "image/jpeg":
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Segments from the start: the first start-of-frame (C0 to CF, but for C4, C8 and CC) holds the size.
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # no length follows these
            at += 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[at + 7 : at + 9]), int.from_bytes(data[at + 5 : at + 7])
        at += 2 + int.from_bytes(data[at + 2 : at + 4])
    return None


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
