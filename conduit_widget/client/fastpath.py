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
from typing import Any, Final

import lz4.block
import msgpack
import orjson

_INVOCATION = 1
_PING = 6
_SEPARATOR = "\x1e"
_PING_MESSAGE = [_PING]  # a MessagePack ping: [6]
# MessagePack-CSharp's extension type for a value compressed with LZ4 in blocks (Lz4BlockArray): the Gateway's
# MessagePack hub protocol sends every argument of 256 bytes or more so (SignalRConfigurationExtensions.cs).
LZ4_BLOCK_ARRAY: Final = 98
MAX_EXPANDED: Final = 4 * 1024 * 1024  # bytes one compressed argument may expand to: an event is never near this

EventCalls = list[tuple[str, Any]]


def read_json(raw: str | bytes, targets: Collection[str]) -> EventCalls | None:
    """The (target, arguments) of each event in a JSON-protocol frame, or None to leave it to pysignalr."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        last = len(text) - 1
        if last < 0 or text[last] != _SEPARATOR:
            return None
        # One decode for the whole frame. A record separator cannot stand inside a JSON record (control
        # characters in strings must be escaped, and orjson holds to that), so the first one ends the first
        # record; several records are joined into one JSON array, and a frame this turns into something else
        # fails to decode, and goes to pysignalr.
        if text.find(_SEPARATOR) == last:  # one message, as real servers send them
            messages = [orjson.loads(text[:last])]
        else:
            messages = orjson.loads("[" + text[:last].replace(_SEPARATOR, ",") + "]")
        calls: EventCalls = []
        for message in messages:
            if type(message) is not dict:
                return None
            target: Any = message.get("target")  # a string once it is found among the targets
            # The usual message first, in as few steps as it takes; a target that is not a string either is
            # not among the targets or (unhashable) raises TypeError, so it needs no check of its own.
            if (
                message.get("type") == _INVOCATION
                and target in targets
                and message.get("invocationId") is None
                and not message.get("streamIds")
            ):
                calls.append((target, message.get("arguments")))
            elif message.get("type") != _PING or len(message) != 1:
                return None
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
    unpackb = msgpack.unpackb
    try:
        for body in bodies:
            message = unpackb(body)
            if type(message) is not list:
                return None
            # [1, headers, invocationId, target, arguments, streamIds?]; the usual message first, as above.
            size = len(message)
            if (
                (size == 5 or (size == 6 and not message[5]))
                and message[0] == _INVOCATION
                and message[2] is None
                and message[3] in targets
            ):
                calls.append((message[3], expand_arguments(message[4])))
            elif message != _PING_MESSAGE:
                return None
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        return None
    return calls


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


def messagepack_bodies(data: bytes) -> tuple[list[bytes], bool]:
    """The messages of a MessagePack-protocol frame, each after its length (7 bits a byte, low group first, at
    most 5 bytes), and whether the framing held to the end: a length cut short, or one that runs past the frame,
    ends the list (there is no telling where the next message would start)."""
    end = len(data)
    if end > 1:
        # The usual frame, one message under 16 KiB (a length of one or two bytes), without the loop below.
        length = data[0]
        if length < 0x80:
            if 1 + length == end:
                return [data[1:]], True
        elif not data[1] & 0x80 and 2 + ((length & 0x7F) | data[1] << 7) == end:
            return [data[2:]], True
    bodies: list[bytes] = []
    offset = 0
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
