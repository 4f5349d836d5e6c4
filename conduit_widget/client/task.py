"""`Task`: the handle a user holds on one generation, fed by the hub and by status polls alike."""

from __future__ import annotations

import asyncio
import builtins
import collections
import contextlib
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from conduit_widget.client import inputs
from conduit_widget.client.errors import ConduitError, ConfigurationError, DeadlineExceededError
from conduit_widget.client.models import TERMINAL, TaskEvent, TaskResult, TaskUpdate
from conduit_widget.client.state import TaskState
from conduit_widget.protocol import Kind, Status

log = logging.getLogger(__name__)

_MAX_BACKLOG = 256  # updates an `async for` consumer may fall behind by before older progress is folded


class _Updates:
    """One `async for` consumer's queue. A consumer that falls far behind gets the latest progress, not
    every step; the final update is always delivered."""

    def __init__(self) -> None:
        self._items: collections.deque[TaskUpdate] = collections.deque()
        self._ready = asyncio.Event()
        self._let_go: Callable[[], ConduitError] | None = None

    def put(self, update: TaskUpdate) -> None:
        if len(self._items) >= _MAX_BACKLOG and not self._items[-1].done:
            self._items[-1] = update
        else:
            self._items.append(update)
        self._ready.set()

    def let_go(self, error: Callable[[], ConduitError]) -> None:
        """No more updates will come: once the queue is empty, `get` raises `error()` rather than wait for good."""
        self._let_go = error
        self._ready.set()

    async def get(self) -> TaskUpdate:
        while not self._items:
            if self._let_go is not None:
                raise self._let_go()
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()


class Task:
    """A generation task being followed. ``async for update in task``, ``await task.wait()``,
    ``await task.cancel()``; ``task.update`` is the latest snapshot and ``task.result`` the ending.

    A task knows nothing of hubs or HTTP: its client's follower feeds it events (`apply`) and carries out a cancel
    (the `cancel` it was made with)."""

    def __init__(
        self,
        task_id: str,
        kind: Kind,
        request: dict[str, Any] | None = None,
        *,
        cancel: Callable[[Task], Awaitable[None]],
    ) -> None:
        self.id = task_id
        self.kind = kind
        self.request = request  # what created it, so a failed attempt can be made again
        self.attempts: list[str] = [task_id]
        self.retries_used = 0  # by the client's retry_failed recovery
        self._request_cancel = cancel
        self._state = TaskState(task_id, kind)
        self._done = asyncio.Event()
        self._let_go: str | None = None  # why no ending will be reported, once nobody follows it
        self._consumers: list[_Updates] = []
        # A tuple, replaced whole on a change, so that a listener removing itself mid-delivery needs no copy.
        self._listeners: tuple[Callable[[TaskUpdate], Any], ...] = ()

    def __repr__(self) -> str:
        update = self.update
        return f"<Task {self.kind} {self.id} {update.status} {update.progress}%>"

    # -- what the user reads -------------------------------------------------------------------

    @property
    def update(self) -> TaskUpdate:
        return self._state.update

    @property
    def status(self) -> Status:
        return self._state.status

    @property
    def progress(self) -> int:
        return self._state.progress

    @property
    def done(self) -> bool:
        return self._state.done

    @property
    def result(self) -> TaskResult | None:
        return self._state.result

    def __aiter__(self) -> AsyncIterator[TaskUpdate]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[TaskUpdate]:
        queue = _Updates()
        self._consumers.append(queue)
        try:
            current = self.update
            yield current
            while not current.done:
                current = await queue.get()
                yield current
        finally:
            self._consumers.remove(queue)

    def on_update(self, callback: Callable[[TaskUpdate], Any]) -> Callable[[], None]:
        """Call `callback` with every new update (on the event loop); returns a function that stops it."""
        inputs.callback("callback", callback)
        self._listeners = (*self._listeners, callback)
        return lambda: self._stop_listening(callback)

    def _stop_listening(self, callback: Callable[[TaskUpdate], Any]) -> None:
        if callback in self._listeners:
            index = self._listeners.index(callback)
            self._listeners = self._listeners[:index] + self._listeners[index + 1 :]

    async def wait(self, timeout: float | None = None, *, cancel_on_timeout: bool = False) -> TaskResult:
        """The task's result once it ends. A timeout raises DeadlineExceededError naming the task and leaves it
        running on the server, unless `cancel_on_timeout`."""
        inputs.seconds("timeout", timeout, optional=True, zero=True)
        if not isinstance(cancel_on_timeout, bool):
            raise ConfigurationError(f"cancel_on_timeout must be True or False, got {inputs.shown(cancel_on_timeout)}")
        try:
            await asyncio.wait_for(self._done.wait(), timeout)
        except builtins.TimeoutError:
            if cancel_on_timeout:
                with contextlib.suppress(ConduitError):
                    await self.cancel()
            still = (
                "cancelled"
                if cancel_on_timeout
                else f"still {self.status} on the server, not cancelled: `await task.wait()` again to keep waiting"
            )
            raise DeadlineExceededError(
                f"{self.kind} task {self.id} did not finish within {timeout:g} s ({self.progress}%, {still})",
                task_id=self.id,
            ) from None
        if self.result is None:
            raise self._no_longer_followed()
        return self.result

    async def cancel(self) -> TaskResult:
        """Ask the server to cancel; the result (``cancelled``, or how it ended if it ended first).

        The server's word is its task's state, not its answer to the cancel: an image cancel is only "requested"
        (it lands a moment later, announced as progress with status "cancelled"), a video cancel is announced by no
        event at all, and a task may end otherwise meanwhile. So the status is read after asking, and the task is
        followed as usual until it ends."""
        if not self.done:
            await self._request_cancel(self)
        return await self.wait(30)

    # -- what feeds it (the follower) ----------------------------------------------------------

    def let_go(self, why: str) -> None:
        """Nobody follows this task any more (its client closed, or was told to forget it): whoever waits for it, or
        iterates over it, hears `why` as a ConduitError rather than wait for an ending nobody will report."""
        if self.done or self._let_go is not None:
            return
        self._let_go = why
        self._done.set()
        for consumer in self._consumers:
            consumer.let_go(self._no_longer_followed)

    def _no_longer_followed(self) -> ConduitError:
        # A new error for each waiter: one instance raised in many places would gather all their tracebacks.
        return ConduitError(f"{self.kind} task {self.id} is no longer followed: {self._let_go}", task_id=self.id)

    def apply(self, event: TaskEvent, now: float | None = None) -> TaskUpdate | None:
        """Take in one event; the state machine decides what is news. The update it made, if any, reaches every
        consumer and listener, and an ending wakes whoever waits."""
        if event.task_id != self.id:
            return None  # an event for an attempt this handle has moved on from
        update = self._state.apply(event, now)
        if update is None:
            return None
        for consumer in self._consumers:
            consumer.put(update)
        for listener in self._listeners:
            call_listener(listener, update, "a task listener")
        if update.status in TERMINAL:
            self._done.set()
        return update

    def enrich(self, event: TaskEvent) -> None:
        """What a status read adds to a task that ended without its media; nothing else changes."""
        self._state.enrich(event)

    def moved_to(self, task_id: str) -> None:
        """Follow a new attempt (a retried image task gets a new id on the server)."""
        self.id = task_id
        self.attempts.append(task_id)
        self._state.task_id = task_id


def call_listener(callback: Callable[[Any], Any], value: Any, what: str) -> None:
    """Call a user's callback, plain or async, with `value`. Its failure is logged as `what` failing and never
    reaches the code that delivers events, whichever way it fails."""
    try:
        outcome = callback(value)
        if outcome is not None and inspect.isawaitable(outcome):
            asyncio.ensure_future(outcome).add_done_callback(functools.partial(log_failure, what))
    except Exception:
        log.exception("%s failed", what)


def log_failure(what: str, job: asyncio.Future[Any]) -> None:
    if not job.cancelled() and job.exception() is not None:
        log.error("%s failed", what, exc_info=job.exception())
