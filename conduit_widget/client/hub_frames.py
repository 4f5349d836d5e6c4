"""Hub frames read once, into event calls for the dialects and pysignalr messages for the rest.

Almost all of a hub's traffic is events: pysignalr would turn each into a message object and await a handler
coroutine for it, which costs more than everything this client then does with a progress event. So every frame is
decoded here, once (for JSON, the whole frame in one call), and each message in it becomes one of:

- an event call, ``(target, arguments)``: an invocation of a known event that expects no answer; it goes straight
  to the dialects (`dialects.parse_hub_event`);
- a pysignalr message: completions (answers to our SubscribeToTask calls) and closes, which pysignalr acts on;
- nothing: pings (the frame's arrival is what the keepalive needs), and, with a DEBUG line, anything that is not a
  well-formed message this client acts on (stream items and invocations, cancels, acks, an unknown type, a
  ``target`` that is not a string, a record that is not JSON). One bad message costs that message, never the
  connection: pysignalr's own decoders raise on the first, which ends its receive loop.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any, Final

import msgpack
import orjson
from pysignalr.messages import CloseMessage, CompletionMessage, InvocationMessage, Message, PingMessage

from conduit_widget.wire import (
    ACK,
    CANCEL_INVOCATION,
    CLOSE,
    COMPLETION,
    INVOCATION,
    LZ4_BLOCK_ARRAY,
    PING,
    RECORD_SEPARATOR_TEXT,
    RESULT_ERROR,
    RESULT_VALUE,
    RESULT_VOID,
    SEQUENCE,
    STREAM_INVOCATION,
    STREAM_ITEM,
    messagepack_bodies,
)

log = logging.getLogger(__name__)

MAX_EXPANDED: Final = 4 * 1024 * 1024  # bytes one compressed argument may expand to: an event is never near this
_IGNORED_TYPES: Final = frozenset({STREAM_ITEM, STREAM_INVOCATION, CANCEL_INVOCATION, ACK, SEQUENCE})
_PING_MESSAGE: Final = [PING]  # a MessagePack ping: [6]

EventCall = tuple[str, Any]
Item = EventCall | Message  # what a frame is read into, in the frame's order


def read_json(raw: str | bytes, targets: Collection[str]) -> list[Item]:
    """The items of a JSON-protocol frame; events are invocations of one of `targets`."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        _drop("a frame that is not UTF-8", exc)
        return []
    last = len(text) - 1
    records: list[Any] | None = None
    if last >= 0 and text[last] == RECORD_SEPARATOR_TEXT:
        # One decode for the whole frame. A record separator cannot stand inside a JSON record (control characters
        # in strings must be escaped, and orjson holds to that), so the first one ends the first record; several
        # records are joined into one JSON array. A frame this turns into something else fails to decode, and is
        # read record by record below.
        try:
            if text.find(RECORD_SEPARATOR_TEXT) == last:  # one message, as real servers send them
                records = [orjson.loads(text[:last])]
            else:
                records = orjson.loads("[" + text[:last].replace(RECORD_SEPARATOR_TEXT, ",") + "]")
        except orjson.JSONDecodeError:
            records = None
    if records is None:
        records = [_json_record(r) for r in text.split(RECORD_SEPARATOR_TEXT) if r]
    items: list[Item] = []
    for message in records:
        # The usual message first, in as few steps as it takes: an event invocation, then a ping.
        if type(message) is dict:
            kind = message.get("type")
            if kind == INVOCATION:
                target, arguments = message.get("target"), message.get("arguments")
                if (
                    type(target) is str
                    and target in targets
                    and type(arguments) is list
                    and message.get("invocationId") is None
                    and not message.get("streamIds")
                ):
                    items.append((target, arguments))
                    continue
            elif kind == PING and len(message) == 1:
                continue
        if message is not _UNREADABLE:
            converted = message_from_json(message)
            if converted is not None and not isinstance(converted, PingMessage):
                items.append(converted)
    return items


_UNREADABLE: Final = object()


def _json_record(record: str) -> Any:
    try:
        return orjson.loads(record)
    except orjson.JSONDecodeError as exc:
        _drop(f"not JSON: {exc}", record)
        return _UNREADABLE


def read_msgpack(raw: str | bytes, targets: Collection[str]) -> list[Item]:
    """The items of a MessagePack-protocol frame (VarInt-length-prefixed arrays)."""
    data = raw.encode() if isinstance(raw, str) else raw
    bodies, whole = messagepack_bodies(data)
    if not whole:
        _drop("a message length that is cut short or runs past the frame", data[-8:])
    items: list[Item] = []
    unpackb = msgpack.unpackb
    for body in bodies:
        try:
            message = unpackb(body)
        except Exception as exc:  # msgpack raises several unrelated types for bad input
            _drop(f"not MessagePack: {type(exc).__name__}: {exc}", body)
            continue
        if type(message) is list:
            # [1, headers, invocationId, target, arguments, streamIds?]; the usual message first, as above.
            size = len(message)
            if (size == 5 or (size == 6 and not message[5])) and message[0] == INVOCATION and message[2] is None:
                target, arguments = message[3], message[4]
                if type(target) is str and target in targets and type(arguments) is list:
                    items.append((target, expand_arguments(arguments)))
                    continue
            elif message == _PING_MESSAGE:
                continue
        converted = message_from_msgpack(message)
        if converted is not None and not isinstance(converted, PingMessage):
            items.append(converted)
    return items


def expand_arguments(arguments: Any) -> Any:
    """Hub arguments with any LZ4-compressed value (``[ExtType(98, lengths), block, ...]``) in its plain form; one
    that cannot be read becomes None, so that its event is dropped as unreadable rather than mistaken."""
    if type(arguments) is not list:
        return arguments
    for index, value in enumerate(arguments):
        if type(value) is list and value and type(value[0]) is msgpack.ExtType and value[0].code == LZ4_BLOCK_ARRAY:
            arguments = [*arguments[:index], _expanded(value), *arguments[index + 1 :]]
    return arguments


def _expanded(value: list[Any]) -> Any:
    import lz4.block  # only MessagePack clients get here, and those are made only with lz4 installed (inputs.py)

    try:
        unpacker = msgpack.Unpacker()
        unpacker.feed(value[0].data)
        lengths = list(unpacker)
        blocks = value[1:]
        if len(lengths) != len(blocks) or sum(lengths) > MAX_EXPANDED:
            return None
        data = b"".join(
            lz4.block.decompress(block, uncompressed_size=length) for block, length in zip(blocks, lengths, strict=True)
        )
        return msgpack.unpackb(data)
    except (ValueError, TypeError, lz4.block.LZ4BlockError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        return None


# -- the messages pysignalr acts on ------------------------------------------------------------------


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
    if kind == INVOCATION:
        target, arguments, invocation_id = data.get("target"), data.get("arguments", []), data.get("invocationId")
        if not isinstance(target, str) or not isinstance(arguments, list) or not _optional_text(invocation_id):
            _drop("an invocation without a string target, a list of arguments or a string id", data)
            return None
        if data.get("streamIds"):
            _drop("an invocation that streams to the server", data)
            return None
        return InvocationMessage(invocation_id, target, arguments, _headers(data.get("headers")))
    if kind == COMPLETION:
        invocation_id, error = data.get("invocationId"), data.get("error")
        if not isinstance(invocation_id, str) or not _optional_text(error):
            _drop("a completion without a string invocation id", data)
            return None
        return CompletionMessage(invocation_id, data.get("result"), error, _headers(data.get("headers")))
    if kind == PING:
        return PingMessage()
    if kind == CLOSE:
        return _close(data.get("error"), data.get("allowReconnect"), data)
    _drop("a message type this client does not act on" if kind in _IGNORED_TYPES else "an unknown type", data)
    return None


def message_from_msgpack(values: Any) -> Message | None:
    """A decoded MessagePack hub message (an array) as a pysignalr message, or None (logged at DEBUG)."""
    if not isinstance(values, list | tuple) or not values or not _is_int(values[0]):
        _drop("not an array starting with the message type", values)
        return None
    kind, size = values[0], len(values)
    if kind == INVOCATION:
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
    if kind == COMPLETION:
        # [3, headers, invocationId, resultKind, result?]: 1 error, 2 void, 3 result
        if (
            size < 4
            or not isinstance(values[2], str)
            or values[3] not in (RESULT_ERROR, RESULT_VOID, RESULT_VALUE)
            or isinstance(values[3], bool)
        ):
            _drop("a malformed completion", values)
            return None
        headers, invocation_id, result_kind = values[1], values[2], values[3]
        if result_kind == RESULT_VOID:
            return CompletionMessage(invocation_id, None, None, _headers(headers))
        if size < 5 or (result_kind == RESULT_ERROR and not isinstance(values[4], str)):
            _drop("a completion without its error or result", values)
            return None
        if result_kind == RESULT_ERROR:
            return CompletionMessage(invocation_id, None, values[4], _headers(headers))
        return CompletionMessage(invocation_id, values[4], None, _headers(headers))
    if kind == PING:
        return PingMessage()
    if kind == CLOSE:
        return _close(values[1] if size > 1 else None, values[2] if size > 2 else None, values)
    _drop("a message type this client does not act on" if kind in _IGNORED_TYPES else "an unknown type", values)
    return None


def _close(error: Any, allow_reconnect: Any, raw: Any) -> Message | None:
    if not _optional_text(error):
        _drop("a close message whose error is not a string", raw)
        error = None
    return CloseMessage(error or None, allow_reconnect if isinstance(allow_reconnect, bool) else None)
