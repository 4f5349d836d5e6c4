"""Where results are saved, and how: one rule for the `generate` command and for `GenerationWidget.save`.

A path that ends in a slash, or names a folder that exists, is a folder: it is made if need be and the files get
names made of the prompt and the task id. Any other path is the file (or, for several, the first part of their
names), in a folder that must exist: a typo in a folder's name is refused, not made into new folders. Files are written whole or not at all: each goes to a temporary file beside it, renamed into place once
every one is written, so a full disk or a refused folder leaves nothing half-written behind. A path that cannot
be written is a `ConfigurationError` naming it and saying why, never an OSError's traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import urlparse

from conduit_widget.client.errors import ConduitError, ConfigurationError
from conduit_widget.client.inputs import shown
from conduit_widget.protocol import Kind


class TaskResult(Protocol):
    """What saving reads of a `conduit_widget.client.TaskResult` (a protocol: the result's own `save` uses this
    module, so it cannot import the result's)."""

    @property
    def task_id(self) -> str: ...
    @property
    def kind(self) -> Kind: ...
    @property
    def ok(self) -> bool: ...
    @property
    def urls(self) -> tuple[str, ...]: ...


SavePath = str | os.PathLike[str] | None
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
_FOLDER_ENDINGS: Final = tuple({"/", os.sep, *([os.altsep] if os.altsep else [])})


def media_suffix(url: str, kind: Kind, mime_type: str | None = None) -> str:
    """The file extension for a result: from its MIME type or URL if known, else .png / .mp4."""
    if mime_type in _BY_TYPE:
        return _BY_TYPE[mime_type]
    suffix = Path(urlparse(url).path).suffix.lower()
    if suffix in MEDIA_SUFFIXES:
        return suffix
    return ".mp4" if kind == "video" else ".png"


def save_path(path: Any) -> tuple[Path | None, bool]:
    """A user's `path` checked: the Path, and whether it names a folder (a trailing slash says so before the folder
    exists; `Path` would drop it)."""
    if path is None:
        return None, True
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise ConfigurationError(f"path must be a file or folder name (a str or Path), got {shown(path)}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip() or "\x00" in text:
        raise ConfigurationError(f"path must name a file or a folder, got {shown(path)}")
    out = Path(text).expanduser()
    return out, text.endswith(_FOLDER_ENDINGS) or _is_folder(out)


def checked_destination(path: Any) -> tuple[Path | None, bool]:
    """`save_path`, and whether the files could be written there, asked of the file system before anything is
    generated or downloaded: the folder a file goes in exists, a folder to be made has a writable one above it."""
    out, folder = save_path(path)
    where = (out or Path()) if folder else (out or Path()).parent
    if not folder and not _is_folder(where):
        problem = "a file is in the way where a folder is needed" if where.exists() else "no such folder"
        raise ConfigurationError(f"cannot save to {_shown_path(out or where)}: {problem} {_shown_path(where)}")
    existing = next(p for p in (where, *where.absolute().parents) if p.exists())
    if not _is_folder(existing):
        raise ConfigurationError(
            f"cannot save to {_shown_path(out or where)}: a file is in the way where a folder is needed"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigurationError(f"cannot save to {_shown_path(out or where)}: permission denied")
    return out, folder


def _is_folder(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long for the file system, say: no folder, and writing it will say why
        return False


def destinations(
    out: Path | None, prompt: str, task_id: str, count: int, suffix: str, folder: bool = False
) -> list[Path]:
    """`out` itself for one file; `out` with -1, -2... before its extension for several; a name made of the
    prompt and the task id, here or in `out` if it is a folder, when `out` names no file."""
    if out is None or folder or _is_folder(out):
        slug = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:40].strip("-") or "conduit"
        # Conduit's ids are "task_" and 32 hex digits: eight of the digits tell files apart.
        tag = re.sub(r"[^A-Za-z0-9]+", "", task_id.removeprefix("task_"))[:8] or "task"
        out = (out or Path()) / f"{slug}-{tag}{suffix}"
    if count == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(1, count + 1)]


def write_result(
    out: SavePath, prompt: str, result: TaskResult, data: list[bytes], types: list[str] | None = None
) -> list[Path]:
    """Write a result's media (`data`, one per URL; `types` their MIME types if known); the files written."""
    where, folder = checked_destination(out)
    suffix = media_suffix(result.urls[0], result.kind, types[0] if types else None)
    files = destinations(where, prompt, result.task_id, len(data), suffix, folder)
    written: list[Path] = []  # temporary files, then (once renamed) the new files that were not there before
    try:
        for target, payload in zip(files, data, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            if _is_folder(target):  # the one rename failure known in advance: found before any file is in place
                raise IsADirectoryError(errno.EISDIR, "is a folder", str(target))
            written.append(_write_beside(target, payload))
        for index, (partial, target) in enumerate(zip(list(written), files, strict=True)):
            existed = target.exists()
            os.replace(partial, target)
            written[index] = target if not existed else partial  # a file replaced cannot be restored: left new
    except OSError as exc:
        for leftover in written:
            with contextlib.suppress(OSError):
                leftover.unlink()
        failed = Path(exc.filename) if isinstance(exc.filename, str) else files[min(len(written), len(files) - 1)]
        raise ConfigurationError(f"cannot save to {_shown_path(_shown_target(failed, files))}: {_why(exc)}") from None
    return files


def _write_beside(target: Path, payload: bytes) -> Path:
    """`payload` in a temporary file in `target`'s folder (so that the rename into place cannot cross disks)."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".partial", dir=target.parent)
    partial = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return partial


def _shown_path(path: Path) -> str:
    # The end of a long path is the part that says which file: cut the start, not the end, as `shown` would.
    text = repr(str(path))
    return text if len(text) <= 160 else "'…" + text[-150:]


def _why(exc: OSError) -> str:
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return "a file is in the way where a folder is needed"
    if isinstance(exc, IsADirectoryError):
        return "that is a folder"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or type(exc).__name__).lower()


def _shown_target(failed: Path, files: list[Path]) -> Path:
    # An error in a temporary file's name is about the file it stood for: name that one.
    for target in files:
        if failed.parent == target.parent and failed.name.startswith(f".{target.name[:40]}."):
            return target
    return failed


async def save_result(
    out: SavePath,
    prompt: str,
    result: TaskResult | None,
    held: tuple[list[bytes], list[str]],
    fetch: Callable[[str], Awaitable[bytes]],
) -> list[Path]:
    """`GenerationWidget.save`: the media it holds (`held`: bytes and types), else fetched, written to `out`."""
    result = finished(result)
    checked_destination(out)  # a wrong path is named before anything is downloaded
    media, types = held
    data = media or [await fetch(url) for url in result.urls]
    return write_result(out, prompt, result, data, types if media else None)


def save_held(out: SavePath, prompt: str, result: TaskResult | None, held: tuple[list[bytes], list[str]]) -> list[Path]:
    """`GenerationWidget.save_now`: the media it holds, written at once. Media it would have to download are refused:
    a blocking download would freeze the loop the Conduit may answer on (a local one: until it times out)."""
    result = finished(result)
    media, types = held
    if not media:
        raise ConduitError("the media are not in the kernel (not embedded): use `await widget.save(...)`")
    return write_result(out, prompt, result, media, types)


def finished(result: TaskResult | None) -> TaskResult:
    """The result, if there is one to save."""
    if result is None or not result.ok or not result.urls:
        raise ConfigurationError("There is no finished result to save yet: `await widget.wait()` first.")
    return result
