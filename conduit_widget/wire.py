"""The SignalR hub protocol's framing, for the client and the local Conduit alike: the one place it is written.

Spec: dotnet/aspnetcore ``src/SignalR/docs/specs/HubProtocol.md``. A JSON message ends with the record separator
0x1E; a MessagePack message is prefixed with its length as a VarInt (7 bits a byte, low group first, at most 5
bytes). Several messages may share one WebSocket frame. A message's first field is its type.
"""

from __future__ import annotations

from typing import Final

RECORD_SEPARATOR: Final = b"\x1e"
RECORD_SEPARATOR_TEXT: Final = "\x1e"

# Message types.
INVOCATION: Final = 1
STREAM_ITEM: Final = 2
COMPLETION: Final = 3
STREAM_INVOCATION: Final = 4
CANCEL_INVOCATION: Final = 5
PING: Final = 6
CLOSE: Final = 7
ACK: Final = 8
SEQUENCE: Final = 9
KNOWN_TYPES: Final = frozenset(range(INVOCATION, SEQUENCE + 1))

# A MessagePack completion's result kind.
RESULT_ERROR: Final = 1
RESULT_VOID: Final = 2
RESULT_VALUE: Final = 3

# MessagePack-CSharp's extension type for a value compressed with LZ4 in blocks (Lz4BlockArray): the Gateway's
# MessagePack hub protocol sends every argument of 256 bytes or more so (SignalRConfigurationExtensions.cs).
LZ4_BLOCK_ARRAY: Final = 98
MAX_LENGTH_BYTES: Final = 5  # a VarInt length holds 32 bits at most


class LengthTooLong(ValueError):
    """A VarInt length of more than five bytes: no hub message is that long."""


def varint(n: int) -> bytes:
    """`n` as a VarInt length prefix."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if not n:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def read_length(data: bytes, offset: int) -> tuple[int, int] | None:
    """The VarInt length at `offset` and where its message starts, or None while the length is cut short."""
    length = 0
    for index in range(MAX_LENGTH_BYTES):
        if offset + index >= len(data):
            return None
        byte = data[offset + index]
        length |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return length, offset + index + 1
    raise LengthTooLong("Messages over 2GB in size are not supported.")


def messagepack_bodies(data: bytes) -> tuple[list[bytes], bool]:
    """The messages of a MessagePack-protocol frame, and whether the framing held to the end: a length cut short,
    too long, or running past the frame ends the list (there is no telling where the next message would start)."""
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
        if length < 0x80:  # a message under 128 bytes, read inline: a frame of a hundred events has a hundred
            start = offset + 1
        else:
            try:
                read = read_length(data, offset)
            except LengthTooLong:
                return bodies, False
            if read is None:
                return bodies, False
            length, start = read
        offset = start + length
        if offset > end:
            return bodies, False
        bodies.append(data[start:offset])
    return bodies, True
