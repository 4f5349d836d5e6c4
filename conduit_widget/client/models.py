"""What the client tells its users: `TaskUpdate` while a task runs, `TaskResult` when it ends, `ConnectionEvent`
when a hub connection changes.

Both are immutable snapshots in one vocabulary, whichever dialect and route the server used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple, Protocol

from conduit_widget.client.errors import ConduitError
from conduit_widget.client.redaction import redact, redact_any
from conduit_widget.protocol import STATUSES, TERMINAL_STATUSES, Kind, Status

TERMINAL: Final = TERMINAL_STATUSES


class Downloader(Protocol):
    """What `TaskResult.asave` downloads through: a `ConduitClient`."""

    async def download(self, url: str) -> bytes: ...


Source = Literal["hub", "poll", "client"]

# Every status word seen from Conduit, its successor, its SDKs and its docs, folded to the six above.
_STATUS_WORDS: Final[dict[str, Status]] = {
    "pending": "pending",
    "queued": "pending",
    "created": "pending",
    "waiting": "pending",
    "processing": "processing",
    "running": "processing",
    "in_progress": "processing",
    "inprogress": "processing",
    "started": "processing",
    "storing": "processing",
    "initializing": "processing",
    "processing_frames": "processing",
    "generating_video": "processing",
    "encoding": "processing",
    "finalizing": "processing",
    "completed": "completed",
    "complete": "completed",
    "succeeded": "completed",
    "success": "completed",
    "failed": "failed",
    "error": "failed",
    "indeterminate": "failed",  # the Gateway: a provider call cut short by a cancel, outcome unknown
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "timedout": "timedout",
    "timed_out": "timedout",
    "timeout": "timedout",
}
_STATE_NUMBERS: Final = STATUSES  # TaskState's integer enum on /v1/tasks, in its order


def normalise_status(value: object) -> Status | None:
    """One of the six statuses, or None for a word nobody has sent before."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _STATE_NUMBERS[value] if 0 <= value < len(_STATE_NUMBERS) else None
    if not isinstance(value, str):
        return None
    exact = _STATUS_WORDS.get(value)  # the usual case, without the string work below
    return exact if exact is not None else _STATUS_WORDS.get(value.strip().lower().replace("-", "_").replace(" ", "_"))


_NO_METADATA: Final[Mapping[str, Any]] = MappingProxyType({})


_SERVER_TEXT: Final = ("message", "stage", "error", "error_code", "video_url", "preview_url")


class TaskEvent(NamedTuple):
    """What one hub event or one status answer said about a task, before the task's state machine
    decides what of it is news. ``None`` means "not said".

    A named tuple for the same reason as `TaskUpdate`: one is made for every hub event."""

    task_id: str
    source: Source
    status: Status | None = None
    progress: float | None = None
    message: str | None = None
    stage: str | None = None
    eta_seconds: float | None = None
    images_completed: int | None = None
    images_total: int | None = None
    frames_completed: int | None = None
    frames_total: int | None = None
    image_urls: tuple[str, ...] = ()
    video_url: str | None = None
    preview_url: str | None = None
    error: str | None = None
    error_code: str | None = None
    is_retryable: bool | None = None
    metadata: Mapping[str, Any] = _NO_METADATA

    def without_keys(self) -> TaskEvent:
        """This event with any key a server echoed blanked out of its text, URLs and metadata. Most have none: then
        the event itself, for nothing made."""
        changes: dict[str, Any] = {}
        for name in _SERVER_TEXT:
            value = getattr(self, name)
            if value:
                cleaned = redact(value)
                if cleaned != value:
                    changes[name] = cleaned
        if self.image_urls:
            urls = tuple(redact(url) for url in self.image_urls)
            if urls != self.image_urls:
                changes["image_urls"] = urls
        if self.metadata:
            metadata = redact_any(self.metadata)
            if metadata != dict(self.metadata):
                changes["metadata"] = MappingProxyType(metadata)
        return self._replace(**changes) if changes else self


class TaskUpdate(NamedTuple):
    """The state of a running task, as the user should see it: progress only ever rises.

    An immutable snapshot, made for every progress event a task gets (thousands a second at full rate): a
    named tuple, because a frozen dataclass takes several times as long to make."""

    task_id: str
    kind: Kind
    status: Status
    progress: int  # 0..100
    message: str | None = None
    stage: str | None = None  # the server's own word for the step ("storing", "encoding", ...)
    eta_seconds: float | None = None
    elapsed_seconds: float = 0.0
    images_completed: int | None = None
    images_total: int | None = None
    frames_completed: int | None = None
    frames_total: int | None = None
    source: Source = "client"

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class TaskResult:
    """How a task ended. A failed task is a result too (``ok`` is False), not an exception."""

    task_id: str
    kind: Kind
    status: Status
    image_urls: tuple[str, ...] = ()
    video_url: str | None = None
    preview_url: str | None = None
    error: str | None = None
    error_code: str | None = None
    is_retryable: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
    # The bytes of each URL, when whoever made the result downloaded them (the blocking helpers do): kept out of
    # repr and comparisons, which are about how the task ended.
    media: tuple[bytes, ...] = field(default=(), repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "completed"

    def save(self, path: str | os.PathLike[str] | None = None) -> list[Path]:
        """Write the media this result carries to `path` (a file, or a folder: see `conduit_widget.saving`); the
        files written. Only a result with its `media` can be saved without a client: in async code, `asave`."""
        from conduit_widget.saving import finished, save_path, write_result

        finished(self)
        save_path(path)  # a wrong path is named first, whatever else is wrong
        if len(self.media) != len(self.urls):
            raise ConduitError(
                "this result does not carry its media (only the blocking helpers' results do): "
                "`await result.asave(path, client)` downloads them"
            )
        return write_result(path, self._prompt, self, list(self.media))

    async def asave(self, path: str | os.PathLike[str] | None, client: Downloader) -> list[Path]:
        """Write this result's media to `path`, downloading through `client` (a `ConduitClient`) what it does not
        carry; the files written."""
        from conduit_widget.saving import finished, save_path, write_result

        finished(self)
        save_path(path)  # named before anything is downloaded
        data = list(self.media) if len(self.media) == len(self.urls) else [await client.download(u) for u in self.urls]
        return write_result(path, self._prompt, self, data)

    @property
    def _prompt(self) -> str:
        # Files saved into a folder are named after the prompt where the server echoed it, else after the task id.
        prompt = self.metadata.get("prompt")
        return prompt if isinstance(prompt, str) else ""

    @property
    def image_url(self) -> str | None:
        return self.image_urls[0] if self.image_urls else None

    @property
    def urls(self) -> tuple[str, ...]:
        """Every media URL of the result: the images, or the video."""
        return self.image_urls or ((self.video_url,) if self.video_url else ())


LinkState = Literal["connecting", "connected", "reconnecting", "disconnected"]


@dataclass(frozen=True)
class ConnectionEvent:
    """What a ``connected``/``reconnecting``/``reconnected``/``disconnected``/``error`` listener gets."""

    hub: Kind
    state: LinkState
    attempt: int = 0
    delay: float | None = None
    error: str | None = None
