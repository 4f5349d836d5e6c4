"""One client's SignalR connection over a WebSocket: handshake, keepalive, timeouts, and one writer.

Everything sent goes through a queue drained by a single writer task, so events from many tasks never
interleave inside a frame, and frames that pile up while the socket is busy leave as one WebSocket frame
(SignalR allows several messages per frame).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from conduit_widget.protocol import Kind
from conduit_widget.server.hub.codec import (
    CLOSE,
    CODECS,
    INVOCATION,
    STREAM_INVOCATION,
    HubCodec,
    HubMessage,
    HubProtocolError,
    handshake_response,
    parse_handshake,
)

log = logging.getLogger(__name__)

MAX_QUEUED_FRAMES = 10_000  # a client that falls this far behind is dropped, not buffered forever


class HubError(Exception):
    """Raised by a hub method; the caller gets the text as ASP.NET words a ``HubException``."""


Dispatch = Callable[["HubConnection", str, list[Any]], Awaitable[None]]


class HubConnection:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        kind: Kind,
        owner: str,
        connection_id: str,
        dispatch: Dispatch,
        known_methods: frozenset[str],
        keepalive_interval: float,
        client_timeout: float,
        handshake_timeout: float,
        max_message_size: int,
        on_frame: Callable[[bytes], None] | None = None,
    ) -> None:
        self.ws = ws
        self.kind = kind
        self.owner = owner
        self.connection_id = connection_id
        self.codec: HubCodec | None = None
        self.subscriptions: set[str] = set()
        self._dispatch = dispatch
        self._known_methods = known_methods
        self._keepalive = keepalive_interval
        self._client_timeout = client_timeout
        self._handshake_timeout = handshake_timeout
        self._max_message = max_message_size
        self._on_frame = on_frame  # sees every frame the client sends, for tests of what clients say
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._last_received = time.monotonic()

    def send(self, frame: bytes) -> None:
        """Queue an encoded message; never blocks the caller (the task runner)."""
        if self._queue.qsize() >= MAX_QUEUED_FRAMES:
            log.warning("hub connection %s is too slow to keep up; dropping it", self.connection_id)
            self.abort()
            return
        self._queue.put_nowait(frame)

    async def write_now(self, frame: bytes) -> None:
        """Write one frame, waiting for the socket (benchmark bursts). A frame is written whole, so this and
        the writer task never interleave inside one."""
        await self._send_frame(frame)

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
        watchdog = asyncio.create_task(self._keepalive_loop())
        try:
            await self._read_loop()
        finally:
            watchdog.cancel()
            self._queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
            await self.ws.close()

    async def _handshake(self) -> bool:
        try:
            msg = await self.ws.receive(timeout=self._handshake_timeout)
        except TimeoutError:
            await self.ws.close()
            return False
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return False
        data = msg.data.encode() if msg.type == WSMsgType.TEXT else msg.data
        if self._on_frame is not None:
            self._on_frame(data)
        try:
            request, rest = parse_handshake(data)
        except HubProtocolError as exc:
            await self._refuse_handshake(str(exc))
            return False
        name, version = request.get("protocol"), request.get("version")
        if name not in CODECS:
            await self._refuse_handshake(f"The protocol '{name}' is not supported.")
            return False
        # ASP.NET takes any version up to its own (JsonHubProtocol.IsVersionSupported: version <= 1).
        if not isinstance(version, int) or isinstance(version, bool) or version > 1:
            await self._refuse_handshake(f"The server does not support version {version} of the '{name}' protocol.")
            return False
        self.codec = CODECS[name](self._max_message)
        await self._send_frame(handshake_response())
        if rest:
            await self._receive(rest)
        return True

    async def _refuse_handshake(self, error: str) -> None:
        await self.ws.send_str(handshake_response(error).decode())
        await self.ws.close()

    async def _read_loop(self) -> None:
        async for msg in self.ws:
            if msg.type == WSMsgType.TEXT:
                data = msg.data.encode()
            elif msg.type == WSMsgType.BINARY:
                data = msg.data
            else:
                break
            self._last_received = time.monotonic()
            if self._on_frame is not None:
                self._on_frame(data)
            if not await self._receive(data):
                break

    async def _receive(self, data: bytes) -> bool:
        """Handle a frame's messages; False once the connection should end."""
        assert self.codec is not None
        try:
            messages = self.codec.feed(data)
        except HubProtocolError as exc:
            log.debug("closing hub connection %s: %s", self.connection_id, exc)
            await self.close(f"Connection closed with an error. InvalidDataException: {exc}")
            return False
        for message in messages:
            if message.type == CLOSE:
                return False
            if message.type in (INVOCATION, STREAM_INVOCATION):
                await self._invoke(message)
            # Pings only prove liveness; completions, stream items, cancels and acks ask nothing of us.
        return True

    async def _invoke(self, message: HubMessage) -> None:
        assert self.codec is not None and message.target is not None
        target, inv = message.target, message.invocation_id
        error: str | None = None
        if target not in self._known_methods or message.type == STREAM_INVOCATION:
            error = f"Failed to invoke '{target}' due to an error on the server. HubException: Method does not exist."
        elif len(message.arguments) != 1:
            error = (
                f"Failed to invoke '{target}' due to an error on the server. InvalidDataException: "
                f"Invocation provides {len(message.arguments)} argument(s) but target expects 1."
            )
        elif not isinstance(message.arguments[0], str):
            error = (
                f"Failed to invoke '{target}' due to an error on the server. InvalidDataException: Error binding "
                "arguments. Make sure that the types of the provided values match the types of the hub method "
                "being invoked."
            )
        else:
            try:
                await self._dispatch(self, target, message.arguments)
            except HubError as exc:
                error = f"An unexpected error occurred invoking '{target}' on the server. HubException: {exc}"
        if error is not None:
            log.debug("hub %s invocation %s failed: %s", self.kind, target, error)
        if inv is not None:  # a non-blocking invocation gets no completion, even for an error
            self.send(self.codec.completion(inv, error=error))

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
        assert self.codec is not None or data.endswith(b"\x1e")
        if self.codec is not None and self.codec.binary:
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data.decode())

    async def _keepalive_loop(self) -> None:
        assert self.codec is not None
        while True:
            await asyncio.sleep(min(self._keepalive, self._client_timeout / 2))
            if time.monotonic() - self._last_received > self._client_timeout:
                await self.close("Server timeout elapsed without receiving a message from the client.")
                return
            self.send(self.codec.ping())
