"""pysignalr, adapted: everything that reaches into its internals (pysignalr 1.3) is in this module.

`LinkClient` is the pysignalr client one `HubLink` connection attempt uses: every frame it receives is read once by
`hub_frames`, events go straight to the link, and only the messages pysignalr acts on (completions, closes) reach
it, already decoded. `classify_ending` turns how its run ended into the client's errors. `QuietNotices` lowers
pysignalr's log lines about server messages the client ignores. ``tests/client/test_signalr.py`` holds pysignalr to
the internals used here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Final

from pysignalr.client import SignalRClient
from pysignalr.exceptions import AuthorizationError
from pysignalr.messages import InvocationMessage, Message
from pysignalr.protocol.json import JSONProtocol
from pysignalr.protocol.messagepack import MessagepackProtocol
from websockets.asyncio.client import ClientConnection

from conduit_widget.client import hub_frames
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
    - Every frame is noted (`last_frame`, for the keepalive) and read by `hub_frames`: events go straight to
      `on_events`, the messages pysignalr acts on to its message handler, decoded already.
    - The link pings the open socket itself (`socket`).
    """

    def __init__(self, *args: Any, on_events: Callable[[str, Any], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._headers = {}
        self.last_frame = time.monotonic()
        transport = self._transport
        to_pysignalr = transport._on_message
        read = hub_frames.read_msgpack if isinstance(self._protocol, MessagepackProtocol) else hub_frames.read_json

        turn_taken = time.monotonic()

        async def receive(raw: str | bytes) -> None:
            nonlocal turn_taken
            now = self.last_frame = time.monotonic()
            for item in read(raw, _TARGETS):
                if isinstance(item, tuple):
                    on_events(item[0], item[1])
                else:
                    await to_pysignalr(item)
            if now - turn_taken >= _TURN:
                # While frames wait in the socket, websockets hands them over without ever suspending, so a burst
                # would hold the kernel's loop for as long as it lasts: no cell, no widget flush, no timer. Give
                # the loop a turn every few milliseconds of reading.
                turn_taken = now
                await asyncio.sleep(0)

        transport._on_raw_message = receive  # type: ignore[method-assign,assignment]

    @property
    def answers_awaited(self) -> int:
        """Invocations sent whose completion pysignalr still holds a handler for."""
        return len(self._invocation_handlers)

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


class JSONFrames(JSONProtocol):
    """pysignalr's JSON protocol, decoding as `hub_frames` does. pysignalr decodes with it only what follows the
    handshake in its frame; every later frame `LinkClient` reads itself."""

    def decode(self, raw_message: str | bytes) -> list[Message]:
        return _as_messages(hub_frames.read_json(raw_message, ()))


class MessagepackFrames(MessagepackProtocol):
    """pysignalr's MessagePack protocol, decoding as `hub_frames` does (see `JSONFrames`)."""

    def decode(self, raw_message: str | bytes) -> list[Message]:
        return _as_messages(hub_frames.read_msgpack(raw_message, ()))


def _as_messages(items: list[hub_frames.Item]) -> list[Message]:
    # With no event targets nothing is read as an event call; the check keeps the types honest all the same.
    return [InvocationMessage(None, item[0], item[1], None) if isinstance(item, tuple) else item for item in items]


# -- pysignalr's log lines about what the server sent and the client ignores -------------------------

_NOTICES: Final[tuple[str, ...]] = (
    "No client method with the name",  # an event name the client has no handler for (WARNING)
    "No result given for",  # an invocation that wanted a client result; the server is told so (ERROR)
    "StreamItem received for unknown invocation",
    "CancelInvocation received for unknown invocation",
    "Result given for",
)


class QuietNotices(logging.Filter):
    """Lower pysignalr's notices about ignored server messages to DEBUG (they are not the user's to fix)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and isinstance(record.msg, str) and record.msg.startswith(_NOTICES):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            # The logger already decided to emit at the old level: drop it unless DEBUG is wanted too.
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def install_quiet_notices() -> None:
    """Idempotent."""
    logger = logging.getLogger("pysignalr.client")
    if not any(isinstance(f, QuietNotices) for f in logger.filters):
        logger.addFilter(QuietNotices())


# Here rather than in client.py: pysignalr's client logs only once a hub link loaded this module, and client.py
# no longer loads it (see `HubLink._supervise`).
install_quiet_notices()  # pysignalr's notes on server messages the client ignores: DEBUG, not WARNING/ERROR
