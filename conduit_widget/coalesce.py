"""`Coalescer`: the latest of many values, passed on at most once an interval. How progress reaches the browser.

A hub can report progress thousands of times a second; a browser needs about ten updates a second, and every comm
message costs the kernel a serialisation and the browser a render. So a widget offers each update here and only
the latest goes out, at most once every ``interval`` seconds, from a timer on the kernel's loop. Whoever ends the
stream calls `drop` and shows the ending itself, exactly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Coalescer(Generic[T]):
    def __init__(self, send: Callable[[T], None], interval: float) -> None:
        self._send = send
        self.interval = interval
        self.pending: T | None = None
        self.last_sent = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def offer(self, value: T, loop: asyncio.AbstractEventLoop) -> None:
        """Keep `value` as the latest; send it now if the interval has passed, else when it has."""
        self.pending = value
        if self._timer is not None:
            return  # already due: it will send the latest
        wait = self.last_sent + self.interval - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self._timer = loop.call_later(wait, self.flush)

    def flush(self) -> None:
        """Send the latest value, if one is waiting."""
        self._timer = None
        value, self.pending = self.pending, None
        if value is not None:
            self.last_sent = time.monotonic()
            self._send(value)

    def drop(self) -> None:
        """Forget what is waiting and stop the timer: the stream ended, or its reader went away."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.pending = None
