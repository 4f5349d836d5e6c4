"""One task's state machine: what of an incoming event is news, and what the user may see.

The rules, whatever order events arrive in and however often: progress never goes backwards; a terminal
state (completed, failed, cancelled, timed out) is final and reported once; a repeat of what is already
known is not news. Events reach it from the hub and from status polls alike, so a lost or late hub event
is made up for by the next poll, and a late hub event after a poll changes nothing.
"""

from __future__ import annotations

import time

from conduit_widget.client.models import TERMINAL, Source, TaskEvent, TaskResult, TaskUpdate
from conduit_widget.protocol import Kind, Status

_new_update = tuple.__new__


def _rounded(seconds: float, per_second: int) -> float:
    """`seconds` to the nearest 1/`per_second`, for a number of seconds that is never negative: half the cost
    of round(x, n), which goes through a correctly rounded decimal conversion, on a path every event takes."""
    return int(seconds * per_second + 0.5) / per_second


class TaskState:
    def __init__(self, task_id: str, kind: Kind) -> None:
        self.task_id = task_id
        self.kind = kind
        self.status: Status = "pending"
        self.progress = 0
        self.message: str | None = None
        self.stage: str | None = None
        self.images_completed: int | None = None
        self.images_total: int | None = None
        self.frames_completed: int | None = None
        self.frames_total: int | None = None
        self.result: TaskResult | None = None
        self._created = time.monotonic()
        self._rate_origin: tuple[float, int] | None = None  # (when, progress) of the first progress seen
        self._server_eta: tuple[float, float] | None = None  # (when, seconds) as the server last estimated
        self._last_update: TaskUpdate | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def update(self) -> TaskUpdate:
        """The latest snapshot (made afresh only when something changed)."""
        if self._last_update is None:
            self._last_update = self._snapshot("client", time.monotonic())
        return self._last_update

    def apply(self, event: TaskEvent, now: float | None = None) -> TaskUpdate | None:
        """Take in an event; return the new snapshot if it changed what the user sees, else None. `now` is
        `time.monotonic()`, when the caller already has it."""
        if self.status in TERMINAL:
            return None
        status = event.status
        if status in TERMINAL:
            return self._finish(event)
        if now is None:
            now = time.monotonic()
        # Written out field by field rather than looped over names: this runs for every progress event.
        changed = False
        progress = event.progress
        if progress is not None:
            progress = int(progress)
            progress = 0 if progress < 0 else 99 if progress > 99 else progress  # 100 is only said by completion
            if progress > self.progress:
                if self._rate_origin is None:
                    self._rate_origin = (now, self.progress)
                self.progress, changed = progress, True
        if status == "processing" and self.status == "pending":
            self.status, changed = "processing", True
        message = event.message
        if message is not None and message != self.message:
            self.message, changed = message, True
        stage = event.stage
        if stage is not None and stage != self.stage:
            self.stage, changed = stage, True
        count = event.images_completed
        if count is not None and (self.images_completed is None or self.images_completed < count):
            self.images_completed, changed = count, True
        count = event.images_total
        if count is not None and (self.images_total is None or self.images_total < count):
            self.images_total, changed = count, True
        count = event.frames_completed
        if count is not None and (self.frames_completed is None or self.frames_completed < count):
            self.frames_completed, changed = count, True
        count = event.frames_total
        if count is not None and (self.frames_total is None or self.frames_total < count):
            self.frames_total, changed = count, True
        if event.eta_seconds is not None:
            self._server_eta = (now, event.eta_seconds)
            changed = True
        if not changed:
            return None
        self._last_update = update = self._snapshot(event.source, now)
        return update

    def enrich(self, event: TaskEvent) -> bool:
        """Fill in what a completion lacked (e.g. URLs a seed event left out) from a later status answer."""
        if self.result is None or event.status != self.result.status or self.result.urls:
            return False
        if not (event.image_urls or event.video_url):
            return False
        self.result = self._result_from(event)
        return True

    def _finish(self, event: TaskEvent) -> TaskUpdate:
        assert event.status is not None
        self.status = event.status
        if event.status == "completed":
            self.progress = 100
        self.message = event.message or self.message
        self.result = self._result_from(event)
        self._last_update = self._snapshot(event.source, time.monotonic())
        return self._last_update

    def _result_from(self, event: TaskEvent) -> TaskResult:
        assert event.status is not None
        return TaskResult(
            task_id=self.task_id,
            kind=self.kind,
            status=event.status,
            image_urls=event.image_urls,
            video_url=event.video_url,
            preview_url=event.preview_url,
            error=event.error,
            error_code=event.error_code,
            is_retryable=bool(event.is_retryable),
            metadata=dict(event.metadata),
            elapsed_seconds=round(time.monotonic() - self._created, 3),
        )

    def _snapshot(self, source: Source, now: float) -> TaskUpdate:
        # tuple.__new__ with the fields in order: this runs for every progress event, and the named tuple's own
        # __new__ is one Python call more for the same tuple.
        return _new_update(
            TaskUpdate,
            (
                self.task_id,
                self.kind,
                self.status,
                self.progress,
                self.message,
                self.stage,
                None if self.status in TERMINAL else self._eta(now),
                _rounded(now - self._created, 1000),
                self.images_completed,
                self.images_total,
                self.frames_completed,
                self.frames_total,
                source,
            ),
        )

    def _eta(self, now: float) -> float | None:
        if self._server_eta is not None:
            said_at, seconds = self._server_eta
            return max(0.0, seconds - (now - said_at))
        if self._rate_origin is None:
            return None
        since, start = self._rate_origin
        done = self.progress - start
        if done <= 0 or now - since < 0.2:  # too little seen to say
            return None
        return _rounded((now - since) * (100 - self.progress) / done, 10)
