"""A fuzzer for hub frames: whatever a hub sends, the client keeps following its tasks.

A raw hub (aiohttp, on the test's own event loop) does what a SignalR server does up to the handshake
(negotiate, WebSocket upgrade, handshake answer) and then sends whatever the test tells it to: frames
hypothesis makes up (malformed JSON and MessagePack, wrong types and argument counts for known targets,
unknown targets, events for tasks nobody follows, terminal events repeated and out of order, other message
types), then a valid progress event and completion for a task the client follows (the "probe").

The same raw server answers the two REST routes the client calls for image tasks (create, and status), so
one `ConduitClient` talks to it for both. Its status route always says "processing": a task can only end
through the hub, so a probe the client reports completed, with the hub as the source, proves that the hub
connection survived (or was re-established: the raw hub sends the probe's events again on the new
connection, once the client has resubscribed there).

After every batch the test checks that nothing escaped (no exception reached the event loop's exception
handler, no log record at ERROR, no traceback, no WARNING from this package), that every task's ending
reached the listeners exactly once, and that the probe's progress and completion were delivered.

The link reads frames with ``conduit_widget.client.hub_frames``, so a malformed message costs that message, not the
connection (`test_malformed_frames_cost_no_reconnect`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Iterator
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pysignalr.messages import Message

from conduit_widget.client.dialects import EVENT_TARGETS, parse_hub_event, parse_status
from conduit_widget.client.hub_frames import message_from_json, message_from_msgpack
from conduit_widget.client.signalr import JSONFrames, MessagepackFrames, QuietNotices
from conduit_widget.client.state import TaskState
from conduit_widget.client.task import Task
from conduit_widget.protocol import Kind
from conduit_widget.wire import varint
from tests.client.fuzz_frames import (
    Frame,
    Invocation,
    Raw,
    Shape,
    Truncated,
    Victim,
    _resolve,
    frames,
    numbers,
    payloads,
    task_ids,
    values,
)
from tests.client.fuzz_hub import DONE_URL, MAX_SIZE, NO_SHRINK, PROBE_URL, VICTIMS, Rig


@pytest.fixture(scope="module", params=["json", "messagepack"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    with Rig(request.param) as rig:
        yield rig


# -- the fuzz -------------------------------------------------------------------------------------


# Each example costs a batch over a socket (and perhaps a reconnect): no shrinking, which would take minutes;
# a failure reports the frames as drawn.
SOCKET_FUZZ = {"deadline": None, "suppress_health_check": list(HealthCheck), "phases": NO_SHRINK}


@settings(max_examples=30, **SOCKET_FUZZ)
@given(data=st.data())
def test_no_frame_stops_the_client_or_escapes_it(rig: Rig, data: st.DataObject) -> None:
    script = data.draw(frames(rig.protocol), label="frames")
    rig.reset()
    probe, victims = rig.run(rig.batch(script))
    rig.check(probe, victims)


def test_terminal_events_repeated_and_out_of_order_reach_listeners_once_and_first_wins(rig: Rig) -> None:
    order = [
        ("TaskFailed", lambda v: [v, "first", False]),
        ("ImageGenerationCompleted", lambda v: [{"taskId": v, "imageUrls": [DONE_URL]}]),
        ("TaskCancelled", lambda v: [v, "late"]),
        ("ImageGenerationProgress", lambda v: [{"taskId": v, "progressPercentage": 99}]),
        ("TaskFailed", lambda v: [v, "again", False]),
    ]
    script = [Frame((Invocation(target, make(Victim(0))),)) for target, make in order]
    script.append(Frame(tuple(Invocation(target, make(Victim(1))) for target, make in reversed(order))))
    rig.reset()
    probe, victims = rig.run(rig.batch(script))
    rig.check(probe, victims)
    first, second = (v.result for v in victims)
    assert first is not None and (first.status, first.error) == ("failed", "first")
    assert second is not None and (second.status, second.error) == ("failed", "again")


def test_a_storm_of_completions_without_media_costs_one_status_read(rig: Rig) -> None:
    """A seed-style completion without its media makes the client read the task's status; two hundred of them
    at once must not make it read two hundred times (they did: one request each)."""
    storm = Frame(tuple(Invocation("TaskCompleted", [Victim(0), {}]) for _ in range(200)))

    async def batch() -> tuple[Task, list[Task], int]:
        victims = [await rig.new_task(f"victim {i}") for i in range(VICTIMS)]
        probe = await rig.new_task("probe")
        sock = await rig.hub.live({victims[0].id})
        before = rig.hub.status_reads[victims[0].id]
        await sock.send(storm.render(rig.protocol, [v.id for v in victims]))
        await asyncio.sleep(0.3)
        reads = rig.hub.status_reads[victims[0].id] - before
        for task in (probe, *victims):
            await rig.hub.deliver(task, [("ImageGenerationCompleted", [{"taskId": task.id, "imageUrls": [PROBE_URL]}])])
        return probe, victims, reads

    rig.reset()
    probe, victims, reads = rig.run(batch())
    assert 1 <= reads <= 2
    assert all(task.done and rig.terminal[task.id] == 1 for task in (probe, *victims))


@pytest.mark.parametrize("size", [MAX_SIZE - 64, MAX_SIZE + 1, 3 * MAX_SIZE])
def test_oversized_messages_cost_at_most_a_reconnect(rig: Rig, size: int) -> None:
    """A message over pysignalr's 1 MiB limit closes the WebSocket (1009); the client reconnects and loses
    nothing. One just under the limit is read like any other."""
    padding = "x" * size
    event = Invocation("ImageGenerationProgress", [{"taskId": Victim(0), "progressPercentage": 7, "message": padding}])
    overhead = len(event.encode(rig.protocol, ["task-" + "0" * 12])) - size
    event = Invocation(
        "ImageGenerationProgress",
        [{"taskId": Victim(0), "progressPercentage": 7, "message": padding[: size - overhead]}],
    )
    rig.reset()
    before = rig.reconnects
    probe, victims = rig.run(rig.batch([Frame((event,))]))
    rig.records.records = [r for r in rig.records.records if not _is_a_drop(r)]
    rig.check(probe, victims)
    if size <= MAX_SIZE:
        assert rig.reconnects == before
        assert any(u.progress == 7 for u in rig.updates[victims[0].id]), "a message under the limit was lost"
    else:
        assert rig.reconnects == before + 1


def _is_a_drop(record: logging.LogRecord) -> bool:
    # pysignalr says so at WARNING whenever a WebSocket closes under it: a drop, not ignored input.
    return record.name == "pysignalr.transport" and record.getMessage().startswith("Connection closed")


# -- without reconnecting: the link reads every frame message by message ----------------------------

MALFORMED = [
    Frame((Raw(b"{nope\x1e"),)),
    Frame((Raw(b"\xff\xfe"),), text=False),
    Frame((Shape([1, 2, 3]),)),
    Frame((Shape({"type": "1", "target": "TaskProgress"}),)),
    Frame((Shape({"type": 1, "target": ["TaskProgress"], "arguments": []}),)),
    Frame((Shape({"type": 3, "invocationId": ["x"], "error": "boom"}),)),
    Frame((Shape({"type": 1, "target": "TaskProgress", "arguments": [], "streamIds": ["1"]}),)),
    Frame((Shape({"type": 42}),)),
    Frame((Truncated(Invocation("TaskProgress", [Victim(0), 10]), 0.5),)),
    # a bad message first, a good one after it in the same frame: the good one must still count
    Frame((Raw(b"not json\x1e"), Invocation("TaskProgress", [Victim(0), 33]))),
]
MALFORMED_MSGPACK = [
    Frame((Raw(b"\x05\x01\x02"),), text=False),
    Frame((Raw(b"\xff\xff\xff"),), text=False),
    Frame((Shape({"type": 1}),), text=False),
    Frame((Shape([1, {}, None, ["TaskProgress"], []]),), text=False),
    Frame((Shape([3, {}, "x", 9]),), text=False),
    Frame((Shape([42]),), text=False),
    Frame((Shape([1, {}, None, "TaskProgress", [], ["stream"]]),), text=False),
    Frame((Shape([1, {}, None, "TaskProgress", [Victim(0), 5]], skew=-1),), text=False),
    Frame(
        (Shape([1, {}, None, "TaskProgress", "not a list"]), Invocation("TaskProgress", [Victim(0), 33])), text=False
    ),
]


def _malformed(protocol: str) -> list[Frame]:
    return MALFORMED if protocol == "json" else MALFORMED_MSGPACK


def _quietly_survives(rig: Rig, script: list[Frame], *, each_said: bool = False) -> None:
    """No reconnect; with `each_said`, every frame (each has something malformed) left a DEBUG line."""
    rig.reset()
    before = rig.reconnects
    probe, victims = rig.run(rig.batch(script))
    rig.check(probe, victims)
    assert rig.reconnects == before, "a malformed message cost the connection"
    if each_said:
        said = [r for r in rig.records.records if r.name.startswith("conduit_widget") and r.levelno == logging.DEBUG]
        assert len(said) >= len(script), f"{len(script)} malformed frames, {len(said)} DEBUG lines about them"
    if any(isinstance(p, Invocation) and p.arguments == [Victim(0), 33] for f in script for p in f.parts):
        progress = [u.progress for u in rig.updates[victims[0].id]]
        assert 33 in progress, "a good message in a frame with a bad one was lost"


# The link reads frames with conduit_widget.client.hub_frames: pysignalr's own protocols raise on the first message they
# cannot read, which ends its receive loop, drops the connection and loses the rest of the frame.
@pytest.mark.parametrize("hub_protocol", ["json", "messagepack"])
def test_malformed_frames_cost_no_reconnect(hub_protocol: str) -> None:
    with Rig(hub_protocol) as rig:
        _quietly_survives(rig, _malformed(hub_protocol), each_said=True)


@pytest.fixture(scope="module", params=["json", "messagepack"])
def reading_rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    with Rig(request.param) as rig:
        yield rig


def _no_close(frame: Frame) -> bool:
    """A Close message is the server ending the connection: reconnecting is then the right answer."""
    for part in frame.parts:
        if isinstance(part, Raw) and b"going away" in part.data:
            return False
        value = part.value if isinstance(part, Shape) else None
        if (isinstance(value, dict) and value.get("type") == 7) or (isinstance(value, list) and value[:1] == [7]):
            return False
    return True


@settings(max_examples=15, **SOCKET_FUZZ)
@given(data=st.data())
def test_with_our_frame_readers_no_fuzzed_frame_costs_the_connection(reading_rig: Rig, data: st.DataObject) -> None:
    script = data.draw(frames(reading_rig.protocol).map(lambda fs: [f for f in fs if _no_close(f)]), label="frames")
    _quietly_survives(reading_rig, script)


# -- the readers underneath, fuzzed directly (fast: no sockets) -----------------------------------


@settings(max_examples=300, deadline=None)
@given(
    target=st.sampled_from(EVENT_TARGETS),
    arguments=st.one_of(
        values("messagepack"),
        st.lists(payloads("messagepack"), min_size=1, max_size=2),
        st.tuples(task_ids("messagepack"), numbers("messagepack") | values("messagepack"), values("messagepack")).map(
            list
        ),
    ),
)
def test_any_event_is_read_or_ignored_and_the_state_machine_takes_it(target: str, arguments: Any) -> None:
    event = parse_hub_event(target, _resolve(arguments, ["t"] * VICTIMS))
    if event is None:
        return
    for number in (event.progress, event.eta_seconds):
        assert number is None or math.isfinite(number), event
    state = TaskState(event.task_id, "image")
    state.apply(event)
    assert 0 <= state.update.progress <= 100
    eta = state.update.eta_seconds
    assert eta is None or math.isfinite(eta)


STATUS_KEYS = ["task_id", "taskId", "status", "state", "progress", "result", "error", "videoResponse", "message"]


@settings(max_examples=300, deadline=None)
@given(
    body=st.dictionaries(st.sampled_from(STATUS_KEYS), values("messagepack") | numbers("messagepack"), max_size=6).map(
        lambda d: {"task_id": "t", "status": "processing", **d}
    )
    | values("messagepack"),
    kind=st.sampled_from(["image", "video"]),
)
def test_any_status_answer_is_read_or_ignored_and_the_state_machine_takes_it(body: Any, kind: Kind) -> None:
    # httpx reads NaN and Infinity in a JSON answer (Python's json does), so a status body can carry them.
    event = parse_status(body, kind)
    if event is None:
        return
    assert event.progress is None or math.isfinite(event.progress)
    state = TaskState(event.task_id, kind)
    state.apply(event)
    assert 0 <= state.update.progress <= 100


@settings(max_examples=300, deadline=None)
@given(
    raw=st.binary(max_size=200)
    | st.text(max_size=200)
    | st.lists(values("json"), max_size=3).map(lambda vs: "".join(json.dumps(v) + "\x1e" for v in vs))
)
def test_the_json_frame_reader_never_raises_and_returns_only_messages(raw: bytes | str) -> None:
    messages = JSONFrames().decode(raw)
    assert all(isinstance(m, Message) for m in messages)


@settings(max_examples=300, deadline=None)
@given(
    raw=st.binary(max_size=200)
    | st.lists(values("messagepack"), max_size=3).map(
        lambda vs: b"".join(varint(len(b)) + b for b in (msgpack.packb(v, use_bin_type=True) for v in vs))
    )
)
def test_the_messagepack_frame_reader_never_raises_and_returns_only_messages(raw: bytes) -> None:
    messages = MessagepackFrames().decode(raw)
    assert all(isinstance(m, Message) for m in messages)


def test_the_frame_readers_keep_the_good_messages_around_a_bad_one() -> None:
    good = '{"type":1,"target":"TaskProgress","arguments":["t",5]}'
    decoded = JSONFrames().decode(f'{good}\x1e{{bad\x1e{{"type":1,"target":7}}\x1e{good}\x1e')
    assert [m.arguments for m in decoded] == [["t", 5], ["t", 5]]  # type: ignore[attr-defined]
    body = msgpack.packb([1, {}, None, "TaskProgress", ["t", 5], []])
    bad = msgpack.packb([1, {}, None, ["TaskProgress"], []])
    frame = varint(len(body)) + body + varint(len(bad)) + bad + b"\x02\xc1\xc1" + varint(len(body)) + body
    assert [m.arguments for m in MessagepackFrames().decode(frame)] == [["t", 5], ["t", 5]]  # type: ignore[attr-defined]
    assert message_from_json({"type": 7, "error": "bye"}) is not None  # a close still closes
    assert message_from_msgpack([7, "bye", False]) is not None


def test_pysignalrs_notices_about_ignored_messages_are_debug_only() -> None:
    logger = logging.getLogger("pysignalr.client")
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "No result given for '%s' method", ("x",), None)
    assert QuietNotices().filter(record) is False or record.levelno == logging.DEBUG
    assert record.levelno == logging.DEBUG
    other = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "something else", (), None)
    assert QuietNotices().filter(other) and other.levelno == logging.ERROR
