"""Reading hub frames so that one bad message costs that message, not the connection.

pysignalr's own protocols decode a whole WebSocket frame at once and raise on the first thing they cannot
read (a message that is not JSON, a MessagePack length that runs past the frame, an array of the wrong
shape, a ``target`` that is a list). The exception ends pysignalr's receive loop: the connection drops, every
other message in the frame is lost, and the client reconnects. The protocols here decode message by
message and drop, with a DEBUG log line, anything that is not a well-formed message this client acts on:

- invocations with a string target, a list of arguments and a string (or no) invocation id;
- completions (answers to our own SubscribeToTask calls), pings and closes.

Stream items, stream invocations and cancels are dropped too: this client starts no streams.

They take effect where `HubLink` builds its pysignalr client (``conduit_widget/client/realtime.py``), for
the frames its fast path (`fastpath`) leaves to pysignalr.
`QuietNotices` moves pysignalr's log lines about server messages the client ignores (an event name it
does not know, an invocation that wants a result) from WARNING/ERROR to DEBUG: a server sending something
new must not fill a notebook's log.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import msgpack
import orjson
from pysignalr.messages import CloseMessage, CompletionMessage, InvocationMessage, Message, PingMessage
from pysignalr.protocol.json import JSONProtocol
from pysignalr.protocol.messagepack import MessagepackProtocol

from conduit_widget.client.fastpath import expand_arguments, messagepack_bodies

log = logging.getLogger(__name__)

_INVOCATION: Final = 1
_COMPLETION: Final = 3
_PING: Final = 6
_CLOSE: Final = 7
_IGNORED_TYPES: Final = frozenset({2, 4, 5, 8, 9})  # stream item/invocation, cancel, ack, sequence


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _headers(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _drop(what: str, detail: object) -> None:
    text = repr(detail)
    log.debug("ignoring a hub message: %s (%s)", what, text if len(text) <= 200 else text[:200] + "…")


def message_from_json(data: Any) -> Message | None:
    """A decoded JSON hub message as a pysignalr message, or None (logged at DEBUG) if it is not one."""
    if not isinstance(data, dict):
        _drop("not a JSON object", data)
        return None
    if not data:
        return None  # an empty object: pysignalr skips it too
    kind = data.get("type")
    if not _is_int(kind):
        _drop("no integer 'type'", data)
        return None
    if kind == _INVOCATION:
        target, arguments, invocation_id = data.get("target"), data.get("arguments", []), data.get("invocationId")
        if not isinstance(target, str) or not isinstance(arguments, list) or not _optional_text(invocation_id):
            _drop("an invocation without a string target, a list of arguments or a string id", data)
            return None
        if data.get("streamIds"):
            _drop("an invocation that streams to the server", data)
            return None
        return InvocationMessage(invocation_id, target, arguments, _headers(data.get("headers")))
    if kind == _COMPLETION:
        invocation_id, error = data.get("invocationId"), data.get("error")
        if not isinstance(invocation_id, str) or not _optional_text(error):
            _drop("a completion without a string invocation id", data)
            return None
        return CompletionMessage(invocation_id, data.get("result"), error, _headers(data.get("headers")))
    if kind == _PING:
        return PingMessage()
    if kind == _CLOSE:
        return _close(data.get("error"), data.get("allowReconnect"), data)
    _drop("a message type this client does not act on" if kind in _IGNORED_TYPES else "an unknown type", data)
    return None


def message_from_msgpack(values: Any) -> Message | None:
    """A decoded MessagePack hub message (an array) as a pysignalr message, or None (logged at DEBUG)."""
    if not isinstance(values, list | tuple) or not values or not _is_int(values[0]):
        _drop("not an array starting with the message type", values)
        return None
    kind, size = values[0], len(values)
    if kind == _INVOCATION:
        # [1, headers, invocationId, target, [arguments], [streamIds]?]
        if size < 5:
            _drop("an invocation with too few fields", values)
            return None
        _, headers, invocation_id, target, arguments = values[:5]
        if not isinstance(target, str) or not isinstance(arguments, list) or not _optional_text(invocation_id):
            _drop("an invocation without a string target, a list of arguments or a string id", values)
            return None
        if size > 5 and values[5]:
            _drop("an invocation that streams to the server", values)
            return None
        return InvocationMessage(invocation_id, target, expand_arguments(arguments), _headers(headers))
    if kind == _COMPLETION:
        # [3, headers, invocationId, resultKind, result?]: 1 error, 2 void, 3 result
        if size < 4 or not isinstance(values[2], str) or values[3] not in (1, 2, 3) or isinstance(values[3], bool):
            _drop("a malformed completion", values)
            return None
        headers, invocation_id, result_kind = values[1], values[2], values[3]
        if result_kind == 2:
            return CompletionMessage(invocation_id, None, None, _headers(headers))
        if size < 5 or (result_kind == 1 and not isinstance(values[4], str)):
            _drop("a completion without its error or result", values)
            return None
        if result_kind == 1:
            return CompletionMessage(invocation_id, None, values[4], _headers(headers))
        return CompletionMessage(invocation_id, values[4], None, _headers(headers))
    if kind == _PING:
        return PingMessage()
    if kind == _CLOSE:
        return _close(values[1] if size > 1 else None, values[2] if size > 2 else None, values)
    _drop("a message type this client does not act on" if kind in _IGNORED_TYPES else "an unknown type", values)
    return None


def _close(error: Any, allow_reconnect: Any, raw: Any) -> Message | None:
    if not _optional_text(error):
        _drop("a close message whose error is not a string", raw)
        error = None
    return CloseMessage(error or None, allow_reconnect if isinstance(allow_reconnect, bool) else None)


class TolerantJSONProtocol(JSONProtocol):
    """pysignalr's JSON protocol, reading each record on its own; an unreadable one is dropped."""

    def decode(self, raw_message: str | bytes) -> list[Message]:
        if isinstance(raw_message, bytes):
            try:
                raw_message = raw_message.decode()
            except UnicodeDecodeError as exc:
                _drop("a frame that is not UTF-8", exc)
                return []
        messages: list[Message] = []
        for record in raw_message.split(self.record_separator):
            if not record:
                continue
            try:
                data = orjson.loads(record)
            except orjson.JSONDecodeError as exc:
                _drop(f"not JSON: {exc}", record)
                continue
            message = message_from_json(data)
            if message is not None:
                messages.append(message)
        return messages


class TolerantMessagepackProtocol(MessagepackProtocol):
    """pysignalr's MessagePack protocol, reading each length-prefixed message on its own. A message that
    does not unpack, or has the wrong shape, is dropped; a length that runs past the frame drops the rest
    of the frame (there is no telling where the next message would start)."""

    def decode(self, raw_message: str | bytes) -> list[Message]:
        data = raw_message.encode() if isinstance(raw_message, str) else raw_message
        messages: list[Message] = []
        bodies, whole = messagepack_bodies(data)
        if not whole:
            _drop("a message length that is cut short or runs past the frame", data[-8:])
        for body in bodies:
            try:
                values = msgpack.unpackb(body)
            except Exception as exc:  # msgpack raises several unrelated types for bad input
                _drop(f"not MessagePack: {type(exc).__name__}: {exc}", body)
                continue
            message = message_from_msgpack(values)
            if message is not None:
                messages.append(message)
        return messages


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
