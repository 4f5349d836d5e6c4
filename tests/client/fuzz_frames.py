"""Hub frames as hypothesis makes them up: valid, malformed, aimed at followed tasks or at nobody."""

from __future__ import annotations

import contextlib
import functools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
from hypothesis import strategies as st

from conduit_widget.client.dialects import EVENT_TARGETS, SEED_TARGETS
from conduit_widget.wire import varint
from tests.client.fuzz_hub import DONE_URL, OBJECT_TARGETS, VICTIMS

# -- frames, as hypothesis makes them -------------------------------------------------------------


@dataclass(frozen=True)
class Victim:
    """A followed task's id, filled in when the frame is sent (hypothesis draws before the tasks exist)."""

    index: int


def _resolve(value: Any, ids: list[str]) -> Any:
    if isinstance(value, Victim):
        return ids[value.index]
    if isinstance(value, list):
        return [_resolve(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, ids) for k, v in value.items()}
    return value


def _framed(value: Any) -> bytes:
    body = msgpack.packb(value, use_bin_type=True)
    return varint(len(body)) + body


@dataclass(frozen=True)
class Invocation:
    """A structurally valid invocation, with whatever target and arguments."""

    target: str
    arguments: list[Any]
    invocation_id: str | None = None

    def encode(self, protocol: str, ids: list[str]) -> bytes:
        arguments = _resolve(self.arguments, ids)
        if protocol == "json":
            message: dict[str, Any] = {"type": 1, "target": self.target, "arguments": arguments}
            if self.invocation_id is not None:
                message["invocationId"] = self.invocation_id
            return json.dumps(message).encode() + b"\x1e"
        body = msgpack.packb([1, {}, self.invocation_id, self.target, arguments, []], use_bin_type=True)
        return varint(len(body)) + body


@dataclass(frozen=True)
class Shape:
    """Any value, framed as a message (JSON: with or without the separator; MessagePack: length-prefixed,
    the length right or off by `skew`)."""

    value: Any
    terminated: bool = True
    skew: int = 0

    def encode(self, protocol: str, ids: list[str]) -> bytes:
        value = _resolve(self.value, ids)
        if protocol == "json":
            return json.dumps(value).encode() + (b"\x1e" if self.terminated else b"")
        body = msgpack.packb(value, use_bin_type=True)
        return varint(max(0, len(body) + self.skew)) + body


@dataclass(frozen=True)
class Raw:
    data: bytes

    def encode(self, protocol: str, ids: list[str]) -> bytes:
        return self.data


@dataclass(frozen=True)
class Truncated:
    """A valid message cut short at `fraction` of its length."""

    part: Invocation
    fraction: float

    def encode(self, protocol: str, ids: list[str]) -> bytes:
        data = self.part.encode(protocol, ids)
        return data[: int(len(data) * self.fraction)]


Part = Invocation | Shape | Raw | Truncated


@dataclass(frozen=True)
class Frame:
    """One WebSocket message of one or more parts: a text frame if `text` (and the bytes are UTF-8), else
    binary. By default, what the protocol uses: text for JSON, binary for MessagePack."""

    parts: tuple[Part, ...]
    text: bool | None = None

    def render(self, protocol: str, ids: list[str]) -> bytes | str:
        data = b"".join(part.encode(protocol, ids) for part in self.parts)
        if self.text if self.text is not None else protocol == "json":
            with contextlib.suppress(UnicodeDecodeError):
                return data.decode()
        return data


@functools.cache
def values(protocol: str) -> st.SearchStrategy[Any]:
    """Values the protocol can carry: JSON's, or MessagePack's (which adds NaN, infinities and bytes)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=12)
    )
    if protocol == "messagepack":
        scalars = scalars | st.floats() | st.binary(max_size=12) | st.integers(2**63, 2**64 - 1)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    )


@functools.cache
def numbers(protocol: str) -> st.SearchStrategy[Any]:
    """Numbers where a field wants one: plausible ones, and the extremes the protocol can carry (MessagePack
    carries NaN and the infinities; JSON cannot)."""
    extremes = [1e308, -1e308, 2**63 - 1, -(2**63), -0.0, 5e-324]
    if protocol == "messagepack":
        extremes += [math.nan, math.inf, -math.inf]
    return st.one_of(
        st.integers(-5, 150), st.floats(-1e3, 1e3), st.sampled_from(extremes), st.integers(-(2**63), 2**63 - 1)
    )


@functools.cache
def task_ids(protocol: str) -> st.SearchStrategy[Any]:
    """Mostly a followed task; else a task nobody follows, or something that is not an id at all."""
    return st.one_of(
        st.builds(Victim, st.integers(0, VICTIMS - 1)),
        st.text(min_size=1, max_size=16),
        st.sampled_from(["", "task-unknown", "0"]),
        values(protocol),
    )


@functools.cache
def payloads(protocol: str) -> st.SearchStrategy[dict[str, Any]]:
    anything = values(protocol)
    number = numbers(protocol)
    urls = st.sampled_from(["https://media.example/a.png", "", "javascript:alert(1)", "https://[bad"]) | st.text(
        max_size=20
    )
    counts = st.integers(-3, 20) | number
    fields: dict[str, st.SearchStrategy[Any]] = {
        "progressPercentage": number,
        "progress": number,
        "status": st.sampled_from(["processing", "storing", "completed", "failed", "queued", "cancelled", ""])
        | st.text(max_size=8),
        "message": st.text(max_size=20),
        "imagesCompleted": counts,
        "totalImages": counts,
        "framesCompleted": counts,
        "totalFrames": counts,
        "estimatedSecondsRemaining": number,
        "estimatedSeconds": number,
        "imageUrls": st.lists(urls, max_size=3) | urls,
        "images": st.lists(st.fixed_dictionaries({"url": urls}) | urls, max_size=2),
        "videoUrl": urls,
        "previewUrl": urls,
        "error": st.text(max_size=20),
        "errorCode": st.text(max_size=8),
        "isRetryable": st.booleans(),
        "metadata": st.dictionaries(st.sampled_from(["duration", "cost", "preview_url", "x"]), anything, max_size=3),
        "reason": st.text(max_size=10),
        "duration": number,
    }
    return st.fixed_dictionaries(
        {"taskId": task_ids(protocol)}, optional={key: s | anything for key, s in fields.items()}
    )


ENDINGS: list[tuple[str, Callable[[Victim], list[Any]]]] = [
    ("ImageGenerationCompleted", lambda v: [{"taskId": v, "imageUrls": [DONE_URL]}]),
    ("TaskCompleted", lambda v: [v, {"imageUrls": [DONE_URL]}]),
    ("TaskCompleted", lambda v: [v, {}]),  # a completion without its media: the client reads them over REST
    ("ImageGenerationFailed", lambda v: [{"taskId": v, "error": "boom", "isRetryable": False}]),
    ("TaskFailed", lambda v: [v, "boom", False]),
    ("ImageGenerationCancelled", lambda v: [{"taskId": v, "reason": "stopped"}]),
    ("TaskCancelled", lambda v: [v, "stopped"]),
    ("TaskTimedOut", lambda v: [v, "late"]),
    ("ImageGenerationProgress", lambda v: [{"taskId": v, "progressPercentage": 50}]),
    ("TaskProgress", lambda v: [v, 60]),
    ("VideoGenerationCompleted", lambda v: [{"taskId": v, "videoUrl": DONE_URL}]),
]


@functools.cache
def ending() -> st.SearchStrategy[Invocation]:
    """A terminal event (or a late progress event) for a followed task, in either dialect."""
    return st.builds(
        lambda kind, index: Invocation(kind[0], kind[1](Victim(index))),
        st.sampled_from(ENDINGS),
        st.integers(0, VICTIMS - 1),
    )


@functools.cache
def parts(protocol: str) -> st.SearchStrategy[Part]:
    anything = values(protocol)
    invocation_ids = st.none() | st.none() | st.text(max_size=8)
    known = st.sampled_from(EVENT_TARGETS)
    events = st.one_of(
        # a known target, well-shaped or not
        st.builds(Invocation, st.sampled_from(OBJECT_TARGETS), st.lists(payloads(protocol), min_size=1, max_size=2)),
        st.builds(
            Invocation,
            st.sampled_from(SEED_TARGETS),
            st.tuples(task_ids(protocol), numbers(protocol) | anything).map(list) | st.lists(anything, max_size=4),
        ),
        st.builds(Invocation, known, st.lists(anything | payloads(protocol), max_size=4), invocation_ids),
        # an unknown target
        st.builds(
            Invocation,
            st.text(max_size=24).filter(lambda t: t not in EVENT_TARGETS),
            st.lists(anything, max_size=3),
            invocation_ids,
        ),
    )
    keys = st.sampled_from(
        ["type", "target", "arguments", "invocationId", "error", "result", "streamIds", "item", "headers"]
    )
    types = st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 99, -1, 0]) | anything
    if protocol == "json":
        shapes = st.builds(
            Shape,
            st.dictionaries(keys, anything, max_size=5)
            | st.builds(lambda t, d: {"type": t, **d}, types, st.dictionaries(keys, anything, max_size=4))
            | anything,
            st.booleans(),
        )
        garbage = st.one_of(
            st.builds(Raw, st.binary(max_size=60)),
            st.builds(Raw, st.text(max_size=60).map(str.encode)),
            st.builds(Raw, st.text(max_size=60).map(lambda t: t.encode() + b"\x1e")),
            st.sampled_from(
                [
                    Raw(b"[" * 3000 + b"\x1e"),
                    Raw(b'{"type":1,"target":"TaskProgress","arguments":["x",NaN]}\x1e'),
                    Raw(b'{"type":1,"target":"TaskProgress","arguments":["x",1e999]}\x1e'),
                    Raw(b'{"type":1,"target":"TaskProgress","arguments":["x",123456789012345678901234567890]}\x1e'),
                    Raw(b"\x1e\x1e\x1e"),
                    Raw(b'{"type":7,"error":"the server is going away"}\x1e'),
                ]
            ),
        )
    else:
        shapes = st.builds(
            Shape,
            st.lists(anything, max_size=6)
            | st.builds(lambda t, rest: [t, *rest], types, st.lists(anything, max_size=5))
            | anything,
            st.just(True),
            st.sampled_from([0, 0, 0, -1, 1, 5, -100]),
        )
        garbage = st.one_of(
            st.builds(Raw, st.binary(max_size=60)),
            st.sampled_from(
                [
                    Raw(b"\xff\xff\xff\xff\xff\xff\x01"),  # a length that never ends
                    Raw(b"\x80"),  # a length cut short
                    Raw(varint(1000) + b"\x91\x01"),  # a length past the frame
                    Raw(b"\x00"),  # an empty message
                    Raw(varint(3) + b"\x93\x03\xc0"),  # [3, nil, ...] cut short inside
                    Raw(_framed([7, "the server is going away", False])),  # a Close with an error
                ]
            ),
        )
    return st.one_of(
        events,
        shapes,
        garbage,
        st.builds(Truncated, events, st.floats(0, 0.99)),
    )


@functools.cache
def frames(protocol: str) -> st.SearchStrategy[list[Frame]]:
    """A batch: mostly frames of one to three made-up parts; among them endings for the followed tasks,
    alone or several in a frame, so that they come repeated and out of order."""
    usual = protocol == "json"
    made_up = st.builds(
        Frame, st.lists(parts(protocol), min_size=1, max_size=3).map(tuple), st.sampled_from([usual, usual, not usual])
    )
    one_ending = st.builds(lambda call: Frame((call,)), ending())
    endings = st.builds(Frame, st.lists(ending(), min_size=2, max_size=6).map(tuple))
    return st.lists(st.one_of(made_up, made_up, made_up, one_ending, endings), min_size=2, max_size=8)
