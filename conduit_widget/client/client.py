"""`ConduitClient`: create generation tasks over REST and follow them live, without ever losing one.

The client holds the options, the REST client and the listeners; creating a task is its own work, following one is
its `Follower`'s (see `follower.py` for how nothing is missed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, Final

import httpx

from conduit_widget.client import inputs, local_conduit
from conduit_widget.client.creates import Creates
from conduit_widget.client.errors import ConduitError, ConfigurationError
from conduit_widget.client.follower import Follower
from conduit_widget.client.model_kinds import ids_making
from conduit_widget.client.models import TaskEvent
from conduit_widget.client.policies import Backoff, Intervals, Keepalive, RetryPolicy, Transport
from conduit_widget.client.pool import POOL
from conduit_widget.client.realtime import HubLink, HubProtocol
from conduit_widget.client.rest import MAX_DOWNLOAD_BYTES, RestClient, Routes
from conduit_widget.client.secret import Secret, from_environment
from conduit_widget.client.task import Task
from conduit_widget.protocol import Kind

log = logging.getLogger(__name__)

_TASK_EVENTS: Final = ("progress", "completed", "failed", "cancelled", "timedout")
EVENTS: Final = frozenset((*_TASK_EVENTS, "connected", "reconnecting", "reconnected", "disconnected", "error"))
DEFAULT_MODELS: Final[dict[Kind, str]] = {"image": "dall-e-3", "video": "minimax-video"}  # the seed's examples


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
        inputs.client_options(dict(locals()), backoff_type=Backoff)  # each wrong option named, before anything runs
        if not isinstance(keepalive, Keepalive):
            raise ConfigurationError(f"keepalive must be a Keepalive(...), got {keepalive!r}")
        inputs.api_key(api_key)
        base_url = base_url or os.environ.get("CONDUIT_BASE_URL") or None
        key = Secret(api_key) if api_key is not None else from_environment()
        inputs.base_url(base_url, key.reveal() if key is not None else None)  # a key passed as the URL stays unsaid
        if base_url is not None and key is None:
            raise ConfigurationError(
                f"No API key for {inputs.shown(base_url)}: pass api_key=... or set CONDUIT_API_KEY (a virtual key, "
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
        self._intervals = Intervals(transport, poll_interval, watchdog_interval, retry_failed)
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
        self._rest: RestClient | None = None
        self._follower: Follower | None = None
        self._listeners: dict[str, list[Callable[[Any], Any]]] = {name: [] for name in EVENTS}
        self._jobs: set[asyncio.Task[None]] = set()  # handles on tasks created elsewhere, being started and followed
        self._creates: Creates | None = None
        self._started = False
        self._starting: asyncio.Task[None] | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop it started on: its connections belong to it
        self._handles: weakref.WeakSet[Task] = weakref.WeakSet()  # told when nobody follows them any more

    def __repr__(self) -> str:
        where = self._base_url or "the local Conduit (not started)"
        return f"<ConduitClient {where} transport={self.transport} open_tasks={self.open_tasks}>"

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def is_local(self) -> bool:
        """True when this client runs the local Conduit in-process (nothing was configured)."""
        return self._key is None or local_conduit.is_local(self._base_url)

    @property
    def base_url(self) -> str | None:
        return self._base_url

    @property
    def account(self) -> tuple[str | None, Secret | None]:
        """Whose requests these are: the server and the key (a Secret: its repr never shows it). A Conduit keeps
        each key's tasks to that key, so whatever is shared between clients is shared only within one account."""
        return self._base_url, self._key

    @property
    def transport(self) -> Transport:
        return self._intervals.transport

    @property
    def poll_interval(self) -> float:
        return self._intervals.poll_interval

    @property
    def watchdog_interval(self) -> float:
        return self._intervals.watchdog_interval

    @property
    def retry_failed(self) -> int:
        return self._intervals.retry_failed

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> dict[str, Any]:
        """What this client holds now: tasks followed, background jobs, listeners, and each hub link's state and
        figures (`HubLink.stats`). For leak checks and dashboards; every count falls back when work ends."""
        follower = self._follower
        return {
            "open_tasks": self.open_tasks,
            "jobs": len(self._jobs) + (follower.jobs if follower is not None else 0),
            "listeners": sum(len(callbacks) for callbacks in self._listeners.values()),
            "links": {
                kind: {"state": link.state, **link.stats()}
                for kind, link in (follower.links.items() if follower is not None else ())
            },
        }

    @property
    def open_tasks(self) -> int:
        """How many tasks this client follows now (ended ones are let go)."""
        return self._follower.open_tasks if self._follower is not None else 0

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
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            # httpx's and pysignalr's connections belong to the loop they were opened on (asyncio.run twice).
            raise ConfigurationError("this ConduitClient started on another event loop; make one per event loop")
        if self._started:
            return self
        if self._starting is None:
            self._loop = loop
            self._starting = loop.create_task(self._start())
        try:
            await asyncio.shield(self._starting)
        except asyncio.CancelledError:
            this = asyncio.current_task()
            if self._closed and self._starting.cancelled() and not (this is not None and this.cancelling()):
                raise ConfigurationError("this ConduitClient was closed while it started; make a new one") from None
            raise
        return self

    async def _start(self) -> None:
        if self._key is None:
            server = await local_conduit.acquire(speed=self._local_speed)
            self._base_url, self._key = server.base_url, Secret(server.api_key)
            self._owns_local = True
        assert self._base_url is not None
        # In a worker thread: the first client in a process loads httpx's transport and the CA bundle (50-100 ms),
        # which on the loop would stall a kernel's every widget.
        self._rest = await asyncio.to_thread(
            RestClient,
            self._base_url,
            self._key,
            routes=self._routes,
            timeout=httpx.Timeout(self._http_timeout, connect=self._connect_timeout),
            retry=self._retry,
            total_timeout=self._total_timeout,
        )
        self._follower = Follower(self._rest, self._acquire_link, self._listeners, self._intervals, self._retry)
        self._creates = Creates(self._rest, self._spawn_job)
        self._started = True

    def _acquire_link(self, kind: Kind) -> HubLink:
        assert self._base_url is not None and self._key is not None
        return POOL.acquire(self._base_url, self._key, kind, self.hub_protocol, **self._link_options)

    async def aclose(self) -> None:
        """Stop following tasks and let go of connections (shared ones close when their last user goes)."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._handles):
            task.let_go("its ConduitClient was closed (the task goes on on the server)")
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        for job in list(self._jobs):
            job.cancel()
        if self._follower is not None:
            for link in await self._follower.close():
                await POOL.release(link)
        if self._rest is not None:
            await self._rest.aclose()
        if getattr(self, "_owns_local", False):
            await local_conduit.release()

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
        body = {"duration": inputs.video_seconds(duration), "size": size, "fps": fps, "seed": seed, **extra}
        return await self._create("video", prompt, model, body)

    async def _create(self, kind: Kind, prompt: str, model: str | None, body: dict[str, Any]) -> Task:
        inputs.request(kind, prompt, model, body)  # before anything is sent: a wrong argument is named, not posted
        model = model or os.environ.get(f"CONDUIT_{kind.upper()}_MODEL") or DEFAULT_MODELS[kind]
        request = {"prompt": prompt, "model": model, **{k: v for k, v in body.items() if v is not None}}
        await self.start()
        assert self._creates is not None
        task_id = await self._creates.send(kind, request)
        task = Task(task_id, kind, request, cancel=self._cancel)
        self._handles.add(task)
        assert self._follower is not None
        try:
            await self._follower.follow(task)
        except asyncio.CancelledError:
            # Cancelled before the caller got the handle: nobody can reach this task, so stop following it (a task
            # that never ends would otherwise be polled for good) and cancel it on the server.
            self._follower.forget(task)
            self._creates.cancel_abandoned(kind, task_id)
            raise
        return task

    def _spawn_job(self, job: Coroutine[Any, Any, None]) -> None:
        if self._closed:  # nothing new runs for a closed client: its jobs were cancelled as it closed
            return job.close()
        running = asyncio.get_running_loop().create_task(job)
        self._jobs.add(running)
        running.add_done_callback(self._jobs.discard)

    def task(self, task_id: str, kind: Kind = "image") -> Task:
        """A handle on a task created elsewhere (another process, a previous session); followed from now."""
        inputs.one_of("kind", kind, ("image", "video"))
        inputs.text("task_id", task_id, optional=False)
        if self._closed:
            raise ConfigurationError("this ConduitClient was closed; make a new one")
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigurationError("client.task() follows a task on the running event loop: call it in one") from None
        existing = self._follower.followed(task_id) if self._follower is not None else None
        if existing is not None:
            return existing
        task = Task(task_id, kind, cancel=self._cancel)
        self._handles.add(task)
        self._spawn_job(self._start_and_follow(task))
        return task

    async def _start_and_follow(self, task: Task) -> None:
        try:
            await self.start()
            assert self._follower is not None
            await self._follower.follow(task)
        except ConduitError as exc:
            task.apply(TaskEvent(task.id, "client", status="failed", error=exc.message))

    async def _cancel(self, task: Task) -> None:
        await self.start()
        assert self._follower is not None
        await self._follower.cancel(task)

    def forget(self, task: Task) -> None:
        """Stop following a task (a closed widget's): no more hub events or status reads for it."""
        if not isinstance(task, Task):
            raise ConfigurationError(f"forget() takes a Task this client made, got {inputs.shown(task)}")
        if self._follower is not None:
            self._follower.forget(task)
        task.let_go("client.forget() was called for it (the task goes on on the server)")

    async def download(self, url: str, *, limit: int = MAX_DOWNLOAD_BYTES) -> bytes:
        """The bytes of a result's media, at most `limit` of them, from where the kernel may fetch
        (`conduit_widget.url_policy.check_fetch_url`, at every redirect too)."""
        inputs.text("url", url, optional=False)
        inputs.whole("limit", limit, minimum=1)
        await self.start()
        return await self.rest.download(url, limit=limit)

    def connection_state(self, kind: Kind) -> str:
        """``polling`` (no hub by choice), else the hub link's state: ``connecting``, ``connected``,
        ``reconnecting`` or ``disconnected`` (given up: open tasks are polled)."""
        inputs.one_of("kind", kind, ("image", "video"))
        if self._follower is None:
            return "polling" if self.transport == "polling" else "connecting"
        return self._follower.connection_state(kind)

    async def models(self) -> list[dict[str, Any]]:
        """The gateway's models (``GET /v1/models``): ids, for chat and media alike."""
        await self.start()
        return await self.rest.models()

    async def generation_models(self, kind: Kind) -> list[str]:
        """The ids of the models that make `kind`: as the gateway's model discovery says, where it has one; else
        the listed models whose names say so (a model list does not say what a model does)."""
        inputs.one_of("kind", kind, ("image", "video"))
        await self.start()
        discovered = await self.rest.discovered_models()
        if discovered is not None:
            return ids_making(kind, discovered, discovered=True)
        return ids_making(kind, await self.rest.models(), discovered=False)

    # -- events --------------------------------------------------------------------------------

    def on(self, event: str, callback: Callable[[Any], Any]) -> Callable[[], None]:
        """Call `callback` (plain or async) on ``progress`` (a TaskUpdate), ``completed``/``failed``/
        ``cancelled``/``timedout`` (a TaskResult), ``connected``/``reconnecting``/``reconnected``/
        ``disconnected`` (a ConnectionEvent) or ``error`` (a ConduitError). Returns a function that stops it."""
        if not isinstance(event, str) or event not in EVENTS:
            raise ConfigurationError(f"unknown event {inputs.shown(event)}; one of: {', '.join(sorted(EVENTS))}")
        inputs.callback("callback", callback)
        self._listeners[event].append(callback)
        return lambda: self._listeners[event].remove(callback) if callback in self._listeners[event] else None
