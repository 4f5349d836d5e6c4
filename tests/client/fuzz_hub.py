"""The raw hub the frame fuzzer talks through, and the rig that runs a batch and checks what escaped.

See test_hub_frame_fuzz.py for what is fuzzed and why.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from hypothesis import Phase

from conduit_widget import Backoff, ConduitClient
from conduit_widget.client.dialects import EVENT_TARGETS, SEED_TARGETS
from conduit_widget.client.task import Task
from conduit_widget.protocol import HUB_PATHS, IMAGE_CREATE, IMAGE_STATUS, SUBSCRIBE, UNSUBSCRIBE
from conduit_widget.server.hub.codec import CODECS, HubCodec, handshake_response, parse_handshake

if TYPE_CHECKING:
    from tests.client.fuzz_frames import Frame

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
