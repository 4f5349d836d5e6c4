"""pysignalr, adapted: everything that reaches into its internals (pysignalr 1.3) is in this module.

`LinkClient` is the pysignalr client one `HubLink` connection attempt uses; `classify_ending` turns how its run
ended into the client's errors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final

from pysignalr.client import SignalRClient
from pysignalr.exceptions import AuthorizationError
from pysignalr.protocol.messagepack import MessagepackProtocol
from websockets.asyncio.client import ClientConnection

from conduit_widget.client import fastpath
from conduit_widget.client.dialects import EVENT_TARGETS
from conduit_widget.client.errors import AuthError, ConduitError, NetworkError

_TARGETS: Final = frozenset(EVENT_TARGETS)
_TURN: Final = 0.005  # seconds of reading frames before the loop gets a turn


class LinkClient(SignalRClient):
    """pysignalr with what a `HubLink` needs and it has no API for. All of it reaches into its transport
    (pysignalr 1.3), and only here.

    - pysignalr copies the handshake headers, our ``Authorization`` among them, into the headers of every hub
      invocation. The key belongs on negotiate and the WebSocket upgrade only, so invocations get none; the
      transport keeps its own reference to the original headers.
    - Every frame is noted (`last_frame`, for the keepalive), and frames of nothing but events go straight to
      `on_events` (see `fastpath`); the rest to pysignalr.
    - The link pings the open socket itself (`socket`).
    """

    def __init__(self, *args: Any, on_events: Callable[[str, Any], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._headers = {}
        self.last_frame = time.monotonic()
        transport = self._transport
        to_pysignalr = transport._on_raw_message
        read = fastpath.read_msgpack if isinstance(self._protocol, MessagepackProtocol) else fastpath.read_json

        turn_taken = time.monotonic()

        async def receive(raw: str | bytes) -> None:
            nonlocal turn_taken
            now = self.last_frame = time.monotonic()
            calls = read(raw, _TARGETS)
            if calls is None:
                await to_pysignalr(raw)
            else:
                for target, arguments in calls:
                    on_events(target, arguments)
            if now - turn_taken >= _TURN:
                # While frames wait in the socket, websockets hands them over without ever suspending, so a burst
                # would hold the kernel's loop for as long as it lasts: no cell, no widget flush, no timer. Give
                # the loop a turn every few milliseconds of reading.
                turn_taken = now
                await asyncio.sleep(0)

        transport._on_raw_message = receive  # type: ignore[method-assign,assignment]

    @property
    def socket(self) -> ClientConnection | None:
        ws = getattr(self._transport, "_ws", None)
        return ws if isinstance(ws, ClientConnection) else None


class ProtocolRefused(NetworkError):
    """The hub refused the handshake's protocol ("The protocol 'messagepack' is not supported.")."""


def classify_ending(run: asyncio.Task[None]) -> ConduitError | None:
    if not run.done() or run.cancelled():
        return None
    exc = run.exception()
    if exc is None:
        return None
    if isinstance(exc, AuthorizationError):
        return AuthError("the hub refused the virtual key (HTTP 401)", status=401)
    text = str(exc)
    if isinstance(exc, ValueError) and text.startswith("Handshake error:") and "is not supported" in text:
        # pysignalr raises the server's handshake error as a ValueError from its run().
        return ProtocolRefused(text.removeprefix("Handshake error:").strip())
    return NetworkError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
