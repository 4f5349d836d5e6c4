"""`Follower`: the tasks one client follows, and every decision about them.

Events reach a task only through here. A hub link hands each event it read to `receive`, a status read hands its
answer the same way, and `receive` decides, then hands the event to the task's state machine (`Task.apply`):

- a completion without its media (some JavaScript-docs servers) waits for a status read that has them;
- a failure the server calls retryable is made again, `retry_failed` times at most, instead of ending the task;
- an ending unsubscribes the task and is announced to the client's listeners; progress too, if anyone listens.

How nothing is missed: after each subscribe, and after every reconnect, the task's status is read (events are not
replayed); a watchdog reads the status of any task the hub has been quiet about for ``watchdog_interval``; while a
hub is down (or with ``transport="polling"``) every open task is read every ``poll_interval``. Whatever arrives
twice or late changes nothing: the state machine takes only news.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from conduit_widget.client.dialects import created_task_id, parse_status
from conduit_widget.client.errors import (
    AuthError,
    ConduitError,
    ConfigurationError,
    ConflictError,
    DeadlineExceededError,
    ForbiddenError,
    HubError,
    InsufficientBalanceError,
    NetworkError,
    NotFoundError,
    ServerError,
    ValidationError,
)
from conduit_widget.client.models import TERMINAL, ConnectionEvent, TaskEvent
from conduit_widget.client.policies import Intervals, RetryPolicy
from conduit_widget.client.realtime import HubLink
from conduit_widget.client.rest import RestClient
from conduit_widget.client.task import Task, call_listener
from conduit_widget.protocol import Kind

log = logging.getLogger(__name__)

Listeners = dict[str, list[Callable[[Any], Any]]]
_TICK: Final = 0.25
_MAX_CONCURRENT_POLLS: Final = 8
# A status read that fails for one of these will not do better next time: the task cannot be followed.
_FOR_GOOD: Final = (NotFoundError, AuthError, ForbiddenError, InsufficientBalanceError)
# A 404 is believed at the second read in a row: the first may come from a replica that has not seen the task yet,
# or a proxy's passing fault; ending a task the server then completes would lose its result.
_NOT_FOUND_BELIEVED: Final = 2


@dataclass(eq=False)
class _Followed:
    """What the follower keeps about one task, beside the task's own state."""

    task: Task
    last_heard: float = field(default_factory=time.monotonic)
    last_polled: float = 0.0
    media_read: asyncio.Task[None] | None = None  # the status read a completion without media asked for
    not_found: int = 0  # status reads in a row answered 404


class Follower:
    """Owns the followed tasks of one client. `link_for` gives the hub link of a kind (the client acquires it from
    the pool); `listeners` are the client's, whom endings, progress and connection changes are told."""

    def __init__(
        self,
        rest: RestClient,
        link_for: Callable[[Kind], HubLink],
        listeners: Listeners,
        intervals: Intervals,
        retry: RetryPolicy,
    ) -> None:
        self.rest = rest
        self._link_for = link_for
        self._listeners = listeners
        self.intervals = intervals
        self._retry_policy = retry
        self._followed: dict[str, _Followed] = {}
        self._links: dict[Kind, HubLink] = {}
        self._jobs: set[asyncio.Task[None]] = set()
        self._poll_slots = asyncio.Semaphore(_MAX_CONCURRENT_POLLS)
        self._retrying: set[str] = set()  # task ids whose failure is being retried right now
        self._polling: set[_Followed] = set()  # tasks whose watchdog read is queued or under way
        self._scan_rules: tuple[object, ...] = ()  # see _poll_silent_tasks
        self._next_scan = 0.0
        self._closed = False
        self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="conduit-watchdog")

    @property
    def open_tasks(self) -> int:
        return len(self._followed)

    @property
    def links(self) -> Mapping[Kind, HubLink]:
        return self._links

    @property
    def jobs(self) -> int:
        """Status reads, follows and retries under way or queued."""
        return len(self._jobs) + len(self._retrying)

    # -- following -------------------------------------------------------------------------------------------------

    async def follow(self, task: Task) -> None:
        """Follow `task` from now on: subscribe on the hub (unless polling only), then read its status once."""
        followed = self._followed[task.id] = _Followed(task)
        await self._subscribe(followed)
        await self.reconcile(followed)

    def follow_later(self, task: Task) -> None:
        """`follow` in the background (a handle on a task created elsewhere); a failure to follow ends the task."""

        async def follow() -> None:
            try:
                await self.follow(task)
            except ConduitError as exc:
                self.receive(TaskEvent(task.id, "client", status="failed", error=exc.message))

        self._spawn(follow())

    def followed(self, task_id: str) -> Task | None:
        followed = self._followed.get(task_id)
        return followed.task if followed is not None else None

    async def _subscribe(self, followed: _Followed) -> None:
        if self.intervals.transport == "polling":
            return
        link = self._link(followed.task.kind)
        try:
            await link.subscribe(followed.task.id, self.receive)
        except HubError as exc:
            log.debug("%s", exc)  # the status read that follows says what is wrong (404 for another key's task)

    def _link(self, kind: Kind) -> HubLink:
        link = self._links.get(kind)
        if link is None:
            if self._closed:
                # A call still under way when the client was closed: a link acquired now would never be let go,
                # and would stay connected (and reconnecting) for as long as the process runs.
                raise ConfigurationError("this ConduitClient was closed; make a new one")
            link = self._links[kind] = self._link_for(kind)
            link.add_listener(self._on_link_event)
        return link

    def connection_state(self, kind: Kind) -> str:
        if self.intervals.transport == "polling":
            return "polling"
        link = self._links.get(kind)
        return link.state if link is not None else "connecting"

    def forget(self, task: Task) -> None:
        """Stop following a task: no more hub events or status reads for it."""
        self._followed.pop(task.id, None)
        link = self._links.get(task.kind)
        if link is not None:
            link.unsubscribe(task.id, self.receive)

    async def close(self) -> list[HubLink]:
        """Stop following everything; the links, for the client to give back to the pool."""
        self._closed = True
        self._watcher.cancel()
        for job in list(self._jobs):
            job.cancel()
        links = list(self._links.values())
        for link in links:
            link.remove_listener(self._on_link_event)
            for task_id in [t for t, f in self._followed.items() if f.task.kind == link.kind]:
                link.unsubscribe(task_id, self.receive)
        self._links.clear()
        return links

    # -- the one way in for events ---------------------------------------------------------------------------------

    def receive(self, event: TaskEvent) -> None:
        """Take in one event about a followed task, from any source, and decide what becomes of it."""
        followed = self._followed.get(event.task_id)
        if followed is None:
            return  # not followed (any more), or an attempt a retry has moved on from
        event = event.without_keys()  # the one place server text enters a task: nothing after it sees a key
        followed.last_heard = now = time.monotonic()
        status = event.status
        if status == "completed" or status == "failed":
            if status == "completed" and not (event.image_urls or event.video_url) and event.source == "hub":
                # A completion without its media: read them from the status route first. One read at a time: a
                # server repeating the event must not make the client repeat the request.
                if followed.media_read is None or followed.media_read.done():
                    followed.media_read = self._schedule_reconcile(followed)
                return
            if status == "failed" and self._retried(followed, event):
                return
        task = followed.task
        update = task.apply(event, now)
        if update is None:
            return
        if update.status in TERMINAL:
            self.forget(task)
            self._emit(update.status, task.result)
        elif self._listeners.get("progress"):  # every progress event passes here; most clients have no such listener
            self._emit("progress", update)

    # -- status reads ------------------------------------------------------------------------------------------------

    async def reconcile(self, followed: _Followed) -> None:
        """Read the task's status and take it in: how missed events are made up for."""
        if self._closed:
            return
        followed.last_polled = time.monotonic()
        task = followed.task
        try:
            body = await self.rest.status(task.kind, task.id)
        except NotFoundError as exc:
            followed.not_found += 1
            if followed.not_found < _NOT_FOUND_BELIEVED:
                log.debug("%s; asking again before believing it", exc.message)
                self._spawn(self._read_again(followed, self._retry_policy.delay(followed.not_found - 1, None)))
            else:
                self.receive(TaskEvent(task.id, "poll", status="failed", error=exc.message))
            return
        except _FOR_GOOD as exc:
            # Not a passing trouble: the task cannot be followed. Say why, once, as its ending.
            self.receive(TaskEvent(task.id, "poll", status="failed", error=exc.message))
            return
        except ConduitError as exc:
            log.debug("status of %s task %s not read this time: %s", task.kind, task.id, exc.message)
            return
        followed.not_found = 0
        link = self._links.get(task.kind)
        if link is not None:
            link.retry_now()  # the server is back: the hub need not wait out its backoff
        event = parse_status(body, task.kind)
        if event is None or event.task_id != task.id:
            log.debug("status of %s task %s was not readable", task.kind, task.id)
        elif task.done:
            task.enrich(event)
        elif task.id in self._followed:
            self.receive(event)
        else:
            task.apply(event)

    async def cancel(self, task: Task) -> None:
        """Ask the server to cancel, then read the status: the answer only says the cancel was requested (an image
        cancel lands a moment later, as progress with status "cancelled"; a video cancel is announced by nothing)."""
        with contextlib.suppress(ValidationError, ConflictError):  # already over: its status says how
            await self.rest.cancel(task.kind, task.id)
        # A task no longer followed (its widget closed) is read all the same: the caller waits for its ending.
        await self.reconcile(self._followed.get(task.id) or _Followed(task))

    async def _read_again(self, followed: _Followed, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._followed.get(followed.task.id, followed) is followed:  # not an attempt a retry moved on from
            await self.reconcile(followed)

    def _schedule_reconcile(self, followed: _Followed) -> asyncio.Task[None]:
        async def bounded() -> None:
            async with self._poll_slots:
                await self.reconcile(followed)

        return self._spawn(bounded())

    def _spawn(self, job: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        running = asyncio.get_running_loop().create_task(job)
        self._jobs.add(running)
        running.add_done_callback(self._jobs.discard)
        return running

    # -- the watchdog ------------------------------------------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(_TICK)
            self._poll_silent_tasks()

    def _poll_silent_tasks(self) -> None:
        """Read the tasks the hub is not telling us about: all of them while it is down, silent ones always."""
        now = time.monotonic()
        rules = self._watchdog_rules()
        if rules == self._scan_rules and now < self._next_scan:
            # No task can be due before then: a task's last activity only moves forward, and under the same rules
            # (links up or down, intervals) its interval is the same. With a thousand tasks a scan takes a
            # millisecond, four times a second, in the loop that also delivers their events.
            return
        intervals = self.intervals
        next_due = now + min(intervals.watchdog_interval, intervals.poll_interval)
        for followed in list(self._followed.values()):
            if followed.task.done or followed in self._polling:
                # A read still unanswered (the server, or this process, is swamped): one more every interval would
                # only pile up in the queue, holding the task for long after it ended.
                continue
            link = self._links.get(followed.task.kind)
            live = intervals.transport != "polling" and link is not None and link.connected
            due = max(followed.last_heard, followed.last_polled) + (
                intervals.watchdog_interval if live else intervals.poll_interval
            )
            if now >= due:
                followed.last_polled = now  # so the next tick does not schedule it again meanwhile
                self._polling.add(followed)
                self._schedule_reconcile(followed).add_done_callback(functools.partial(self._polled, followed))
            elif due < next_due:
                next_due = due
        # A task whose read is under way is looked at again on the next tick, as before.
        self._scan_rules, self._next_scan = rules, (now if self._polling else next_due)

    def _polled(self, followed: _Followed, _job: asyncio.Task[None]) -> None:
        self._polling.discard(followed)

    def _watchdog_rules(self) -> tuple[object, ...]:
        """What decides each task's interval: when it changes, every task is looked at again."""
        return (self.intervals, tuple((kind, link.connected) for kind, link in self._links.items()))

    def _on_link_event(self, name: str, event: ConnectionEvent) -> None:
        if name in ("connected", "reconnected"):
            # Resubscribed already; now catch up on whatever happened while we were away.
            for followed in list(self._followed.values()):
                if followed.task.kind == event.hub and not followed.task.done:
                    self._schedule_reconcile(followed)
        if name == "error":
            # The one error a hub link reports is a refused key: listeners get it as the typed error.
            self._emit("error", AuthError(event.error or "the hub refused the virtual key", status=401))
        else:
            self._emit(name, event)

    # -- retries -----------------------------------------------------------------------------------------------------

    def _retried(self, followed: _Followed, event: TaskEvent) -> bool:
        """The seed's error-recovery manager: retry a retryable failure, at most `retry_failed` times."""
        if event.task_id in self._retrying:
            return True  # the same failure again (the other dialect's event): a retry is already under way
        used = followed.task.retries_used
        if not event.is_retryable or used >= self.intervals.retry_failed or self._closed:
            return False
        followed.task.retries_used = used + 1
        self._retrying.add(event.task_id)
        self._spawn(self._retry(followed, event, used + 1))
        return True

    async def _retry(self, followed: _Followed, event: TaskEvent, attempt: int) -> None:
        task = followed.task
        note = f"Retrying ({attempt} of {self.intervals.retry_failed}) after: {event.error}"
        try:
            if task.kind == "video":
                await self._retry_video(task)  # the same task id, started again on the server
            else:
                if task.request is None:
                    raise ConduitError("a task created elsewhere cannot be made again")
                new_id = created_task_id(await self.rest.create("image", task.request))
                if new_id is None:
                    raise ConduitError("the server accepted the retry but named no task id")
                self.forget(task)
                task.moved_to(new_id)
                await self.follow(task)
        except ConduitError as exc:
            self._retrying.discard(event.task_id)
            self.receive(TaskEvent(task.id, "client", status="failed", error=f"{event.error} (retry failed: {exc})"))
            return
        self._retrying.discard(event.task_id)
        self.receive(TaskEvent(task.id, "client", status="pending", message=note))

    async def _retry_video(self, task: Task) -> None:
        """Ask for the failed video to be made again. The call is sent once (a second is refused: the task is no
        longer failed); when its answer is lost, or is a gateway's 5xx, the task's status says whether the retry
        took, and only a task still failed is asked again."""
        attempt = 0
        while True:
            try:
                await self.rest.retry_video(task.id)
                return
            except (NetworkError, ServerError, DeadlineExceededError) as exc:
                if attempt >= self._retry_policy.max_retries:
                    raise
                error = exc
            event = parse_status(await self.rest.status("video", task.id), "video")
            if event is not None and event.status != "failed":
                log.debug("the retry of video task %s took, though its answer was lost (%s)", task.id, error)
                return
            await asyncio.sleep(self._retry_policy.delay(attempt, None))
            attempt += 1

    # -- telling the client's listeners ------------------------------------------------------------------------------

    def _emit(self, name: str, value: Any) -> None:
        callbacks = self._listeners.get(name)
        if callbacks:
            for callback in tuple(callbacks):
                call_listener(callback, value, f"a {name!r} listener")
