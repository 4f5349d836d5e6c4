"""One SignalR connection per hub, kept alive by a supervisor around pysignalr.

pysignalr alone gives up for good after about ten drops (its retry budget is never reset), does not
retry a refused first connect, and stops on any exception in a handler (``shared/reference/stack-notes.md``).
So each attempt gets a fresh pysignalr client, the moment a connection drops the supervisor takes over
(cancelling pysignalr's own reconnect), waits with exponential backoff and jitter, connects again and
resubscribes every task. Listeners hear ``connected``, ``reconnecting``, ``reconnected`` and
``disconnected``; ``reconnected`` comes only after the resubscribe, so a status check made then cannot miss
an event sent in between.

A dead connection (a stalled network, a laptop that slept) sends no error: it just goes quiet. The link
notices it by itself (see `Keepalive`) rather than through pysignalr, whose WebSocket ping takes 30 s or more
to give up and cannot be tuned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Literal

from pysignalr.messages import CompletionMessage, Message

from conduit_widget import protocol
from conduit_widget.client import redaction
from conduit_widget.client.dialects import EVENT_TARGETS, parse_hub_event
from conduit_widget.client.errors import (
    AuthError,
    ConduitError,
    ConduitWarning,
    HubError,
    NetworkError,
)
from conduit_widget.client.models import ConnectionEvent, LinkState, TaskEvent
from conduit_widget.client.policies import Backoff, Keepalive
from conduit_widget.client.secret import Secret
from conduit_widget.protocol import Kind

if TYPE_CHECKING:
    from conduit_widget.client.signalr import LinkClient

log = logging.getLogger(__name__)
redaction.install()

HubProtocol = Literal["json", "messagepack"]
INVOKE_TIMEOUT: Final = 10.0
_UNKNOWN_METHOD: Final = ("Method does not exist", "Unknown hub method")
_SAID_JSON_ONLY: set[str] = set()  # gateways this process has warned about refusing MessagePack


EventSink = Callable[[TaskEvent], None]
LifecycleListener = Callable[[str, ConnectionEvent], None]


class HubLink:
    """A supervised connection to one hub, shared by every task (and client) that follows tasks there."""

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        kind: Kind,
        *,
        hub_protocol: HubProtocol = "json",
        backoff: Backoff = Backoff(),
        max_reconnect_attempts: int | None = None,
        keepalive: Keepalive = Keepalive(),
        open_timeout: float = 10.0,
    ) -> None:
        self.kind = kind
        self.url = base_url.rstrip("/") + protocol.HUB_PATHS[kind]
        self.state: LinkState = "connecting"
        self.refs = 0
        self._key = api_key
        self._protocol = hub_protocol
        self._backoff = backoff
        self._max_attempts = max_reconnect_attempts
        self._keepalive = keepalive
        self._open_timeout = open_timeout
        # Tuples, replaced whole on a change: an event is sent to them as they are, with no copy, even if a sink
        # unsubscribes on the way (a task that just ended).
        self._sinks: dict[str, tuple[EventSink, ...]] = {}
        self._listeners: list[LifecycleListener] = []
        self._client: LinkClient | None = None
        self._pending: set[asyncio.Future[CompletionMessage]] = set()
        self._subscribe_method = protocol.SUBSCRIBE
        self._unsubscribe_method = protocol.UNSUBSCRIBE
        self._supervisor: asyncio.Task[None] | None = None
        self._closed = False
        self._was_connected = False
        self._first_attempt = asyncio.Event()  # set once the first connection attempt has ended, either way
        self._wake = asyncio.Event()  # cuts a backoff wait short (see retry_now)
        self.connections_made = 0

    def __repr__(self) -> str:
        return f"<HubLink {self.url} {self.state} tasks={len(self._sinks)}>"

    @property
    def connected(self) -> bool:
        return self.state == "connected"

    def stats(self) -> dict[str, int]:
        """What this link holds now, for leak checks and dashboards: each figure drops back when work ends."""
        waiting = self._client.answers_awaited if self._client is not None else 0
        return {
            "subscriptions": len(self._sinks),
            "listeners": len(self._listeners),
            "invocations": len(self._pending) + waiting,
            "connections_made": self.connections_made,
        }

    def start(self) -> None:
        if self._supervisor is None:
            self._supervisor = asyncio.get_running_loop().create_task(self._supervise(), name=f"hub-{self.kind}")

    async def close(self) -> None:
        self._closed = True
        self._first_attempt.set()  # a subscribe waiting for a first connection that will not come: stop waiting
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        self.state = "disconnected"

    def retry_now(self) -> None:
        """The server answers again (a REST call just went through): end the backoff wait and reconnect, rather
        than sleep out a delay that grew while it was away."""
        if self.state == "reconnecting":
            self._wake.set()

    def add_listener(self, listener: LifecycleListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: LifecycleListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    # -- subscriptions -------------------------------------------------------------------------

    async def subscribe(self, task_id: str, sink: EventSink) -> None:
        """Route the task's events to `sink`; tell the hub if this is the task's first follower.
        Raises HubError if the hub refuses (another key's task); a link that is down subscribes later."""
        sinks = self._sinks.get(task_id, ())
        if sink not in sinks:
            self._sinks[task_id] = (*sinks, sink)
        if self.state == "connecting":
            # The first connection is being opened: wait for it, so "subscribed" means subscribed (a task's
            # events could otherwise start before the hub knows anyone wants them). Bounded: if it fails, the
            # resubscribe after connecting and the status reads cover the task.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first_attempt.wait(), self._open_timeout)
        if len(self._sinks.get(task_id, ())) == 1 and self.connected:
            try:
                await self._subscribe(task_id)
            except HubError:
                self.unsubscribe(task_id, sink)
                raise
            except NetworkError:
                pass  # the connection dropped meanwhile; the resubscribe after reconnecting covers it

    def unsubscribe(self, task_id: str, sink: EventSink) -> None:
        sinks = self._sinks.get(task_id)
        if sinks is None or sink not in sinks:
            return
        if len(sinks) > 1:
            self._sinks[task_id] = tuple(s for s in sinks if s != sink)
        else:
            del self._sinks[task_id]
            client = self._client
            if client is not None and self.connected:
                # Fire and forget: nothing waits on an unsubscribe, and a closed socket makes it moot.
                task = asyncio.get_running_loop().create_task(self._send_quietly(client, task_id))
                task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _send_quietly(self, client: LinkClient, task_id: str) -> None:
        with contextlib.suppress(Exception):
            await client.send(self._unsubscribe_method, [task_id])  # type: ignore[list-item]

    async def _subscribe(self, task_id: str) -> None:
        error = await self._invoke(self._subscribe_method, task_id)
        if error and any(text in error for text in _UNKNOWN_METHOD) and self.kind == "video":
            # A hub that only knows the seed document's names (SubscribeToRequest): switch for good.
            self._subscribe_method = protocol.SEED_SUBSCRIBE_VIDEO
            self._unsubscribe_method = protocol.SEED_UNSUBSCRIBE_VIDEO
            error = await self._invoke(self._subscribe_method, task_id)
        if error:
            raise HubError(f"the {self.kind} hub refused to follow the task: {error}", task_id=task_id)

    async def _invoke(self, method: str, *args: Any) -> str | None:
        """Call a hub method and wait for its completion; the error text, or None on success."""
        client = self._client
        if client is None:
            raise NetworkError(f"the {self.kind} hub is not connected")
        done: asyncio.Future[CompletionMessage] = asyncio.get_running_loop().create_future()
        self._pending.add(done)

        async def on_completion(message: Message) -> None:
            if not done.done() and isinstance(message, CompletionMessage):
                done.set_result(message)

        try:
            await client.send(method, list(args), on_invocation=on_completion)
            message = await asyncio.wait_for(done, INVOKE_TIMEOUT)
        except (RuntimeError, ConnectionError, TimeoutError) as exc:
            raise NetworkError(f"calling {method} on the {self.kind} hub failed: {exc or type(exc).__name__}") from None
        finally:
            self._pending.discard(done)
        return str(message.error) if message.error else None

    # -- the supervisor ------------------------------------------------------------------------

    async def _supervise(self) -> None:
        # pysignalr's client loads aiohttp's client (about half of `import conduit_widget` otherwise): only a
        # client that opens a hub pays for it, not `import conduit_widget` nor a client that only creates tasks.
        from conduit_widget.client.signalr import ProtocolRefused

        failures = 0
        while not self._closed:
            error = await self._run_once(reconnect=self.connections_made > 0)
            if isinstance(error, ProtocolRefused) and self._protocol == "messagepack" and not self._closed:
                # A gateway that speaks JSON only (knnlabs/Conduit at 7c3fd76a): say so, once, and speak JSON at once.
                self._protocol = "json"
                host = self.url.split("://", 1)[-1].split("/", 1)[0]
                if host not in _SAID_JSON_ONLY:  # once for the gateway, not once for each of its hubs
                    _SAID_JSON_ONLY.add(host)
                    warnings.warn(
                        f"the Conduit at {host} does not offer MessagePack on its hubs ({error.message}); using JSON",
                        ConduitWarning,
                        stacklevel=1,
                    )
                continue
            self._first_attempt.set()
            if self._closed:
                break
            if isinstance(error, AuthError):
                # A refused key will not be accepted by trying again; say so and stop.
                self.state = "disconnected"
                self._emit("error", ConnectionEvent(self.kind, self.state, failures, None, error.message))
                self._emit("disconnected", ConnectionEvent(self.kind, self.state, failures, None, error.message))
                return
            failures = 1 if self._was_connected else failures + 1
            if self._max_attempts is not None and failures > self._max_attempts:
                self.state = "disconnected"
                gave_up = f"gave up after {self._max_attempts} attempts to reconnect" + (f": {error}" if error else "")
                self._emit("disconnected", ConnectionEvent(self.kind, self.state, failures, None, gave_up))
                return
            delay = self._backoff.delay(failures)
            self.state = "reconnecting"
            reason = str(error) if error else None
            self._emit("reconnecting", ConnectionEvent(self.kind, self.state, failures, delay, reason))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _run_once(self, *, reconnect: bool) -> ConduitError | None:
        """One connection, from the first byte to its end; what ended it (None: closed, or dropped)."""
        from conduit_widget.client.signalr import JSONFrames, LinkClient, MessagepackFrames, classify_ending

        self._was_connected = False
        client = LinkClient(
            self.url,
            # Decoded message by message: one bad message costs that message, not the connection (hub_frames.py).
            protocol=MessagepackFrames() if self._protocol == "messagepack" else JSONFrames(),
            # The key goes as a header on negotiate and the upgrade, never in the URL (URLs get logged).
            headers={"Authorization": f"Bearer {self._key.reveal()}"},
            ping_interval=None,  # websockets' own ping gives up after 30 s or more: _watch_liveness pings instead
            connection_timeout=10,
            on_events=self._dispatch,
        )
        opened, dropped = asyncio.Event(), asyncio.Event()

        async def on_open() -> None:
            opened.set()

        async def on_close() -> None:
            dropped.set()

        async def on_error(message: CompletionMessage) -> None:
            log.debug("%s hub answered an invocation with an error: %s", self.kind, message.error)

        client.on_open(on_open)
        client.on_close(on_close)
        client.on_error(on_error)  # without one, any error completion stops pysignalr's receive loop
        for target in EVENT_TARGETS:
            client.on(target, self._handler(target))
        run = asyncio.get_running_loop().create_task(client.run())
        try:
            # pysignalr retries a refused WebSocket forever on its own, silently: give it a deadline.
            if not await _first(run, asyncio.wait_for(opened.wait(), self._open_timeout)):
                return classify_ending(run) or NetworkError(
                    f"could not open the {self.kind} hub within {self._open_timeout:g} s"
                )
            self._client, self.state, self._was_connected = client, "connected", True
            self.connections_made += 1
            self._first_attempt.set()
            await self._resubscribe_all()
            self._emit("reconnected" if reconnect else "connected", ConnectionEvent(self.kind, self.state))
            liveness = asyncio.get_running_loop().create_task(self._watch_liveness(client))
            drop = asyncio.ensure_future(dropped.wait())
            try:
                await asyncio.wait({run, liveness, drop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                liveness.cancel()
                drop.cancel()
            if liveness.done() and not liveness.cancelled() and (dead := liveness.result()) is not None:
                log.debug("%s hub: %s", self.kind, dead.message)
                socket = client.socket
                if socket is not None:
                    socket.transport.abort()  # a dead peer would hold a polite close for its full timeout
                return dead
            return classify_ending(run) if run.done() else None
        finally:
            self._client = None
            for pending in self._pending:
                if not pending.done():
                    pending.set_exception(ConnectionError("the connection closed"))
            run.cancel()  # pysignalr would reconnect by itself, with the budget that runs out: we do it
            # Waited for without raising what ended it (that is classified above), and without swallowing a
            # cancellation of the supervisor itself, which must end it rather than let it reconnect again.
            await asyncio.wait({run})
            if not run.cancelled():
                run.exception()

    async def _watch_liveness(self, client: LinkClient) -> NetworkError | None:
        """Return once the connection is found dead (why, as an error); runs until cancelled otherwise."""
        keepalive = self._keepalive
        tick = min(keepalive.ping_interval, keepalive.server_timeout) / 2
        while True:
            slept_from = time.monotonic()
            await asyncio.sleep(tick)
            if time.monotonic() - slept_from > tick + 0.5:
                # The loop itself was blocked (a cell that ran synchronously): frames that came meanwhile wait
                # unread in the socket, so this silence is ours, not the server's. Look again next tick.
                continue
            quiet = time.monotonic() - client.last_frame
            if quiet >= keepalive.server_timeout:
                return NetworkError(f"no message from the {self.kind} hub for {quiet:.1f} s: the connection is dead")
            socket = client.socket
            if quiet < keepalive.ping_interval or socket is None:
                continue
            try:
                pong = await socket.ping()
                await asyncio.wait_for(pong, keepalive.ping_timeout)
            except TimeoutError:
                return NetworkError(
                    f"the {self.kind} hub did not answer a ping within {keepalive.ping_timeout:g} s: the connection"
                    " is dead"
                )
            except Exception:
                return None  # the socket closed meanwhile: pysignalr reports the drop itself

    async def _resubscribe_all(self) -> None:
        for task_id in list(self._sinks):
            try:
                await self._subscribe(task_id)
            except HubError as exc:
                log.debug("resubscribe refused: %s", exc)
            except NetworkError:
                return  # dropped again; the next connection resubscribes

    def _handler(self, target: str) -> Callable[[list[Any]], Any]:
        async def handle(arguments: list[Any]) -> None:
            self._dispatch(target, arguments)

        return handle

    def _dispatch(self, target: str, arguments: Any) -> None:
        # Never raises: an exception here would end pysignalr's receive loop for every task.
        try:
            event = parse_hub_event(target, arguments)
            if event is None:
                log.debug("ignoring a %s event this client cannot read", target)
                return
            for sink in self._sinks.get(event.task_id, ()):
                sink(event)
        except Exception:
            log.exception("handling a %s event failed", target)

    def _emit(self, name: str, event: ConnectionEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(name, event)
            except Exception:
                log.exception("a %s listener failed", name)


async def _first(run: asyncio.Task[None], awaitable: Any) -> bool:
    """Wait for `awaitable` or for `run` to end; True if `awaitable` finished first, and well."""
    waiter = asyncio.ensure_future(awaitable)
    try:
        await asyncio.wait({run, waiter}, return_when=asyncio.FIRST_COMPLETED)
        return waiter.done() and not waiter.cancelled() and waiter.exception() is None and not run.done()
    finally:
        waiter.cancel()
