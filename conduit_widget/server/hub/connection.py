"""One client's SignalR connection over a WebSocket, as an ASP.NET Core server in production runs it.

Handshake, keepalive, client timeout, invocation and error texts follow ``HubConnectionContext``,
``HubConnectionHandler`` and ``DefaultHubDispatcher`` with ``EnableDetailedErrors`` off, as Conduit runs outside
Development: a protocol error closes the connection with "Connection closed with an error." and the reason goes to
this server's DEBUG log only.

Everything sent goes through a queue drained by a single writer task, so events from many tasks never interleave
inside a frame, and frames that pile up while the socket is busy leave as one WebSocket frame (SignalR allows
several messages per frame).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from aiohttp import WSMsgType, web

from conduit_widget.server.hub.codec import (
    HubCodec,
    HubMessage,
    HubProtocolError,
    codec_for,
    handshake_response,
    parse_handshake,
)
from conduit_widget.wire import CLOSE, INVOCATION, KNOWN_TYPES, PING, RECORD_SEPARATOR, STREAM_INVOCATION

log = logging.getLogger(__name__)

MAX_QUEUED_FRAMES: Final = 10_000  # a client that falls this far behind is dropped, not buffered forever
MAX_PROTOCOL_VERSION: Final = 2  # JsonHubProtocol / MessagePackHubProtocol on .NET 8 and 9: any version up to 2
CLOSED_WITH_ERROR: Final = "Connection closed with an error."
_HEARTBEAT: Final = 1.0  # ASP.NET looks at keepalive and client timeout once a second

HubName = Literal["image", "video", "tasks"]
ArgType = Literal["string", "int", "bool", "any"]


class HubException(Exception):
    """Raised by a hub method, as ASP.NET's HubException: the caller gets its text."""


@dataclass(frozen=True)
class HubMethod:
    name: str
    parameters: tuple[ArgType, ...] = ("string",)


Dispatch = Callable[["HubConnection", str, list[Any]], Awaitable[None]]


def _binds(value: Any, kind: ArgType) -> bool:
    """Whether a hub argument binds (SignalR's JSON options read no numbers from strings); a string takes null."""
    if kind == "string":
        return value is None or isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31
    if kind == "bool":
        return isinstance(value, bool)
    return True


class HubConnection:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        hub: HubName,
        owner: str,
        connection_id: str,
        dispatch: Dispatch,
        methods: Mapping[str, HubMethod],
        protocols: tuple[str, ...],
        keepalive_interval: float,
        client_timeout: float,
        handshake_timeout: float,
        max_message_size: int,
        compress_from: int | None = None,
        on_frame: Callable[[bytes], None] | None = None,
    ) -> None:
        self.ws = ws
        self.hub = hub
        self.owner = owner
        self.connection_id = connection_id
        self.codec: HubCodec | None = None
        self.subscriptions: set[str] = set()
        self._dispatch = dispatch
        self._methods = {name.lower(): method for name, method in methods.items()}  # matched case-insensitively
        self._protocols = protocols
        self._keepalive = keepalive_interval
        self._client_timeout = client_timeout
        self._handshake_timeout = handshake_timeout
        self._max_message = max_message_size
        self._compress_from = compress_from  # MessagePack arguments of this many bytes and more go LZ4-compressed
        self._on_frame = on_frame  # sees every frame the client sends, for tests of what clients say
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._last_received = time.monotonic()
        self._last_sent = time.monotonic()
        self._timeout_armed = False  # ASP.NET times a client out only once it has pinged
        self._stalled = False

    def send(self, frame: bytes) -> None:
        """Queue an encoded message; never blocks the caller (the task runner)."""
        if self._queue.qsize() >= MAX_QUEUED_FRAMES:
            log.warning("hub connection %s is too slow to keep up; dropping it", self.connection_id)
            self.abort()
            return
        self._queue.put_nowait(frame)

    async def write(self, frame: bytes) -> None:
        """Write one encoded frame now, waiting for the socket rather than queueing. A frame is written whole, so this
        and the writer task never interleave inside one."""
        await self._send_frame(frame)

    @property
    def queued(self) -> int:
        """Frames waiting for the writer."""
        return self._queue.qsize()

    def abort(self) -> None:
        """Cut the connection without a Close message, as a network failure would."""
        self._queue.put_nowait(None)
        with contextlib.suppress(Exception):
            self.ws._writer.transport.abort()  # type: ignore[union-attr]  # aiohttp has no public abort

    async def close(self, error: str | None = None, *, allow_reconnect: bool = False) -> None:
        if self.codec is not None and not self.ws.closed:
            self.send(self.codec.close(error, allow_reconnect=allow_reconnect))
        self._queue.put_nowait(None)

    async def serve(self) -> None:
        if not await self._handshake():
            return
        writer = asyncio.create_task(self._write_loop())
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            await self._read_loop()
        finally:
            heartbeat.cancel()
            self._queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
            await self.ws.close()

    # -- the handshake ---------------------------------------------------------------------------------------------

    async def _handshake(self) -> bool:
        try:
            msg = await self.ws.receive(timeout=self._handshake_timeout)
        except TimeoutError:
            await self._refuse_handshake("Handshake was canceled.")
            return False
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return False
        data = msg.data.encode() if msg.type == WSMsgType.TEXT else msg.data
        if self._on_frame is not None:
            self._on_frame(data)
        try:
            request, rest = parse_handshake(data)
            name, version = request["protocol"], request["version"]
            if not isinstance(name, str) or isinstance(version, bool) or not isinstance(version, int):
                raise HubProtocolError("The handshake request's protocol or version has the wrong type.")
        except (HubProtocolError, KeyError) as exc:
            log.debug("hub connection %s: a malformed handshake: %s", self.connection_id, exc)
            await self._refuse_handshake("An unexpected error occurred during connection handshake.")
            return False
        offered = {p.lower(): p for p in self._protocols}  # DefaultHubProtocolResolver: OrdinalIgnoreCase
        if name.lower() not in offered:
            await self._refuse_handshake(f"The protocol '{name}' is not supported.")
            return False
        if version > MAX_PROTOCOL_VERSION:
            await self._refuse_handshake(f"The server does not support version {version} of the '{name}' protocol.")
            return False
        self.codec = codec_for(offered[name.lower()], self._max_message, compress_from=self._compress_from)
        await self._send_frame(handshake_response())
        if rest:  # messages after the handshake in the same frame are read as any others
            self._last_received = time.monotonic()
            await self._receive(rest)
        return True

    async def _refuse_handshake(self, error: str) -> None:
        """The error, then the transport ends: no Close message follows a failed handshake."""
        with contextlib.suppress(ConnectionError):
            await self.ws.send_str(handshake_response(error).decode())
        await self.ws.close()

    # -- reading -----------------------------------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        async for msg in self.ws:
            if msg.type == WSMsgType.TEXT:
                data = msg.data.encode()
            elif msg.type == WSMsgType.BINARY:
                data = msg.data
            else:
                break
            if self._on_frame is not None:
                self._on_frame(data)
            if not await self._receive(data):
                break

    async def _receive(self, data: bytes) -> bool:
        """Handle a frame's messages; False once the connection should end."""
        assert self.codec is not None
        if self._stalled:
            return True
        try:
            messages = self.codec.feed(data)
        except HubProtocolError as exc:
            log.debug("closing hub connection %s: %s", self.connection_id, exc)
            await self.close(CLOSED_WITH_ERROR, allow_reconnect=True)
            return False
        for message in messages:
            if message.type not in KNOWN_TYPES:
                # ASP.NET's reader returns "no message" for a type it does not know and never moves past it: nothing
                # after it on this connection is read again, until the client timeout ends it.
                log.debug("hub connection %s: unknown message type %s; stalled", self.connection_id, message.type)
                self._stalled = True
                return True
            self._last_received = time.monotonic()
            if message.type == CLOSE:
                await self.close()  # the client's goodbye is answered with a plain Close
                return False
            if message.type == PING:
                self._timeout_armed = True
            elif message.type in (INVOCATION, STREAM_INVOCATION):
                await self._invoke(message)
            # Completions, stream items, cancels and acks ask nothing of a hub whose methods neither stream nor call
            # the client back.
        return True

    async def _invoke(self, message: HubMessage) -> None:
        assert self.codec is not None and message.target is not None
        target, inv = message.target, message.invocation_id
        method = self._methods.get(target.lower())
        error: str | None = None
        if method is None:
            error = f"Failed to invoke '{target}' due to an error on the server. HubException: Method does not exist."
        elif len(message.arguments) != len(method.parameters) or not all(
            _binds(value, kind) for value, kind in zip(message.arguments, method.parameters, strict=False)
        ):
            error = f"Failed to invoke '{target}' due to an error on the server."
        elif message.type == STREAM_INVOCATION:
            error = f"The client attempted to invoke the non-streaming '{target}' method with a streaming invocation."
        else:
            try:
                await self._dispatch(self, method.name, message.arguments)
            except HubException as exc:
                error = f"An unexpected error occurred invoking '{target}' on the server. HubException: {exc}"
        if error is not None:
            log.debug("%s hub invocation %s failed: %s", self.hub, target, error)
        if inv is not None:  # a non-blocking invocation gets no completion, even for an error
            self.send(self.codec.completion(inv, error=error))

    # -- writing -----------------------------------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        while True:
            frame = await self._queue.get()
            if frame is None:
                return
            batch = [frame]
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    await self._send_frame(b"".join(batch))
                    return
                batch.append(more)
            await self._send_frame(b"".join(batch))

    async def _send_frame(self, data: bytes) -> None:
        assert self.codec is not None or data.endswith(RECORD_SEPARATOR)
        self._last_sent = time.monotonic()
        if self.codec is not None and self.codec.binary:
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data.decode())

    async def _heartbeat(self) -> None:
        """Ping a client that has heard nothing for the keepalive interval; drop one that has said nothing for the
        client timeout (once it has pinged: ASP.NET arms the timeout on a client's first ping)."""
        assert self.codec is not None
        tick = min(_HEARTBEAT, self._keepalive / 2, self._client_timeout / 2)
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if self._timeout_armed and now - self._last_received > self._client_timeout:
                log.debug("hub connection %s: no message for %.0f s", self.connection_id, self._client_timeout)
                await self.close(CLOSED_WITH_ERROR, allow_reconnect=True)
                return
            if now - self._last_sent >= self._keepalive:
                self.send(self.codec.ping())
