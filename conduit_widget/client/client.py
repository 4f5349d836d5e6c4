"""`ConduitClient`: create generation tasks over REST and follow them live, without ever losing one.

How a task is followed: the client subscribes on the hub, then reads the task's status once (a task can
finish before the subscribe lands); after every reconnect it reads every open task's status again; a
watchdog reads the status of any task that has been silent for too long, and while the hub is down (or
``transport="polling"``) every open task is polled. All of it feeds one state machine per task, so
whatever arrives twice or late changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Final, Literal

import httpx

from conduit_widget.client import checks, local
from conduit_widget.client.dialects import created_task_id, discovered_kinds, named_kinds, parse_status
from conduit_widget.client.errors import (
    AuthError,
    ConduitError,
    ConfigurationError,
    HubError,
    InsufficientBalanceError,
    NetworkError,
    NotFoundError,
    PermissionError,
    ServerError,
)
from conduit_widget.client.models import TERMINAL, TaskEvent, TaskUpdate
from conduit_widget.client.realtime import POOL, Backoff, ConnectionEvent, HubLink, HubProtocol, Keepalive
from conduit_widget.client.rest import RestClient, RetryPolicy, Routes
from conduit_widget.client.secret import Secret, from_environment
from conduit_widget.client.task import Task, call_listener
from conduit_widget.client.tolerant import install_quiet_notices
from conduit_widget.protocol import Kind

log = logging.getLogger(__name__)
install_quiet_notices()  # pysignalr's notes on server messages the client ignores: DEBUG, not WARNING/ERROR

Transport = Literal["auto", "websocket", "polling"]
EVENTS: Final = frozenset(
    {
        "progress",
        "completed",
        "failed",
        "cancelled",
        "timedout",
        "connected",
        "reconnecting",
        "reconnected",
        "disconnected",
        "error",
    }
)
DEFAULT_MODELS: Final[dict[Kind, str]] = {"image": "dall-e-3", "video": "minimax-video"}  # the seed's examples
_TICK: Final = 0.25
_MAX_CONCURRENT_POLLS: Final = 8
# Creates in flight at once; more wait their turn here. Queued in httpx instead, a burst of 1,000 would wait past
# its pool timeout (30 s) on a busy machine and fail with a PoolTimeout, and httpcore rescans its whole queue for
# every request it hands a connection, which made such a burst CPU-bound in the client.
_MAX_CONCURRENT_CREATES: Final = 32


class ConduitClient:
    """A Conduit to generate with. With no ``base_url`` and no ``api_key`` (and no ``CONDUIT_BASE_URL`` /
    ``CONDUIT_API_KEY`` in the environment) it starts the local Conduit inside this process."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        hub_protocol: HubProtocol = "json",
        transport: Transport = "auto",
        routes: Routes = "auto",
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        total_timeout: float | None = 120.0,
        max_retries: int = 3,
        max_reconnect_attempts: int | None = None,
        backoff: Backoff = Backoff(),
        keepalive: Keepalive = Keepalive(),
        poll_interval: float = 1.0,
        watchdog_interval: float = 15.0,
        retry_failed: int = 0,
        local_speed: float | None = None,
    ) -> None:
        checks.client_options(dict(locals()), backoff_type=Backoff)  # each wrong option named, before anything runs
        if not isinstance(keepalive, Keepalive):
            raise ConfigurationError(f"keepalive must be a Keepalive(...), got {keepalive!r}")
        checks.api_key(api_key)
        base_url = base_url or os.environ.get("CONDUIT_BASE_URL") or None
        key = Secret(api_key) if api_key is not None else from_environment()
        checks.base_url(base_url, key.reveal() if key is not None else None)  # a key passed as the URL stays unsaid
        if base_url is not None and key is None:
            raise ConfigurationError(
                f"No API key for {checks.shown(base_url)}: pass api_key=... or set CONDUIT_API_KEY (a virtual key, "
                "condt_...)."
            )
        if base_url is None and key is not None:
            raise ConfigurationError(
                "An API key but no Conduit to use it with: pass base_url=... or set CONDUIT_BASE_URL."
            )
        self._base_url = base_url.rstrip("/") if base_url else None
        self._key = key
        self._local_speed = local_speed
        self.hub_protocol = hub_protocol
        self.transport = transport
        self._routes = routes
        self._http_timeout = timeout
        self._connect_timeout = connect_timeout
        self._total_timeout = total_timeout
        self._retry = RetryPolicy(max_retries=max_retries)
        self._link_options: dict[str, Any] = {
            "backoff": backoff,
            "max_reconnect_attempts": max_reconnect_attempts,
            "keepalive": keepalive,
            "open_timeout": 2 * connect_timeout,  # negotiate, WebSocket and handshake
        }
        self.poll_interval = poll_interval
        self.watchdog_interval = watchdog_interval
        self.retry_failed = retry_failed
        self._rest: RestClient | None = None
        self._links: dict[Kind, HubLink] = {}
        self._tasks: dict[str, Task] = {}
        self._listeners: dict[str, list[Callable[[Any], Any]]] = {name: [] for name in EVENTS}
        self._watcher: asyncio.Task[None] | None = None
        self._polls: set[asyncio.Task[None]] = set()
        self._poll_slots = asyncio.Semaphore(_MAX_CONCURRENT_POLLS)
        self._create_slots = asyncio.Semaphore(_MAX_CONCURRENT_CREATES)
        self._retrying: set[str] = set()  # task ids whose failure is being retried right now
        self._watchdog_polls: set[Task] = set()  # tasks whose watchdog status read is queued or under way
        self._scan_rules: tuple[object, ...] = ()  # see _poll_silent_tasks
        self._next_scan = 0.0
        self._started = False
        self._starting: asyncio.Task[None] | None = None
        self._closed = False

    def __repr__(self) -> str:
        where = self._base_url or "the local Conduit (not started)"
        return f"<ConduitClient {where} transport={self.transport} open_tasks={len(self._tasks)}>"

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def is_local(self) -> bool:
        """True when this client runs the local Conduit in-process (nothing was configured)."""
        return self._key is None or local.is_local(self._base_url)

    @property
    def base_url(self) -> str | None:
        return self._base_url

    @property
    def backend(self) -> str:
        """A label for where tasks run: the Conduit's host, or "local simulator"."""
        if self.is_local or (self._rest is not None and self._rest.is_simulator):
            return "local simulator"
        return (self._base_url or "").split("://", 1)[-1].split("/", 1)[0]

    @property
    def rest(self) -> RestClient:
        if self._rest is None:
            raise ConfigurationError("the client is not started: use `async with ConduitClient() as client:`")
        return self._rest

    async def start(self) -> ConduitClient:
        if self._closed:
            raise ConfigurationError("this ConduitClient was closed; make a new one")
        if self._started:
            return self
        if self._starting is None:
            self._starting = asyncio.get_running_loop().create_task(self._start())
        await asyncio.shield(self._starting)
        return self

    async def _start(self) -> None:
        if self._key is None:
            server = await local.acquire(speed=self._local_speed)
            self._base_url, self._key = server.base_url, Secret(server.api_key)
            self._owns_local = True
        assert self._base_url is not None
        self._rest = RestClient(
            self._base_url,
            self._key,
            routes=self._routes,
            timeout=httpx.Timeout(self._http_timeout, connect=self._connect_timeout),
            retry=self._retry,
            total_timeout=self._total_timeout,
        )
        self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="conduit-watchdog")
        self._started = True

    async def aclose(self) -> None:
        """Stop following tasks and let go of connections (shared ones close when their last user goes)."""
        if self._closed:
            return
        self._closed = True
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        for job in [self._watcher, *self._polls]:
            if job is not None:
                job.cancel()
        for kind, link in list(self._links.items()):
            link.remove_listener(self._on_link_event)
            for task in self._tasks.values():
                if task.kind == kind:
                    link.unsubscribe(task.id, task.deliver)
            await POOL.release(link)
        self._links.clear()
        if self._rest is not None:
            await self._rest.aclose()
        if getattr(self, "_owns_local", False):
            await local.release()

    async def __aenter__(self) -> ConduitClient:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- tasks ---------------------------------------------------------------------------------

    async def generate_image(
        self,
        prompt: str,
        *,
        model: str | None = None,
        n: int = 1,
        size: str | None = None,
        quality: str | None = None,
        style: str | None = None,
        seed: int | None = None,
        **extra: Any,
    ) -> Task:
        """Create an image task and follow it; returns once the task exists and is subscribed."""
        body = {"n": n, "size": size, "quality": quality, "style": style, "seed": seed, **extra}
        return await self._create("image", prompt, model, body)

    async def generate_video(
        self,
        prompt: str,
        *,
        model: str | None = None,
        duration: int | None = None,
        size: str | None = None,
        fps: int | None = None,
        seed: int | None = None,
        **extra: Any,
    ) -> Task:
        """Create a video task and follow it; returns once the task exists and is subscribed."""
        # Sent as an integer: 4.0 would be refused by a real Conduit, and 2.5 is refused here rather than rounded.
        body = {"duration": checks.video_seconds(duration), "size": size, "fps": fps, "seed": seed, **extra}
        return await self._create("video", prompt, model, body)

    async def _create(self, kind: Kind, prompt: str, model: str | None, body: dict[str, Any]) -> Task:
        checks.request(kind, prompt, model, body)  # before anything is sent: a wrong argument is named, not posted
        model = model or os.environ.get(f"CONDUIT_{kind.upper()}_MODEL") or DEFAULT_MODELS[kind]
        request = {"prompt": prompt, "model": model, **{k: v for k, v in body.items() if v is not None}}
        await self.start()
        async with self._create_slots:
            answer = await self.rest.create(kind, request)
        task_id = created_task_id(answer)
        if task_id is None:
            raise ConduitError(f"the server accepted the {kind} task but its answer named no task id")
        task = Task(self, task_id, kind, request)
        try:
            await self._follow(task)
        except asyncio.CancelledError:
            # Cancelled (a widget closed, a cell interrupted) before the caller got the handle: nobody can reach
            # this task, so stop following it; a task that never ends would otherwise be polled for good.
            self.forget(task)
            raise
        return task

    def task(self, task_id: str, kind: Kind = "image") -> Task:
        """A handle on a task created elsewhere (another process, a previous session); followed from now."""
        checks.one_of("kind", kind, ("image", "video"))
        checks.text("task_id", task_id, optional=False)
        existing = self._tasks.get(task_id)
        if existing is not None:
            return existing
        task = Task(self, task_id, kind)
        job = asyncio.get_running_loop().create_task(self._start_and_follow(task))
        self._polls.add(job)
        job.add_done_callback(self._polls.discard)
        return task

    async def _start_and_follow(self, task: Task) -> None:
        try:
            await self.start()
            await self._follow(task)
        except ConduitError as exc:
            task.deliver(TaskEvent(task.id, "client", status="failed", error=exc.message))

    async def _follow(self, task: Task) -> None:
        self._tasks[task.id] = task
        if self.transport != "polling":
            link = self._link(task.kind)
            try:
                await link.subscribe(task.id, task.deliver)
            except HubError as exc:
                log.debug("%s", exc)  # the status read below says what is wrong (404 for another key's task)
        await self.reconcile(task)

    def _link(self, kind: Kind) -> HubLink:
        link = self._links.get(kind)
        if link is None:
            if self._closed:
                # A call still under way when the client was closed: a link acquired now would never be released,
                # and would stay connected (and reconnecting) for as long as the process runs.
                raise ConfigurationError("this ConduitClient was closed; make a new one")
            assert self._base_url is not None and self._key is not None
            link = POOL.acquire(self._base_url, self._key, kind, self.hub_protocol, **self._link_options)
            link.add_listener(self._on_link_event)
            self._links[kind] = link
        return link

    def connection_state(self, kind: Kind) -> str:
        """``polling`` (no hub by choice), else the hub link's state: ``connecting``, ``connected``,
        ``reconnecting`` or ``disconnected`` (given up: open tasks are polled)."""
        if self.transport == "polling":
            return "polling"
        link = self._links.get(kind)
        return link.state if link is not None else "connecting"

    async def models(self) -> list[dict[str, Any]]:
        """The gateway's models (``GET /v1/models``): ids, for chat and media alike."""
        await self.start()
        return await self.rest.models()

    async def generation_models(self, kind: Kind) -> list[str]:
        """The ids of the models that make `kind`: as the gateway's model discovery says, where it has one; else
        the listed models whose names say so (a model list does not say what a model does)."""
        checks.one_of("kind", kind, ("image", "video"))
        await self.start()
        discovered = await self.rest.discovered_models()
        if discovered is not None:
            return [m["id"] for m in discovered if isinstance(m.get("id"), str) and kind in discovered_kinds(m)]
        listed = await self.rest.models()
        return [m["id"] for m in listed if isinstance(m.get("id"), str) and kind in named_kinds(m["id"])]

    # -- keeping every task honest -------------------------------------------------------------

    async def reconcile(self, task: Task) -> None:
        """Read the task's status over REST and feed it to the task: how missed events are made up for."""
        if self._closed:
            return  # its HTTP client is closed too
        task.last_polled = time.monotonic()
        task_id = task.id
        try:
            body = await self.rest.status(task.kind, task_id)
        except (NotFoundError, AuthError, PermissionError, InsufficientBalanceError) as exc:
            # Not a passing trouble: the task cannot be followed. Say why, once, as its ending.
            task.deliver(TaskEvent(task_id, "poll", status="failed", error=exc.message))
            return
        except ConduitError as exc:
            log.debug("status of %s task %s not read this time: %s", task.kind, task_id, exc.message)
            return
        link = self._links.get(task.kind)
        if link is not None:
            link.retry_now()  # the server is back: the hub need not wait out its backoff
        event = parse_status(body, task.kind)
        if event is None or event.task_id != task_id:
            log.debug("status of %s task %s was not readable", task.kind, task_id)
            return
        if task.done:
            task.enrich(event)
        else:
            task.deliver(event)

    def schedule_reconcile(self, task: Task) -> asyncio.Task[None]:
        job = asyncio.get_running_loop().create_task(self._bounded_reconcile(task))
        self._polls.add(job)
        job.add_done_callback(self._polls.discard)
        return job

    async def _bounded_reconcile(self, task: Task) -> None:
        async with self._poll_slots:
            await self.reconcile(task)

    async def _watch(self) -> None:
        """Poll the tasks the hub is not telling us about: all of them while it is down, silent ones always."""
        while True:
            await asyncio.sleep(_TICK)
            self._poll_silent_tasks()

    def _poll_silent_tasks(self) -> None:
        # A method of its own, not inline in `_watch`: the loop variable would stay in the watchdog's frame
        # between ticks, and keep the last task looked at (and all it holds) alive long after it ended.
        now = time.monotonic()
        rules = self._watchdog_rules()
        if rules == self._scan_rules and now < self._next_scan:
            # No task can be due before then: a task's last activity only moves forward, and under the same
            # rules (links up or down, intervals) its interval is the same. With a thousand tasks a scan takes a
            # millisecond, four times a second, in the loop that also delivers their events.
            return
        next_due = now + min(self.watchdog_interval, self.poll_interval)
        for task in list(self._tasks.values()):
            if task.done:
                continue
            if task in self._watchdog_polls:
                # Its last read is not answered yet (the server, or this process, is swamped): one more every
                # interval would only pile up in the queue, holding the task for long after it ended.
                continue
            link = self._links.get(task.kind)
            live = self.transport != "polling" and link is not None and link.connected
            interval = self.watchdog_interval if live else self.poll_interval
            due = max(task.last_heard, task.last_polled) + interval
            if now >= due:
                task.last_polled = now  # so the next tick does not schedule it again meanwhile
                self._watchdog_polls.add(task)
                self.schedule_reconcile(task).add_done_callback(self._poll_done(task))
            elif due < next_due:
                next_due = due
        # A task whose read is under way is looked at again on the next tick, as before.
        self._scan_rules, self._next_scan = rules, (now if self._watchdog_polls else next_due)

    def _watchdog_rules(self) -> tuple[object, ...]:
        """What decides each task's interval: when it changes, every task is looked at again."""
        links = tuple((kind, link.connected) for kind, link in self._links.items())
        return (self.transport, self.watchdog_interval, self.poll_interval, links)

    def _poll_done(self, task: Task) -> Callable[[asyncio.Task[None]], None]:
        return lambda _job: self._watchdog_polls.discard(task)

    def _on_link_event(self, name: str, event: ConnectionEvent) -> None:
        if name in ("connected", "reconnected"):
            # Resubscribed already; now catch up on whatever happened while we were away.
            for task in list(self._tasks.values()):
                if task.kind == event.hub and not task.done:
                    self.schedule_reconcile(task)
        if name == "error":
            # The one error a hub link reports is a refused key: listeners get it as the typed error.
            self._emit("error", AuthError(event.error or "the hub refused the virtual key", status=401))
        else:
            self._emit(name, event)

    def should_retry(self, task: Task, event: TaskEvent) -> bool:
        """The seed's error-recovery manager: retry a retryable failure, at most `retry_failed` times."""
        if event.task_id in self._retrying:
            return True  # the same failure again (the other dialect's event): a retry is already under way
        used = task.retries_used
        if not event.is_retryable or used >= self.retry_failed or self._closed:
            return False
        task.retries_used = used + 1
        self._retrying.add(event.task_id)
        job = asyncio.get_running_loop().create_task(self._retry_task(task, event, used + 1))
        self._polls.add(job)
        job.add_done_callback(self._polls.discard)
        return True

    async def _retry_task(self, task: Task, event: TaskEvent, attempt: int) -> None:
        note = f"Retrying ({attempt} of {self.retry_failed}) after: {event.error}"
        try:
            if task.kind == "video":
                await self._retry_video(task)  # same task id, started again on the server
            else:
                if task.request is None:
                    raise ConduitError("a task created elsewhere cannot be made again")
                answer = await self.rest.create("image", task.request)
                new_id = created_task_id(answer)
                if new_id is None:
                    raise ConduitError("the server accepted the retry but named no task id")
                self.forget(task)
                task.move_to(new_id)
                await self._follow(task)
        except ConduitError as exc:
            self._retrying.discard(event.task_id)
            task.deliver(TaskEvent(task.id, "client", status="failed", error=f"{event.error} (retry failed: {exc})"))
            return
        self._retrying.discard(event.task_id)
        task.deliver(TaskEvent(task.id, "client", status="pending", message=note))

    async def _retry_video(self, task: Task) -> None:
        """Ask for the failed video to be made again. The call is sent once (a second is refused: the task is no
        longer failed); when its answer is lost, or is a gateway's 5xx, the task's status says whether the retry
        took, and only a task still failed is asked again."""
        attempt = 0
        while True:
            try:
                await self.rest.retry_video(task.id)
                return
            except (NetworkError, ServerError, TimeoutError) as exc:  # our TimeoutError is the builtin's subclass
                if attempt >= self._retry.max_retries:
                    raise
                error = exc
            event = parse_status(await self.rest.status("video", task.id), "video")
            if event is not None and event.status != "failed":
                log.debug("the retry of video task %s took, though its answer was lost (%s)", task.id, error)
                return
            await asyncio.sleep(self._retry.delay(attempt, None))
            attempt += 1

    def forget(self, task: Task) -> None:
        """Stop following a task (a closed widget's): no more hub events or polls for it."""
        self._tasks.pop(task.id, None)
        link = self._links.get(task.kind)
        if link is not None:
            link.unsubscribe(task.id, task.deliver)

    def task_changed(self, task: Task, update: TaskUpdate) -> None:
        if update.status in TERMINAL:
            self.forget(task)
            self._emit(update.status, task.result)
        elif self._listeners["progress"]:  # every progress event passes here; most clients have no such listener
            self._emit("progress", update)

    # -- events --------------------------------------------------------------------------------

    def on(self, event: str, callback: Callable[[Any], Any]) -> Callable[[], None]:
        """Call `callback` (plain or async) on ``progress`` (a TaskUpdate), ``completed``/``failed``/
        ``cancelled``/``timedout`` (a TaskResult), ``connected``/``reconnecting``/``reconnected``/
        ``disconnected`` (a ConnectionEvent) or ``error`` (a ConduitError). Returns a function that stops it."""
        if not isinstance(event, str) or event not in EVENTS:
            raise ConfigurationError(f"unknown event {checks.shown(event)}; one of: {', '.join(sorted(EVENTS))}")
        checks.callback("callback", callback)
        self._listeners[event].append(callback)
        return lambda: self._listeners[event].remove(callback) if callback in self._listeners[event] else None

    def _emit(self, name: str, value: Any) -> None:
        callbacks = self._listeners.get(name)
        if not callbacks:
            return
        for callback in tuple(callbacks):
            call_listener(callback, value, f"a {name!r} listener")
