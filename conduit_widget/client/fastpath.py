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
    bodies, whole = messagepack_bodies(raw)
    if not whole:
        return None
    calls: EventCalls = []
    try:
        for body in bodies:
            message = msgpack.unpackb(body)
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


def messagepack_bodies(data: bytes) -> tuple[list[bytes], bool]:
    """The messages of a MessagePack-protocol frame, each after its length (7 bits a byte, low group first, at
    most 5 bytes), and whether the framing held to the end: a length cut short, or one that runs past the frame,
    ends the list (there is no telling where the next message would start)."""
    bodies: list[bytes] = []
    offset, end = 0, len(data)
    while offset < end:
        length = data[offset]
        offset += 1
        if length & 0x80:  # more length bytes follow (messages of 128 bytes or more)
            length &= 0x7F
            for shift in (7, 14, 21, 28):
                if offset >= end:
                    return bodies, False
                byte = data[offset]
                offset += 1
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
            else:
                return bodies, False
        if offset + length > end:
            return bodies, False
        bodies.append(data[offset : offset + length])
        offset += length
    return bodies, True
