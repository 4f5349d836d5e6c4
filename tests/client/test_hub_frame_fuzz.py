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
import contextlib
import functools
import gc
import json
import logging
import math
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pytest
from aiohttp import WSMsgType, web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pysignalr.messages import Message

from conduit_widget import Backoff, ConduitClient
from conduit_widget.client.dialects import EVENT_TARGETS, SEED_TARGETS, parse_hub_event, parse_status
from conduit_widget.client.hub_frames import message_from_json, message_from_msgpack
from conduit_widget.client.signalr import JSONFrames, MessagepackFrames, QuietNotices
from conduit_widget.client.state import TaskState
from conduit_widget.client.task import Task
from conduit_widget.protocol import HUB_PATHS, IMAGE_CREATE, IMAGE_STATUS, SUBSCRIBE, UNSUBSCRIBE, Kind
from conduit_widget.server.hub.codec import CODECS, HubCodec, handshake_response, parse_handshake

VICTIMS = 2  # followed tasks per batch that the fuzzed frames may aim at
PROBE_URL = "https://media.example/probe.png"
DONE_URL = "https://media.example/done.png"
MAX_SIZE = 2**20  # pysignalr's default max_size: a bigger WebSocket message closes the connection (1009)
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
OBJECT_TARGETS = [t for t in EVENT_TARGETS if t not in SEED_TARGETS]
TERMINAL = ("completed", "failed", "cancelled", "timedout")


# -- the raw hub ----------------------------------------------------------------------------------


@dataclass(eq=False)
class HubSocket:
    ws: web.WebSocketResponse
    codec: HubCodec
    subscriptions: set[str] = field(default_factory=set)
    closed: bool = False

    async def send(self, frame: bytes | str) -> None:
        if self.closed:
            return
        try:
            if isinstance(frame, str):
                await self.ws.send_str(frame)
            else:
                await self.ws.send_bytes(frame)
        except (ConnectionError, RuntimeError):
            self.closed = True  # the client went away meanwhile

    def encode(self, target: str, arguments: list[Any]) -> bytes | str:
        data = self.codec.invocation(target, arguments)
        return data if self.codec.binary else data.decode()


class RawHub:
    """Negotiate, handshake, answer invocations; send what the test says. Plus create and status routes."""

    def __init__(self) -> None:
        self.sockets: list[HubSocket] = []
        self.tasks: set[str] = set()
        self.status_reads: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        for path in HUB_PATHS.values():
            app.router.add_post(path + "/negotiate", self._negotiate)
            app.router.add_get(path, self._socket)
        app.router.add_post(IMAGE_CREATE, self._create)
        app.router.add_get(IMAGE_STATUS, self._status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for sock in self.sockets:
            await sock.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _negotiate(self, request: web.Request) -> web.Response:
        transports = [{"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}]
        return web.json_response({"connectionId": uuid.uuid4().hex, "availableTransports": transports})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, compress=False)
        await ws.prepare(request)
        first = await ws.receive(timeout=5)
        data = first.data.encode() if first.type == WSMsgType.TEXT else first.data
        handshake, _ = parse_handshake(data)
        sock = HubSocket(ws, CODECS[handshake["protocol"]](1 << 30))
        await ws.send_str(handshake_response().decode())
        self.sockets.append(sock)
        try:
            async for msg in ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                for message in sock.codec.feed(msg.data.encode() if msg.type == WSMsgType.TEXT else msg.data):
                    if message.type != 1:
                        continue  # pings, and the error completions pysignalr sends for invocations it cannot answer
                    task_id = str(message.arguments[0]) if message.arguments else ""
                    if message.target == SUBSCRIBE:
                        sock.subscriptions.add(task_id)
                    elif message.target == UNSUBSCRIBE:
                        sock.subscriptions.discard(task_id)
                    if message.invocation_id is not None:
                        await sock.send(_as_sent(sock, sock.codec.completion(message.invocation_id)))
        finally:
            sock.closed = True
        return ws

    async def _create(self, request: web.Request) -> web.Response:
        task_id = f"task-{uuid.uuid4().hex[:12]}"
        self.tasks.add(task_id)
        return web.json_response({"task_id": task_id, "status": "queued"}, status=202)

    async def _status(self, request: web.Request) -> web.Response:
        task_id = request.match_info["task_id"]
        self.status_reads[task_id] += 1
        if task_id not in self.tasks:
            return web.json_response({"error": {"message": "Task not found"}}, status=404)
        return web.json_response({"task_id": task_id, "status": "processing", "progress": 0})

    async def live(self, task_ids: set[str], timeout: float = 10.0) -> HubSocket:
        """The newest open connection on which every one of `task_ids` is subscribed."""
        deadline = time.monotonic() + timeout
        while True:
            for sock in reversed(self.sockets):
                if not sock.closed and task_ids <= sock.subscriptions:
                    return sock
            if time.monotonic() > deadline:
                raise AssertionError(f"the client did not (re)subscribe to {sorted(task_ids)} within {timeout} s")
            await asyncio.sleep(0.005)

    async def deliver(self, task: Task, messages: list[tuple[str, list[Any]]], timeout: float = 10.0) -> None:
        """Send `messages` for `task` until the task has ended: again on each new connection, should the one
        they were sent on have died of something sent before them."""
        deadline = time.monotonic() + timeout
        while not task.done:
            sock = await self.live({task.id}, timeout=max(0.1, deadline - time.monotonic()))
            for target, arguments in messages:
                await sock.send(sock.encode(target, arguments))
            while not task.done and not sock.closed:
                if time.monotonic() > deadline:
                    raise AssertionError(f"task {task.id} did not end within {timeout} s of its events being sent")
                await asyncio.sleep(0.005)


def _as_sent(sock: HubSocket, data: bytes) -> bytes | str:
    return data if sock.codec.binary else data.decode()


# -- what a batch checks --------------------------------------------------------------------------


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Rig:
    """One raw hub and one client on an event loop of their own, kept across hypothesis examples (the
    client surviving many batches in a row is the point)."""

    def __init__(self, hub_protocol: str) -> None:
        self.protocol = hub_protocol
        self.hub = RawHub()
        self.loop_errors: list[dict[str, Any]] = []
        self.records = Records()
        self.reconnects = 0
        self.terminal: Counter[str] = Counter()  # task id -> endings reported by the client's listeners
        self.endings: Counter[str] = Counter()  # task id -> ending updates reported by the task's listeners
        self.updates: defaultdict[str, list[Any]] = defaultdict(list)
        self._levels: dict[str, int] = {}

    def __enter__(self) -> Rig:
        logging.getLogger().addHandler(self.records)
        for name in ("conduit_widget", "pysignalr.client"):
            self._levels[name] = logging.getLogger(name).level
        logging.getLogger("conduit_widget").setLevel(logging.DEBUG)
        self.runner = asyncio.Runner()
        self.runner.get_loop().set_exception_handler(lambda _loop, context: self.loop_errors.append(context))
        self.run(self._start())
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.run(self._stop())
            self.runner.close()
            gc.collect()
            assert not self.loop_errors, f"an exception reached the event loop: {self.loop_errors}"
        finally:
            logging.getLogger().removeHandler(self.records)
            for name, level in self._levels.items():
                logging.getLogger(name).setLevel(level)

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    async def _start(self) -> None:
        base_url = await self.hub.start()
        self.client = ConduitClient(
            base_url,
            "condt_fuzz" + uuid.uuid4().hex,
            hub_protocol=self.protocol,  # type: ignore[arg-type]
            backoff=Backoff(initial=0.01, maximum=0.1),
            poll_interval=0.2,
            watchdog_interval=60.0,
            connect_timeout=2.0,
        )
        await self.client.start()

        def reconnecting(_event: Any) -> None:
            self.reconnects += 1

        self.client.on("reconnecting", reconnecting)
        for name in TERMINAL:
            self.client.on(name, lambda result: self.terminal.update([result.task_id]))

    async def _stop(self) -> None:
        await self.client.aclose()
        await self.hub.stop()

    async def new_task(self, prompt: str) -> Task:
        task = await self.client.generate_image(prompt)
        task_id = task.id

        def seen(update: Any) -> None:
            self.updates[task_id].append(update)
            if update.done:
                self.endings[task_id] += 1

        task.on_update(seen)
        return task

    async def batch(self, frames: list[Frame]) -> tuple[Task, list[Task]]:
        victims = [await self.new_task(f"victim {i}") for i in range(VICTIMS)]
        probe = await self.new_task("probe")
        ids = [v.id for v in victims]
        sock = await self.hub.live({*ids, probe.id})
        for frame in frames:
            await sock.send(frame.render(self.protocol, ids))
        await self.hub.deliver(
            probe,
            [
                ("ImageGenerationProgress", [{"taskId": probe.id, "progressPercentage": 42, "status": "processing"}]),
                ("ImageGenerationCompleted", [{"taskId": probe.id, "imageUrls": [PROBE_URL]}]),
            ],
        )
        for victim in victims:
            await self.hub.deliver(
                victim, [("ImageGenerationCompleted", [{"taskId": victim.id, "imageUrls": [DONE_URL]}])]
            )
        await asyncio.sleep(0.01)  # let listeners scheduled by the last events run
        return probe, victims

    def check(self, probe: Task, victims: list[Task]) -> None:
        """Everything a batch must leave true; raises AssertionError naming what is not."""
        # "Task exception was never retrieved" is reported when the task is collected: the young generations
        # here (a full collection costs a tenth of a second in this heap), everything when the rig closes.
        gc.collect(1)
        assert not self.loop_errors, f"an exception reached the event loop: {self.loop_errors}"
        assert probe.result is not None and probe.result.status == "completed", probe.result
        assert probe.result.image_urls == (PROBE_URL,)
        progress = [u for u in self.updates[probe.id] if not u.done]
        assert any(u.progress == 42 and u.source == "hub" for u in progress), "the probe's progress was not delivered"
        assert self.updates[probe.id][-1].source == "hub", "the probe ended other than through the hub"
        for task in [probe, *victims]:
            assert task.done
            assert self.terminal[task.id] == 1, f"the client reported {task.id}'s ending {self.terminal[task.id]} times"
            assert self.endings[task.id] == 1, f"the task reported its ending {self.endings[task.id]} times"
        problems = [r for r in self.records.records if not self.allowed(r)]
        assert not problems, "log records that should not be: " + "; ".join(
            f"{r.levelname} {r.name}: {r.getMessage()}" + (" (with a traceback)" if r.exc_info else "")
            for r in problems
        )

    def allowed(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR or (record.exc_info and record.levelno >= logging.WARNING):
            return False
        if record.name.startswith("conduit_widget"):
            return record.levelno <= logging.DEBUG  # what the client ignores, it says at DEBUG only
        return record.levelno < logging.WARNING

    def reset(self) -> None:
        self.records.records.clear()
        self.loop_errors.clear()


@pytest.fixture(scope="module", params=["json", "messagepack"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    with Rig(request.param) as rig:
        yield rig


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


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _framed(value: Any) -> bytes:
    body = msgpack.packb(value, use_bin_type=True)
    return _varint(len(body)) + body


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
        return _varint(len(body)) + body


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
        return _varint(max(0, len(body) + self.skew)) + body


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
                    Raw(_varint(1000) + b"\x91\x01"),  # a length past the frame
                    Raw(b"\x00"),  # an empty message
                    Raw(_varint(3) + b"\x93\x03\xc0"),  # [3, nil, ...] cut short inside
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
        lambda vs: b"".join(_varint(len(b)) + b for b in (msgpack.packb(v, use_bin_type=True) for v in vs))
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
    frame = _varint(len(body)) + body + _varint(len(bad)) + bad + b"\x02\xc1\xc1" + _varint(len(body)) + body
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
