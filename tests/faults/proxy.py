"""A fault-injecting TCP proxy on loopback: the network between the client and the local Conduit.

Bytes are forwarded both ways between a listening port and the server's port. Faults:

- ``cut()`` closes every current connection abruptly (a reset, as a dropped Wi-Fi link or a gateway
  restart looks to both ends);
- ``stall(True)`` stops forwarding in both directions without closing anything, a closed end
  included (a dead network: nothing arrives, nothing is refused); new connections stall too;
- ``refuse(True)`` accepts new connections and closes them at once (a server that is down);
- ``slow(bytes_per_second)`` trickles every connection; ``slow(None)`` restores full speed.

Run it as an async context manager inside the test's event loop; leaving it cuts what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

HOST = "127.0.0.1"
_CHUNK = 65536


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

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def active(self) -> int:
        return len(self._live)

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
            try:
                await asyncio.gather(self._pump(reader, upstream), self._pump(upstream_reader, writer))
            finally:
                self._live.discard(pair)
                for side in pair:
                    side.transport.abort() if side.transport.is_closing() else side.close()
        finally:
            self._handlers.discard(handler)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy one direction until end of stream, then pass the half-close on. Nothing moves while stalled,
        the end of stream included."""
        with contextlib.suppress(ConnectionError, OSError):
            while True:
                data = await source.read(_CHUNK)
                await self._flowing.wait()
                if not data:
                    if sink.can_write_eof() and not sink.transport.is_closing():
                        sink.write_eof()
                    return
                await self._send(sink, data)

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
