"""Where results are saved, and how: one rule for the `generate` command and for `GenerationWidget.save`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlparse

from conduit_widget.protocol import Kind

if TYPE_CHECKING:
    from conduit_widget.client.models import TaskResult

MEDIA_SUFFIXES: Final = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp4", ".webm", ".mov"})
_BY_TYPE: Final = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
}


def media_suffix(url: str, kind: Kind, mime_type: str | None = None) -> str:
    """The file extension for a result: from its MIME type or URL if known, else .png / .mp4."""
    if mime_type in _BY_TYPE:
        return _BY_TYPE[mime_type]
    suffix = Path(urlparse(url).path).suffix.lower()
    if suffix in MEDIA_SUFFIXES:
        return suffix
    return ".mp4" if kind == "video" else ".png"


def destinations(out: Path | None, prompt: str, task_id: str, count: int, suffix: str) -> list[Path]:
    """`out` itself for one file; `out` with -1, -2... before its extension for several; a name made of the
    prompt and the task id, here or in `out` if it is a folder, when `out` names no file."""
    if out is None or out.is_dir():
        slug = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:40].strip("-") or "conduit"
        # Conduit's ids are "task_" and 32 hex digits: eight of the digits tell files apart.
        tag = re.sub(r"[^A-Za-z0-9]+", "", task_id.removeprefix("task_"))[:8] or "task"
        out = (out or Path()) / f"{slug}-{tag}{suffix}"
    if count == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(1, count + 1)]


def write_result(
    out: Path | None, prompt: str, result: TaskResult, data: list[bytes], types: list[str] | None = None
) -> list[Path]:
    """Write a result's media (`data`, one per URL; `types` their MIME types if known); the files written."""
    suffix = media_suffix(result.urls[0], result.kind, types[0] if types else None)
    files = destinations(out, prompt, result.task_id, len(data), suffix)
    for target, payload in zip(files, data, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)
    return files
