"""Every hub frame is read once: events as pysignalr would read them, the rest as the messages pysignalr acts on.

Frames are made by the local Conduit's own encoders (both protocols); pysignalr's decoders are the reference.
"""

from __future__ import annotations

import json

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pysignalr.messages import CloseMessage, CompletionMessage, InvocationMessage, Message, PingMessage
from pysignalr.protocol.json import JSONProtocol
from pysignalr.protocol.messagepack import MessagepackProtocol

from conduit_widget.client import hub_frames
from conduit_widget.client.dialects import EVENT_TARGETS
from conduit_widget.client.hub_frames import expand_arguments, read_json, read_msgpack
from conduit_widget.server.hub.codec import JsonCodec, MessagePackCodec
from conduit_widget.wire import messagepack_bodies, varint

TARGETS = frozenset(EVENT_TARGETS)
CODECS = {
    "json": (JsonCodec(1 << 20), read_json, JSONProtocol()),
    "messagepack": (MessagePackCodec(1 << 20), read_msgpack, MessagepackProtocol()),
}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**31), 2**31)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
payloads = st.dictionaries(st.text(max_size=12), scalars, max_size=6)
events = st.tuples(st.sampled_from(sorted(TARGETS)), st.lists(payloads | scalars, max_size=3))


def _pysignalr_calls(protocol, frame):
    return [(m.target, m.arguments) for m in protocol.decode(frame) if not isinstance(m, PingMessage)]


@given(st.lists(events | st.just("ping"), min_size=1, max_size=8), st.sampled_from(sorted(CODECS)))
def test_an_event_frame_reads_as_pysignalr_reads_it(messages, name):
    codec, read, protocol = CODECS[name]
    frame = b"".join(codec.ping() if m == "ping" else codec.invocation(m[0], m[1]) for m in messages)
    raw = frame.decode() if name == "json" else frame
    calls = read(raw, TARGETS)
    assert calls == _pysignalr_calls(protocol, raw)
    assert all(isinstance(m, InvocationMessage | PingMessage) for m in protocol.decode(raw))


def test_a_mixed_frame_is_read_in_order_events_as_calls_the_rest_as_messages():
    for name, (codec, read, _) in CODECS.items():
        progress = codec.invocation("ImageGenerationProgress", [{"taskId": "t", "progress": 5}])
        call = ("ImageGenerationProgress", [{"taskId": "t", "progress": 5}])
        for other, kind in (
            (codec.completion("1"), CompletionMessage),
            (codec.completion("1", error="no"), CompletionMessage),
            (codec.close("bye"), CloseMessage),
            (codec.invocation("SomethingElse", []), InvocationMessage),  # pysignalr says it has no such handler
        ):
            for frame, expected in (
                (other, [kind]),
                (progress + other, [tuple, kind]),
                (other + progress, [kind, tuple]),
            ):
                items = read(frame.decode() if name == "json" else frame, TARGETS)
                assert [type(item) if isinstance(item, Message) else tuple for item in items] == expected, (name, frame)
                assert call in items or progress not in frame


def test_a_mixed_json_frame_is_decoded_once(monkeypatch):
    decodes = []
    real = hub_frames.orjson.loads

    def counted(text):
        decodes.append(text)
        return real(text)

    monkeypatch.setattr(hub_frames.orjson, "loads", counted)
    codec = JsonCodec(1 << 20)
    frame = codec.completion("1") + codec.invocation("ImageGenerationProgress", [{"taskId": "t"}]) + codec.ping()
    items = read_json(frame.decode(), TARGETS)
    assert len(decodes) == 1
    assert [type(i) for i in items] == [CompletionMessage, tuple]


def test_an_invocation_that_wants_an_answer_is_pysignalrs_and_one_that_streams_is_dropped():
    asks = {"type": 1, "invocationId": "7", "target": "ImageGenerationProgress", "arguments": [{}]}
    streams = {"type": 1, "target": "ImageGenerationProgress", "arguments": [{}], "streamIds": ["1"]}
    [answered] = read_json(json.dumps(asks) + "\x1e", TARGETS)
    assert isinstance(answered, InvocationMessage) and answered.invocation_id == "7"
    assert read_json(json.dumps(streams) + "\x1e", TARGETS) == []
    packed = msgpack.packb([1, {}, "7", "ImageGenerationProgress", [{}]])
    [answered] = read_msgpack(bytes([len(packed)]) + packed, TARGETS)
    assert isinstance(answered, InvocationMessage) and answered.invocation_id == "7"


@given(st.binary(max_size=64) | st.text(max_size=64))
def test_garbage_never_raises_and_reads_as_events_of_known_targets_or_messages(raw):
    for read in (read_json, read_msgpack):
        for item in read(raw, TARGETS):
            assert (isinstance(item, tuple) and item[0] in TARGETS) or (
                isinstance(item, Message) and not isinstance(item, PingMessage)
            )


def test_a_length_that_runs_past_the_frame_ends_the_frame_there():
    packed = msgpack.packb([1, {}, None, "ImageGenerationProgress", [{}]])
    whole = bytes([len(packed)]) + packed
    assert read_msgpack(bytes([len(packed) + 5]) + packed, TARGETS) == []
    assert read_msgpack(whole + bytes([len(packed) + 5]) + packed, TARGETS) == [("ImageGenerationProgress", [{}])]
    assert read_msgpack(b"\xff\xff\xff\xff\xff\xff", TARGETS) == []


# Lengths that take one, two and three bytes, and the edges between them (127/128, 16383/16384).
sizes = st.integers(0, 130) | st.sampled_from([127, 128, 16383, 16384]) | st.integers(0, 20_000)


@given(st.lists(sizes, min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_messagepack_framing_splits_any_frame_back_into_its_messages_and_notices_a_cut(lengths, rng):
    bodies = [rng.randbytes(n) for n in lengths]
    frame = b"".join(varint(len(body)) + body for body in bodies)
    assert messagepack_bodies(frame) == (bodies, True)
    ends = [sum(len(varint(len(b))) + len(b) for b in bodies[:i]) for i in range(len(bodies) + 1)]
    cut = rng.randrange(0, len(frame))
    parts, whole = messagepack_bodies(frame[:cut])
    assert whole == (cut in ends)
    assert parts == bodies[: len(parts)]


def test_an_lz4_compressed_argument_is_read_as_the_gateway_sends_it():
    # The Gateway's MessagePack protocol: MessagePack-CSharp's Lz4BlockArray for every argument of 256 bytes or more.
    payload = {"taskId": "t", "imageUrls": [f"https://example.com/{i}.png" * 4 for i in range(6)]}
    codec = MessagePackCodec(32 * 1024, compress_from=256)
    frame = codec.invocation("ImageGenerationCompleted", [payload])
    plain = MessagePackCodec(32 * 1024).invocation("ImageGenerationCompleted", [payload])
    assert len(frame) < len(plain)
    assert read_msgpack(frame, {"ImageGenerationCompleted"}) == [("ImageGenerationCompleted", [payload])]


@pytest.mark.parametrize(
    "packed",
    [
        [msgpack.ExtType(98, msgpack.packb(10)), b"\x00\x01"],  # not LZ4
        [msgpack.ExtType(98, msgpack.packb(10)), b"a", b"b"],  # more blocks than lengths
        [msgpack.ExtType(98, msgpack.packb(1 << 30)), b"\x1fa\x01\x00"],  # claims a gigabyte
        [msgpack.ExtType(98, b"\xc1"), b"x"],  # lengths that are not MessagePack
    ],
)
def test_a_compressed_argument_that_cannot_be_read_becomes_none_not_an_error(packed):
    assert expand_arguments([packed, "next"]) == [None, "next"]
