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

import msgpack

RECORD_SEPARATOR: Final = b"\x1e"

INVOCATION: Final = 1
STREAM_ITEM: Final = 2
COMPLETION: Final = 3
STREAM_INVOCATION: Final = 4
CANCEL_INVOCATION: Final = 5
PING: Final = 6
CLOSE: Final = 7
ACK: Final = 8
SEQUENCE: Final = 9
KNOWN_TYPES: Final = frozenset(range(1, 10))


class HubProtocolError(Exception):
    """The peer sent something that is not a hub message; the connection is closed with this text."""


@dataclass(frozen=True)
class HubMessage:
    """An incoming hub message, reduced to what a server acts on."""

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
            obj = json.loads(record)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HubProtocolError(f"Error reading JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise HubProtocolError("Unexpected JSON Token Type. Expected an object.")
        kind = obj.get("type")
        if not isinstance(kind, int) or isinstance(kind, bool):
            raise HubProtocolError("Missing required property 'type'.")
        if kind not in KNOWN_TYPES:
            raise HubProtocolError(f"Unknown message type '{kind}'.")
        if kind in (INVOCATION, STREAM_INVOCATION):
            target, args, inv = obj.get("target"), obj.get("arguments", []), obj.get("invocationId")
            if not isinstance(target, str):
                raise HubProtocolError("Missing required property 'target'.")
            if not isinstance(args, list):
                raise HubProtocolError("Expected 'arguments' to be of type Array.")
            if inv is not None and not isinstance(inv, str):
                raise HubProtocolError("Expected 'invocationId' to be of type String.")
            return HubMessage(kind, target=target, arguments=args, invocation_id=inv)
        if kind == CLOSE:
            err = obj.get("error")
            return HubMessage(kind, error=err if isinstance(err, str) else None)
        return HubMessage(kind)

    def invocation(self, target: str, arguments: list[Any]) -> bytes:
        return _dumps({"type": INVOCATION, "target": target, "arguments": arguments}) + RECORD_SEPARATOR

    def completion(self, invocation_id: str, *, error: str | None = None) -> bytes:
        msg: dict[str, object] = {"type": COMPLETION, "invocationId": invocation_id}
        if error is not None:
            msg["error"] = error
        return _dumps(msg) + RECORD_SEPARATOR

    def ping(self) -> bytes:
        return b'{"type":6}' + RECORD_SEPARATOR

    def close(self, error: str | None = None, *, allow_reconnect: bool = False) -> bytes:
        msg: dict[str, object] = {"type": CLOSE}
        if error is not None:
            msg["error"] = error
        if allow_reconnect:
            msg["allowReconnect"] = True
        return _dumps(msg) + RECORD_SEPARATOR


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _pack(obj: object) -> bytes:
    body: bytes = msgpack.packb(obj, use_bin_type=True)
    return _varint(len(body)) + body


class MessagePackCodec:
    name = "messagepack"
    binary = True

    def __init__(self, max_message_size: int) -> None:
        self._max = max_message_size
        self._buffer = b""

    def feed(self, data: bytes) -> list[HubMessage]:
        self._buffer += data
        messages: list[HubMessage] = []
        while self._buffer:
            length, offset = 0, 0
            for offset in range(5):  # a length is at most 5 VarInt bytes (32 bits)
                if offset >= len(self._buffer):
                    return messages  # the length itself is still incomplete
                byte = self._buffer[offset]
                length |= (byte & 0x7F) << (7 * offset)
                if not byte & 0x80:
                    break
            else:
                raise HubProtocolError("Messages over 2GB in size are not supported.")
            if length > self._max:
                raise HubProtocolError(f"The maximum message size of {self._max}B was exceeded.")
            start = offset + 1
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
        if not isinstance(arr, list) or not arr or not isinstance(arr[0], int):
            raise HubProtocolError("Invalid message: expected an array starting with the message type.")
        kind = arr[0]
        if kind not in KNOWN_TYPES:
            raise HubProtocolError(f"Unknown message type '{kind}'.")
        if kind in (INVOCATION, STREAM_INVOCATION):
            # [type, headers, invocationId|nil, target, [arguments], [streamIds]?]
            if len(arr) < 5:
                raise HubProtocolError(f"Invalid invocation: expected at least 5 elements, got {len(arr)}.")
            _, _, inv, target, args = arr[:5]
            if not isinstance(target, str) or not isinstance(args, list):
                raise HubProtocolError("Invalid invocation: bad target or arguments.")
            if inv is not None and not isinstance(inv, str):
                raise HubProtocolError("Invalid invocation: bad invocation id.")
            return HubMessage(kind, target=target, arguments=args, invocation_id=inv)
        if kind == CLOSE:
            err = arr[1] if len(arr) > 1 and isinstance(arr[1], str) else None
            return HubMessage(kind, error=err)
        return HubMessage(kind)

    def invocation(self, target: str, arguments: list[Any]) -> bytes:
        return _pack([INVOCATION, {}, None, target, arguments, []])

    def completion(self, invocation_id: str, *, error: str | None = None) -> bytes:
        if error is not None:
            return _pack([COMPLETION, {}, invocation_id, 1, error])
        return _pack([COMPLETION, {}, invocation_id, 2])

    def ping(self) -> bytes:
        return _pack([PING])

    def close(self, error: str | None = None, *, allow_reconnect: bool = False) -> bytes:
        return _pack([CLOSE, error, allow_reconnect])


CODECS: Final[dict[str, Callable[[int], HubCodec]]] = {"json": JsonCodec, "messagepack": MessagePackCodec}


def parse_handshake(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Split the JSON handshake request off the front of the first frame; return it and what follows."""
    head, sep, rest = data.partition(RECORD_SEPARATOR)
    if not sep:
        raise HubProtocolError("The handshake request is incomplete or missing its record separator.")
    try:
        request = json.loads(head)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise HubProtocolError("The handshake request is not valid JSON.") from None
    if not isinstance(request, dict):
        raise HubProtocolError("The handshake request is not a JSON object.")
    return request, rest


def handshake_response(error: str | None = None) -> bytes:
    return (_dumps({"error": error}) if error else b"{}") + RECORD_SEPARATOR
