"""A fault-injecting TCP proxy on loopback: the network between the client and the local Conduit.

Bytes are forwarded both ways between a listening port and the server's port. Faults:

- ``cut()`` closes every current connection abruptly (a reset, as a dropped Wi-Fi link or a gateway
  restart looks to both ends);
- ``stall(True)`` stops forwarding in both directions without closing anything, a closed end
  included (a dead network: nothing arrives, nothing is refused); new connections stall too;
- ``refuse(True)`` accepts new connections and closes them at once (a server that is down);
- ``slow(bytes_per_second)`` trickles every connection; ``slow(None)`` restores full speed;
- ``corrupt()`` garbles what the server sends on one WebSocket connection, once: ``"flip"`` inverts every bit
  of the next bytes (the WebSocket framing breaks), ``"frame"`` slips a well-formed text frame that is not a
  hub message in between two frames (the framing holds, the hub protocol breaks).

Run it as an async context manager inside the test's event loop; leaving it cuts what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import TracebackType
from typing import Literal

HOST = "127.0.0.1"
_CHUNK = 65536
Corruption = Literal["flip", "frame"]
GARBAGE = b"this is not a hub message\x1e"  # valid UTF-8 text, not SignalR JSON (nor MessagePack framing)


class _ServerStream:
    """Follows what the server sends on one connection: the HTTP response head, then, after a ``101`` (a
    WebSocket), where each frame ends, so that garbage can go in between two frames."""

    def __init__(self) -> None:
        self.websocket = False
        self.broken = False  # garbled: no more frames to follow
        self._head: bytes | None = b""  # until the end of the response head; None after it
        self._header = b""  # a frame header read in part
        self._left = 0  # payload bytes until the end of the current frame

    @property
    def at_frame_edge(self) -> bool:
        return self.websocket and not self.broken and self._head is None and not self._header and not self._left

    def feed(self, data: bytes) -> None:
        if self._head is not None:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > _CHUNK:
                    self._head = None  # no HTTP head this proxy can read: never a WebSocket
                return
            head, data, self._head = self._head[:end], self._head[end + 4 :], None
            self.websocket = head.startswith(b"HTTP/1.1 101")
        if not self.websocket or self.broken:
            return
        at = 0
        while at < len(data):
            if self._left:
                step = min(self._left, len(data) - at)
                self._left -= step
                at += step
                continue
            self._header += data[at : at + 1]
            at += 1
            size = _header_size(self._header)
            if size is not None and len(self._header) == size:
                self._left, self._header = _payload_size(self._header), b""


def _header_size(header: bytes) -> int | None:
    if len(header) < 2:
        return None
    code = header[1] & 0x7F
    return 2 + {126: 2, 127: 8}.get(code, 0) + (4 if header[1] & 0x80 else 0)


def _payload_size(header: bytes) -> int:
    code = header[1] & 0x7F
    if code == 126:
        return int.from_bytes(header[2:4], "big")
    if code == 127:
        return int.from_bytes(header[2:10], "big")
    return code


def text_frame(payload: bytes) -> bytes:
    """One unmasked (server to client) WebSocket text frame, final, uncompressed."""
    size = len(payload)
    if size < 126:
        length = bytes([size])
    elif size < 1 << 16:
        length = bytes([126]) + size.to_bytes(2, "big")
    else:
        length = bytes([127]) + size.to_bytes(8, "big")
    return b"\x81" + length + payload


class FaultProxy:
    def __init__(self, target_port: int, *, target_host: str = HOST) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0  # accepted since start, refused ones included
        self.refused = 0
        self._server: asyncio.Server | None = None
        self._live: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._refusing = False
        self._rate: float | None = None
        self._streams: dict[tuple[asyncio.StreamWriter, asyncio.StreamWriter], _ServerStream] = {}
        self._corruption: Corruption | None = None
        self.corruptions: list[float] = []  # when each garbling went out (time.monotonic())

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def active(self) -> int:
        return len(self._live)

    @property
    def websockets(self) -> int:
        """Open connections that became WebSockets."""
        return sum(stream.websocket for stream in self._streams.values())

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._handle, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        self._flowing.set()
        self.cut()
        # The cut ends every forwarding handler by itself. Cancelling one instead makes Python 3.11's
        # StreamReaderProtocol log a CancelledError traceback, so only a straggler is cancelled.
        if self._handlers:
            _, stragglers = await asyncio.wait(set(self._handlers), timeout=2)
            for handler in stragglers:
                handler.cancel()
            await asyncio.gather(*stragglers, return_exceptions=True)
        await self._server.wait_closed()

    # -- controls ----------------------------------------------------------------------------------

    def cut(self) -> int:
        """Reset every current connection; how many there were."""
        cut = len(self._live)
        for client_side, server_side in list(self._live):
            client_side.transport.abort()
            server_side.transport.abort()
        self._live.clear()
        return cut

    def stall(self, on: bool) -> None:
        if on:
            self._flowing.clear()
        else:
            self._flowing.set()

    def refuse(self, on: bool) -> None:
        self._refusing = on

    def slow(self, bytes_per_second: float | None) -> None:
        if bytes_per_second is not None and bytes_per_second <= 0:
            raise ValueError(f"bytes_per_second must be positive, got {bytes_per_second}")
        self._rate = bytes_per_second

    def corrupt(self, how: Corruption = "flip") -> None:
        """Garble the next bytes the server sends on a WebSocket connection (whichever sends first), once;
        ``corruptions`` gets the time it happened. Plain HTTP connections are never touched."""
        if how not in ("flip", "frame"):
            raise ValueError(f"corrupt() takes 'flip' or 'frame', got {how!r}")
        self._corruption = how

    # -- forwarding --------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        self.connections += 1
        try:
            if self._refusing:
                self.refused += 1
                writer.transport.abort()
                return
            try:
                upstream_reader, upstream = await asyncio.open_connection(*self.target)
            except OSError:
                writer.transport.abort()
                return
            pair = (writer, upstream)
            self._live.add(pair)
            stream = self._streams[pair] = _ServerStream()
            try:
                await asyncio.gather(self._pump(reader, upstream), self._pump(upstream_reader, writer, stream))
            finally:
                self._live.discard(pair)
                self._streams.pop(pair, None)
                for side in pair:
                    side.transport.abort() if side.transport.is_closing() else side.close()
        finally:
            self._handlers.discard(handler)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, stream: _ServerStream | None = None
    ) -> None:
        """Copy one direction until end of stream, then pass the half-close on. Nothing moves while stalled,
        the end of stream included. `stream` follows the server-to-client direction, for ``corrupt()``."""
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                data = await source.read(_CHUNK)
                await self._flowing.wait()
                if not data:
                    if sink.can_write_eof() and not sink.transport.is_closing():
                        sink.write_eof()
                    return
                if stream is not None:
                    data = self._tamper(stream, data)
                await self._send(sink, data)

    def _tamper(self, stream: _ServerStream, data: bytes) -> bytes:
        """`data` as it goes on: garbled if a corruption is due and this is a WebSocket at the right place."""
        how = self._corruption
        if how == "frame" and stream.at_frame_edge:
            # The slipped frame is whole, so the server's own frames are still followed: the connection may live on.
            stream.feed(data)
            self._corruption = None
            self.corruptions.append(time.monotonic())
            return text_frame(GARBAGE) + data
        if how == "flip" and stream.websocket and not stream.broken:
            data = bytes(byte ^ 0xFF for byte in data)
        else:
            stream.feed(data)
            return data
        self._corruption = None
        stream.broken = True
        self.corruptions.append(time.monotonic())
        return data

    async def _send(self, sink: asyncio.StreamWriter, data: bytes) -> None:
        while data:
            rate = self._rate
            piece = data if rate is None else data[: max(1, int(rate / 20))]
            data = data[len(piece) :]
            await self._flowing.wait()
            if sink.transport.is_closing():
                raise ConnectionResetError("the other side is gone")
            sink.write(piece)
            await sink.drain()
            if rate is not None:
                await asyncio.sleep(len(piece) / rate)  # the trickle itself: a pace, not a wait for a condition
