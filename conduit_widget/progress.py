"""A task's progress on the command line: a live rich bar on a terminal, a few plain lines a second elsewhere.

Rich's own Live display prints nothing until it stops when the output is not an interactive terminal (a
pipe, a file, ``TERM=dumb``), so there this prints one plain line per change instead, at most
``1 / plain_interval`` a second, plus every change of status and the final update.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Task as RichTask
from rich.table import Column
from rich.text import Text

from conduit_widget.client.models import TaskUpdate


class _EtaColumn(ProgressColumn):
    """The server's estimate of the time left, counted down between updates."""

    def render(self, task: RichTask) -> Text:
        eta, at = task.fields.get("eta"), task.fields.get("eta_at")
        if task.finished:
            return Text("")
        if eta is None or at is None:
            return Text("eta -:--", style="progress.remaining")
        left = max(0, round(eta - (time.monotonic() - at)))
        return Text(f"eta {left // 60}:{left % 60:02d}", style="progress.remaining")


class TaskProgress:
    """``with TaskProgress(console, "image") as shown: shown.update(update)`` for each TaskUpdate."""

    def __init__(self, console: Console, label: str, *, plain_interval: float = 0.5) -> None:
        self._console = console
        self._label = label
        self._plain_interval = plain_interval
        self._last_plain: tuple[float, str, int] | None = None  # when, status, progress of the last line
        self._bar: Progress | None = None
        self._bar_task: TaskID | None = None
        if console.is_interactive:
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn(
                    "{task.fields[message]}",
                    markup=False,
                    table_column=Column(max_width=36, no_wrap=True, overflow="ellipsis"),
                ),
                TimeElapsedColumn(),
                _EtaColumn(),
                console=console,
            )

    def __enter__(self) -> TaskProgress:
        if self._bar is not None:
            self._bar.start()
            self._bar_task = self._bar.add_task(self._label, total=100, message="", eta=None, eta_at=None)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, update: TaskUpdate) -> None:
        failed = update.done and update.status != "completed"  # say how it ended, not its last step
        message = update.status if failed else update.message or update.status
        if self._bar is not None and self._bar_task is not None:
            self._bar.update(
                self._bar_task,
                completed=update.progress,
                message=message,
                eta=update.eta_seconds,
                eta_at=time.monotonic(),
            )
            return
        now = time.monotonic()
        if self._last_plain is not None and not update.done:
            when, status, progress = self._last_plain
            if (status, progress) == (update.status, update.progress):
                return
            if status == update.status and now - when < self._plain_interval:
                return
        self._last_plain = (now, update.status, update.progress)
        eta = f", eta {update.eta_seconds:.0f} s" if update.eta_seconds is not None and not update.done else ""
        line = f"{self._label} {update.progress:3d}% {message} ({update.elapsed_seconds:.1f} s{eta})"
        self._console.print(line, markup=False, highlight=False, soft_wrap=True)
