"""Hub frames read straight into event calls, for the traffic that is almost all of a hub's.

pysignalr turns every message into a message object and awaits a handler coroutine for it, which costs
more than everything this client then does with a progress event. A frame made only of event invocations
that expect no answer (and keepalive pings) is read here instead, with one decode and no objects in
between; any other frame (completions, close messages, a server asking for a client result, anything
malformed) goes to pysignalr whole, exactly as before. A frame that mixes both is read twice, which is
rare and costs little, and pysignalr stays the authority on everything but events.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import msgpack
import orjson

_INVOCATION = 1
_PING = 6
_SEPARATOR = "\x1e"

EventCalls = list[tuple[str, Any]]


def read_json(raw: str | bytes, targets: Collection[str]) -> EventCalls | None:
    """The (target, arguments) of each event in a JSON-protocol frame, or None to leave it to pysignalr."""
    calls: EventCalls = []
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        for record in text.split(_SEPARATOR):
            if not record:
                continue
            message = orjson.loads(record)
            if type(message) is not dict:
                return None
            kind = message.get("type")
            if kind == _PING and len(message) == 1:
                continue
            if (
                kind != _INVOCATION
                or message.get("target") not in targets
                or message.get("invocationId") is not None
                or message.get("streamIds")
            ):
                return None
            calls.append((message["target"], message.get("arguments")))
    except (orjson.JSONDecodeError, UnicodeDecodeError, TypeError):
        return None
    return calls


def read_msgpack(raw: str | bytes, targets: Collection[str]) -> EventCalls | None:
    """The same for a MessagePack-protocol frame: varint-length-prefixed arrays."""
    if not isinstance(raw, bytes):
        return None
    calls: EventCalls = []
    offset, end = 0, len(raw)
    try:
        while offset < end:
            length = raw[offset]
            if length < 0x80:  # one length byte: messages under 128 bytes, without a call
                offset += 1
            else:
                length, offset = _varint(raw, offset)
            if offset + length > end:
                return None
            message = msgpack.unpackb(raw[offset : offset + length])
            offset += length
            if type(message) is not list or not message:
                return None
            if message[0] == _PING and len(message) == 1:
                continue
            # [1, headers, invocationId, target, arguments, streamIds?]
            if (
                message[0] != _INVOCATION
                or len(message) < 5
                or message[2] is not None
                or (len(message) > 5 and message[5])
            ):
                return None
            target = message[3]
            if type(target) is not str or target not in targets:
                return None
            calls.append((target, message[4]))
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        return None
    return calls


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    """A message length: 7 bits a byte, low group first, at most 5 bytes (the SignalR MessagePack framing)."""
    value = shift = 0
    for index in range(offset, min(offset + 5, len(data))):
        byte = data[index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, index + 1
        shift += 7
    raise ValueError("a MessagePack frame length that does not end")
