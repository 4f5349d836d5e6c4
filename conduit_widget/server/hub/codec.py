"""The SignalR hub protocols, JSON and MessagePack, as the server side reads and writes them.

Spec: dotnet/aspnetcore ``src/SignalR/docs/specs/HubProtocol.md``. JSON messages end with 0x1E; MessagePack
messages are prefixed with their length as a VarInt. Either way several messages may share one WebSocket
frame and (in principle) one message may span frames, so decoding keeps a buffer per connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import lz4.block
import msgpack

from conduit_widget.server.binding import too_deep_at
from conduit_widget.wire import (
    ACK,
    CANCEL_INVOCATION,
    CLOSE,
    COMPLETION,
    INVOCATION,
    LZ4_BLOCK_ARRAY,
    PING,
    RECORD_SEPARATOR,
    RESULT_ERROR,
    RESULT_VALUE,
    RESULT_VOID,
    SEQUENCE,
    STREAM_INVOCATION,
    STREAM_ITEM,
    LengthTooLong,
    read_length,
    varint,
)

# SignalR reads the handshake and JSON hub messages with Utf8JsonReader's default options, whose MaxDepth is 64
# (JsonReaderOptions in dotnet/runtime): deeper is a reader error, and here never reaches json's recursion.
READER_MAX_DEPTH: Final = 64


class HubProtocolError(Exception):
    """The peer sent something that is not a hub message; the connection is closed (the text goes to the log: a
    production ASP.NET server says only "Connection closed with an error.")."""


@dataclass(frozen=True)
class HubMessage:
    """An incoming hub message, reduced to what a server acts on. `type` may be one no version knows: ASP.NET reads
    such a message and acts on nothing after it (see HubConnection)."""

    type: int
    target: str | None = None
    arguments: list[Any] = field(default_factory=list)
    invocation_id: str | None = None
    error: str | None = None


class HubCodec(Protocol):
    name: str
    binary: bool

    def feed(self, data: bytes) -> list[HubMessage]: ...
    def invocation(self, target: str, arguments: list[Any]) -> bytes: ...
    def completion(self, invocation_id: str, *, error: str | None = None) -> bytes: ...
    def ping(self) -> bytes: ...
    def close(self, error: str | None = None, *, allow_reconnect: bool = False) -> bytes: ...


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _no_constant(name: str) -> Any:
    raise ValueError(f"'{name}' is not JSON")


# Properties a JSON message must carry, by type (JsonHubProtocol.ParseMessage and its Bind* helpers).
_REQUIRED: Final[dict[int, tuple[str, ...]]] = {
    INVOCATION: ("target", "arguments"),
    STREAM_ITEM: ("invocationId", "item"),
    COMPLETION: ("invocationId",),
    STREAM_INVOCATION: ("invocationId", "target", "arguments"),
    CANCEL_INVOCATION: ("invocationId",),
    ACK: ("sequenceId",),
    SEQUENCE: ("sequenceId",),
}
_STRINGS: Final = ("invocationId", "target", "error")  # present means a string: null is refused too


class JsonCodec:
    name = "json"
    binary = False

    def __init__(self, max_message_size: int) -> None:
        self._max = max_message_size
        self._buffer = b""

    def feed(self, data: bytes) -> list[HubMessage]:
        self._buffer += data
        *records, self._buffer = self._buffer.split(RECORD_SEPARATOR)
        if len(self._buffer) > self._max or any(len(r) > self._max for r in records):
            raise HubProtocolError(f"The maximum message size of {self._max}B was exceeded.")
        return [self._parse(r) for r in records]

    def _parse(self, record: bytes) -> HubMessage:
        try:
            if too_deep_at(record.decode(), READER_MAX_DEPTH) is not None:
                raise HubProtocolError("Error reading JSON.")
            obj = json.loads(record, parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise HubProtocolError("Error reading JSON.") from None
        if not isinstance(obj, dict):
            raise HubProtocolError("Unexpected JSON Token Type. Expected a JSON Object.")
        if "type" not in obj:
            raise HubProtocolError("Missing required property 'type'.")
        kind = obj["type"]
        if not isinstance(kind, int) or isinstance(kind, bool):
            raise HubProtocolError("Expected 'type' to be of type Number.")
        headers = obj.get("headers")
        if "headers" in obj and (
            not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())
        ):
            raise HubProtocolError("Expected the headers to be an object of strings.")
        for name in _STRINGS:
            if name in obj and not isinstance(obj[name], str):
                raise HubProtocolError(f"Expected '{name}' to be of type String.")
        if "arguments" in obj and not isinstance(obj["arguments"], list):
            raise HubProtocolError("Expected 'arguments' to be of type Array.")
        if "allowReconnect" in obj and not isinstance(obj["allowReconnect"], bool):
            raise HubProtocolError("Expected 'allowReconnect' to be true or false.")
        for name in _REQUIRED.get(kind, ()):
            if name not in obj:
                raise HubProtocolError(f"Missing required property '{name}'.")
        if kind == COMPLETION and "result" in obj and "error" in obj:
            raise HubProtocolError("The 'error' and 'result' properties are mutually exclusive.")
        inv = obj.get("invocationId") or None  # "" is a non-blocking invocation, as an absent id
        if kind in (INVOCATION, STREAM_INVOCATION):
            return HubMessage(kind, target=obj["target"], arguments=obj["arguments"], invocation_id=inv)
        return HubMessage(kind, invocation_id=inv, error=obj.get("error"))

    def invocation(self, target: str, arguments: list[Any]) -> bytes:
        return _dumps({"type": INVOCATION, "target": target, "arguments": arguments}) + RECORD_SEPARATOR

    def completion(self, invocation_id: str, *, error: str | None = None) -> bytes:
        # A hub method that returns nothing still completes with `"result": null`, as ASP.NET writes it.
        outcome: dict[str, object] = {"error": error} if error is not None else {"result": None}
        return _dumps({"type": COMPLETION, "invocationId": invocation_id, **outcome}) + RECORD_SEPARATOR

    def ping(self) -> bytes:
        return b'{"type":6}' + RECORD_SEPARATOR

    def close(self, error: str | None = None, *, allow_reconnect: bool = False) -> bytes:
        msg: dict[str, object] = {"type": CLOSE}
        if error is not None:
            msg["error"] = error
        if allow_reconnect:
            msg["allowReconnect"] = True
        return _dumps(msg) + RECORD_SEPARATOR


def _pack(obj: object) -> bytes:
    body: bytes = msgpack.packb(obj, use_bin_type=True)
    return varint(len(body)) + body


# MessagePackHubProtocolWorker: the fewest elements each message type is read with.
_MSGPACK_SIZES: Final = {
    INVOCATION: 5,
    STREAM_ITEM: 4,
    COMPLETION: 4,
    STREAM_INVOCATION: 5,
    CANCEL_INVOCATION: 3,
    ACK: 2,
    SEQUENCE: 2,
}
_WITH_HEADERS: Final = frozenset({INVOCATION, STREAM_ITEM, COMPLETION, STREAM_INVOCATION, CANCEL_INVOCATION})


class MessagePackCodec:
    name = "messagepack"
    binary = True

    def __init__(self, max_message_size: int, compress_from: int | None = None) -> None:
        self._max = max_message_size
        self._buffer = b""
        self._compress_from = compress_from  # see _argument

    def feed(self, data: bytes) -> list[HubMessage]:
        self._buffer += data
        messages: list[HubMessage] = []
        while self._buffer:
            try:
                read = read_length(self._buffer, 0)
            except LengthTooLong as exc:
                raise HubProtocolError(str(exc)) from None
            if read is None:
                return messages  # the length itself is still incomplete
            length, start = read
            if length > self._max:
                raise HubProtocolError(f"The maximum message size of {self._max}B was exceeded.")
            if len(self._buffer) < start + length:
                return messages
            body, self._buffer = self._buffer[start : start + length], self._buffer[start + length :]
            messages.append(self._parse(body))
        return messages

    def _parse(self, body: bytes) -> HubMessage:
        try:
            arr = msgpack.unpackb(body, raw=False, strict_map_key=False)
        except Exception as exc:  # msgpack raises several unrelated types for bad input
            raise HubProtocolError(f"Error reading MessagePack: {exc}") from None
        if not isinstance(arr, list) or not arr or not isinstance(arr[0], int) or isinstance(arr[0], bool):
            raise HubProtocolError("Reading 'messageType' as Int32 failed.")
        kind, size = arr[0], _MSGPACK_SIZES.get(arr[0], 1)
        if len(arr) < size:
            raise HubProtocolError(f"Invalid message: a type {kind} message has at least {size} elements.")
        if kind in _WITH_HEADERS:
            headers = arr[1]
            if not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
            ):
                raise HubProtocolError("Reading 'headers' as a map of strings failed.")
            inv = arr[2]
            if inv is not None and not isinstance(inv, str):
                raise HubProtocolError("Reading 'invocationId' as String failed.")
            if kind in (INVOCATION, STREAM_INVOCATION):
                target, args = arr[3], arr[4]
                if not isinstance(target, str):
                    raise HubProtocolError("Reading 'target' as String failed.")
                if not isinstance(args, list):
                    raise HubProtocolError("Reading array length for 'arguments' failed.")
                return HubMessage(kind, target=target, arguments=args, invocation_id=inv or None)
            if kind == COMPLETION and arr[3] not in (RESULT_ERROR, RESULT_VOID, RESULT_VALUE):
                raise HubProtocolError("Invalid invocation result kind.")
            return HubMessage(kind, invocation_id=inv or None)
        if kind == CLOSE:
            error = arr[1] if len(arr) > 1 else None
            if error is not None and not isinstance(error, str):
                raise HubProtocolError("Reading 'error' as String failed.")
            return HubMessage(kind, error=error)
        return HubMessage(kind)

    def invocation(self, target: str, arguments: list[Any]) -> bytes:
        return _pack([INVOCATION, {}, None, target, [self._argument(a) for a in arguments], []])

    def _argument(self, value: Any) -> Any:
        """An argument as MessagePack-CSharp serialises it with Lz4BlockArray compression from `compress_from`
        bytes (the Gateway's setting): ``[ExtType(98, uncompressed length), LZ4 block]`` in place of the value."""
        if self._compress_from is None:
            return value
        packed: bytes = msgpack.packb(value, use_bin_type=True)
        if len(packed) < self._compress_from:
            return value
        block = lz4.block.compress(packed, store_size=False)
        return [msgpack.ExtType(LZ4_BLOCK_ARRAY, msgpack.packb(len(packed))), block]

    def completion(self, invocation_id: str, *, error: str | None = None) -> bytes:
        if error is not None:
            return _pack([COMPLETION, {}, invocation_id, RESULT_ERROR, error])
        return _pack(
            [COMPLETION, {}, invocation_id, RESULT_VALUE, None]
        )  # a non-void result of nil, as ASP.NET writes it

    def ping(self) -> bytes:
        return _pack([PING])

    def close(self, error: str | None = None, *, allow_reconnect: bool = False) -> bytes:
        return _pack([CLOSE, error, allow_reconnect])


def codec_for(name: str, max_message_size: int, *, compress_from: int | None = None) -> HubCodec:
    """The codec of a protocol the handshake named: ``json`` or ``messagepack``."""
    if name == "messagepack":
        return MessagePackCodec(max_message_size, compress_from)
    return JsonCodec(max_message_size)


CODECS: Final[dict[str, Callable[[int], HubCodec]]] = {"json": JsonCodec, "messagepack": MessagePackCodec}


def parse_handshake(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Split the JSON handshake request off the front of the first frame; return it and what follows."""
    head, sep, rest = data.partition(RECORD_SEPARATOR)
    if not sep:
        raise HubProtocolError("The handshake request is incomplete or missing its record separator.")
    try:
        if too_deep_at(head.decode(), READER_MAX_DEPTH) is not None:
            raise HubProtocolError("The handshake request is nested too deeply.")
        request = json.loads(head)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise HubProtocolError("The handshake request is not valid JSON.") from None
    if not isinstance(request, dict):
        raise HubProtocolError("The handshake request is not a JSON object.")
    return request, rest


def handshake_response(error: str | None = None) -> bytes:
    return (_dumps({"error": error}) if error else b"{}") + RECORD_SEPARATOR
