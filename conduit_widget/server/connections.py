"""Kestrel's limits on a connection, added to aiohttp's: a request-headers timeout, a minimum request-body data
rate, and the local Conduit's own cap on connections per client address.

aiohttp closes a connection that stays idle for its keep-alive timeout (counted from the connection's start and
from each response), but has nothing for a request that starts and never finishes: a client that sends half a
request line and stalls holds its connection, and a file descriptor, until aiohttp's keep-alive fires (an hour
by default). `ConnectionGuard.protocols` wraps the protocol aiohttp's server makes for each connection and adds
what Kestrel does (dotnet/aspnetcore, src/Servers/Kestrel/Core/src/Internal/Http/Http1Connection.cs):

- a request's first byte starts RequestHeadersTimeout (``ParseRequest``: ``ResetTimeout(_requestHeadersTimeoutTicks,
  TimeoutReason.RequestHeaders)``); the end of its headers stops it. On expiry Kestrel answers
  ``408 Request Timeout`` and closes ("there is an ongoing request but the start line/header parsing has timed
  out, so send a 408 response", ``TryParseRequest``). A connection that has sent nothing is KeepAliveTimeout's,
  which closes without a word (``StopProcessingNextRequest``): aiohttp's own keep-alive does that here;
- a request body must arrive at MinRequestBodyDataRate on average once its grace period is over; if not, the read
  fails with a 408 (``HandleReadDataRateTimeout`` -> ``SendTimeoutResponse``) and the connection closes.

Kestrel caps no client address (its MaxConcurrentConnections is global and unlimited by default); the local
Conduit runs on developer machines where one runaway script could exhaust the file descriptors, so it caps each
address. Refusing the address's newest connection at the cap would lock out a legitimate client sharing the
address with a flood (every test runs from 127.0.0.1), so the cap evicts instead: the oldest connection of that
address that is not in the middle of a request, one still sending its headers first, then an idle keep-alive
one (a client's pool reconnects; Kestrel drops idle ones on its own timeout too). Only when every one of them
is busy with a request (hub connections are) is the newcomer refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email.utils import formatdate
from typing import Any, Final, Literal

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_protocol import RequestHandler

from conduit_widget.server.config import ConnectionLimits

# What Kestrel writes for a request-headers timeout: the status line, an empty body, and the end of the connection.
_TIMEOUT_RESPONSE: Final = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\nDate: {}\r\n\r\n"
_RATE_CHECK_SECONDS: Final = 1.0  # Kestrel's heartbeat checks data rates once a second

State = Literal["idle", "headers", "request"]


class RequestBodyTimeout(Exception):
    """The body came slower than the minimum data rate (Kestrel's BadRequest_RequestBodyTimeout)."""


class GuardedConnection(asyncio.Protocol):
    """One client connection: aiohttp's protocol inside, Kestrel's timers around it."""

    def __init__(self, guard: ConnectionGuard, inner: RequestHandler) -> None:
        self._guard = guard
        self._inner = inner
        self.transport: asyncio.Transport | None = None
        self.address = ""
        self.state: State = "idle"
        self._timer: asyncio.TimerHandle | None = None
        self._refused = False

    # -- asyncio.Protocol, passed on to aiohttp's ------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if isinstance(peer, tuple) else str(peer)
        if not self._guard.admit(self):
            self._refused = True  # aiohttp never hears of it
            transport.abort()
            return
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.state == "idle" and data:
            # A request's first byte: its headers have RequestHeadersTimeout from now.
            self.state = "headers"
            self._start_timer(self._guard.limits.request_headers_timeout, self._headers_timed_out)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        if not self._refused:
            self._inner.eof_received()
        return None  # the transport closes itself, as it would for aiohttp's protocol

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        self._guard.forget(self)
        if not self._refused:
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    # -- what the guard's middleware tells it ----------------------------------------------------------

    def request_started(self, request: web.BaseRequest) -> None:
        """The headers are all in (aiohttp made a request of them): the header timer stops; a body's rate is
        watched from here."""
        self.state = "request"
        self._stop_timer()
        if request.can_read_body:
            started = asyncio.get_running_loop().time()
            self._start_timer(self._guard.limits.body_rate_grace, lambda: self._check_body_rate(request, started))

    def request_ended(self) -> None:
        self.state = "idle"
        self._stop_timer()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- the timers ---------------------------------------------------------------------------------------

    def _headers_timed_out(self) -> None:
        self._timer = None
        if self.state == "headers" and self.transport is not None:
            self.transport.write(_TIMEOUT_RESPONSE.format(formatdate(usegmt=True)).encode())
            self.transport.close()

    def _check_body_rate(self, request: web.BaseRequest, started: float) -> None:
        self._timer = None
        body = request.content
        if self.state != "request" or body.is_eof():
            return
        elapsed = asyncio.get_running_loop().time() - started
        if body.total_raw_bytes < self._guard.limits.min_body_rate * elapsed:
            # The handler's read fails with this; the middleware turns it into Kestrel's 408.
            body.set_exception(RequestBodyTimeout("The request body did not arrive at the minimum data rate."))
            return
        self._start_timer(_RATE_CHECK_SECONDS, lambda: self._check_body_rate(request, started))

    def _start_timer(self, delay: float, callback: Callable[[], None]) -> None:
        self._stop_timer()
        self._timer = asyncio.get_running_loop().call_later(delay, callback)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class ConnectionGuard:
    """The connections of one server, by client address; see the module's docstring."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._by_address: dict[str, dict[GuardedConnection, None]] = {}  # oldest first
        self._by_transport: dict[asyncio.BaseTransport, GuardedConnection] = {}
        self.evicted = 0
        self.refused = 0

    def protocols(self, make_inner: Callable[[], RequestHandler]) -> Callable[[], GuardedConnection]:
        """A protocol factory for ``loop.create_server``, wrapping the one aiohttp's runner offers
        (``runner.server``)."""
        return lambda: GuardedConnection(self, make_inner())

    def keepalive_kwargs(self) -> dict[str, Any]:
        """What aiohttp's runner takes to apply Kestrel's KeepAliveTimeout itself."""
        return {"keepalive_timeout": self.limits.keepalive_timeout}

    @property
    def open_connections(self) -> int:
        return len(self._by_transport)

    def admit(self, connection: GuardedConnection) -> bool:
        peers = self._by_address.setdefault(connection.address, {})
        if len(peers) >= self.limits.per_address:
            victim = next((c for c in peers if c.state == "headers"), None) or next(
                (c for c in peers if c.state == "idle"), None
            )
            if victim is None:
                self.refused += 1
                return False
            self.evicted += 1
            self._drop(victim)
            victim.close()
        peers[connection] = None
        assert connection.transport is not None
        self._by_transport[connection.transport] = connection
        return True

    def forget(self, connection: GuardedConnection) -> None:
        self._drop(connection)

    def _drop(self, connection: GuardedConnection) -> None:
        peers = self._by_address.get(connection.address, {})
        peers.pop(connection, None)
        if not peers:
            self._by_address.pop(connection.address, None)
        if connection.transport is not None and self._by_transport.get(connection.transport) is connection:
            del self._by_transport[connection.transport]

    def middleware(self) -> Middleware:
        """Tells each connection when its request's headers are in and when the request is over; answers a body
        that came too slowly with Kestrel's 408."""

        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            connection = self._by_transport.get(request.transport) if request.transport is not None else None
            if connection is not None:
                connection.request_started(request)
            try:
                return await handler(request)
            except RequestBodyTimeout:
                return web.Response(status=408, headers={"Connection": "close"})
            finally:
                if connection is not None:
                    connection.request_ended()

        return guard
