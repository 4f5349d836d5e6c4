"""Hub event throughput on one connection, every client against the same server process and the same burst.

Clients: a raw WebSocket reader that only counts messages (the server's ceiling), bare pysignalr with an empty
handler, this project's ConduitClient (frame to ``TaskUpdate`` delivered to a task listener), the official
``@microsoft/signalr`` client under Node, and signalrcore (threads, from a venv of its own). Each case connects,
subscribes to a task, then the server's burst route sends ``count`` pre-encoded progress events, ``per_frame``
to a WebSocket frame; the rate is counted from the first event received to the last. Cases are interleaved
within each repeat, and the table has medians with their spread; ours is judged against bare pysignalr by the
median of the two's ratio in each repeat.

    python -m benchmarks.throughput [--events N] [--repeats R] [--clients ours,bare] [--protocols json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp
import httpx
from pysignalr.client import SignalRClient
from pysignalr.messages import CompletionMessage
from pysignalr.protocol.json import JSONProtocol
from pysignalr.protocol.messagepack import MessagepackProtocol

from benchmarks import signalrcore_env
from benchmarks.raw_reader import HubProtocol, RawHubReader
from benchmarks.server_process import HANG_MODEL, ServerProcess
from benchmarks.stats import ratio, spread
from conduit_widget import protocol
from conduit_widget.client import ConduitClient

NODE_SCRIPT: Final = Path(__file__).resolve().parent / "node" / "official_client.mjs"
JS_DIR: Final = Path(__file__).resolve().parents[1] / "js"
PROTOCOLS: Final[tuple[HubProtocol, ...]] = ("json", "messagepack")
PER_FRAME: Final = (1, 100)


@dataclass
class Outcome:
    rate: float  # events a second, first event to last
    received: int


class Clock:
    """First and last event times and a count; `done` is set at the expected count."""

    def __init__(self, expected: int) -> None:
        self.expected, self.count = expected, 0
        self.first = self.last = 0.0
        self.done = asyncio.Event()

    def tick(self) -> None:
        now = time.perf_counter()
        if self.count == 0:
            self.first = now
        self.count += 1
        self.last = now
        if self.count >= self.expected:
            self.done.set()

    async def wait(self, timeout: float) -> Outcome:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.done.wait(), timeout)
        span = self.last - self.first
        return Outcome((self.count - 1) / span if span > 0 else 0.0, self.count)


async def _settle(burst: asyncio.Task[Any]) -> None:
    """Let the server finish the burst before the next case (a client that gave up leaves it failing)."""
    with contextlib.suppress(httpx.HTTPError, TimeoutError):
        await asyncio.wait_for(burst, 60)


# -- the clients -------------------------------------------------------------------------------


async def raw_reader(server: ServerProcess, proto: HubProtocol, count: int, per_frame: int, timeout: float) -> Outcome:
    """Counts 0x1e separators or MessagePack lengths, decodes nothing: what the server can send."""
    task_id = await server.create_task()
    async with aiohttp.ClientSession() as session:
        reader = RawHubReader(session, server.hub_url(), server.api_key, proto)
        await reader.open()
        await reader.subscribe(task_id)
        burst = asyncio.create_task(server.burst(task_id, count, per_frame))
        tally = await reader.count(count, timeout)
        await reader.close()
        await _settle(burst)
    return Outcome(tally.rate(), tally.count)


async def bare_pysignalr(
    server: ServerProcess, proto: HubProtocol, count: int, per_frame: int, timeout: float
) -> Outcome:
    """pysignalr with a handler that only checks the message: the ceiling our layers are measured against."""
    client = SignalRClient(
        server.hub_url(),
        protocol=MessagepackProtocol() if proto == "messagepack" else JSONProtocol(),
        headers={"Authorization": f"Bearer {server.api_key}"},
    )
    clock, opened = Clock(count), asyncio.Event()

    async def on_progress(arguments: list[Any]) -> None:
        if str(arguments[0].get("message", "")).startswith("burst"):
            clock.tick()

    async def on_open() -> None:
        opened.set()

    async def on_error(message: CompletionMessage) -> None:
        raise RuntimeError(message.error)

    client.on(protocol.IMAGE_PROGRESS, on_progress)
    client.on_open(on_open)
    client.on_error(on_error)
    runner = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(opened.wait(), 10)
        task_id = await server.create_task()
        subscribed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def on_subscribed(message: Any) -> None:
            subscribed.set_result(message)

        await client.send(protocol.SUBSCRIBE, [task_id], on_invocation=on_subscribed)  # type: ignore[list-item]
        await asyncio.wait_for(subscribed, 10)
        burst = asyncio.create_task(server.burst(task_id, count, per_frame))
        outcome = await clock.wait(timeout)
    finally:
        runner.cancel()
        with contextlib.suppress(BaseException):
            await runner
    await _settle(burst)
    return outcome


async def conduit_client(
    server: ServerProcess, proto: HubProtocol, count: int, per_frame: int, timeout: float
) -> Outcome:
    """This project's client, frame to TaskUpdate delivered: dialect reading, the state machine, listeners."""
    async with ConduitClient(server.base_url, server.api_key, hub_protocol=proto, watchdog_interval=3600) as client:
        task = await client.generate_image("bench", model=HANG_MODEL, size="64x64")
        clock = Clock(count)
        task.on_update(lambda update: clock.tick() if (update.message or "").startswith("burst") else None)
        burst = asyncio.create_task(server.burst(task.id, count, per_frame))
        outcome = await clock.wait(timeout)
        await _settle(burst)
    return outcome


async def _external(command: list[str], server: ServerProcess, task_id: str, count: int, per_frame: int) -> Outcome:
    """A client in another process that prints {"ready": true} once subscribed, then its count and rate."""
    with tempfile.TemporaryFile() as stderr:
        process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE, stderr=stderr)
        assert process.stdout is not None
        burst: asyncio.Task[Any] | None = None
        try:
            ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 30) or b"{}")
            if not ready.get("ready"):
                raise RuntimeError(f"{Path(command[1]).name} did not get ready: {ready}")
            burst = asyncio.create_task(server.burst(task_id, count, per_frame))
            result = json.loads(await asyncio.wait_for(process.stdout.readline(), 600) or b"{}")
            if "rate" not in result:
                stderr.seek(0)
                raise RuntimeError(f"{Path(command[1]).name} failed: {result} {stderr.read()[-2000:]!r}")
            return Outcome(float(result["rate"]), int(result["count"]))
        finally:
            if process.returncode is None:  # it has said what it had to say; a slow goodbye is not waited out
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), 1)
            if process.returncode is None:
                process.kill()
                await process.wait()
            if burst is not None:
                await _settle(burst)


def _config(server: ServerProcess, proto: HubProtocol, task_id: str, count: int, timeout: float) -> str:
    return json.dumps(
        {
            "url": server.hub_url(),
            "key": server.api_key,
            "protocol": proto,
            "taskId": task_id,
            "count": count,
            "timeoutMs": int(timeout * 1000),
            "timeout": timeout,
        }
    )


async def official_client(
    server: ServerProcess, proto: HubProtocol, count: int, per_frame: int, timeout: float
) -> Outcome:
    """``@microsoft/signalr`` 10 under Node (benchmarks/node/official_client.mjs)."""
    node = shutil.which("node")
    assert node is not None
    task_id = await server.create_task()
    command = [node, str(NODE_SCRIPT), _config(server, proto, task_id, count, timeout)]
    return await _external(command, server, task_id, count, per_frame)


async def signalrcore_client(
    server: ServerProcess, proto: HubProtocol, count: int, per_frame: int, timeout: float
) -> Outcome:
    """signalrcore 1.0.2: its own WebSocket client and receive thread, handlers called on that thread."""
    python = signalrcore_env.python(create=False)
    assert python is not None
    task_id = await server.create_task()
    command = [str(python), str(signalrcore_env.SCRIPT), _config(server, proto, task_id, count, timeout)]
    return await _external(command, server, task_id, count, per_frame)


Case = Callable[[ServerProcess, HubProtocol, int, int, float], Awaitable[Outcome]]
CLIENTS: Final[dict[str, Case]] = {
    "raw": raw_reader,
    "bare": bare_pysignalr,
    "ours": conduit_client,
    "official": official_client,
    "signalrcore": signalrcore_client,
}
LABELS: Final = {
    "raw": "raw WebSocket reader (counts only)",
    "bare": "bare pysignalr (empty handler)",
    "ours": "conduit-widget client (frame to TaskUpdate)",
    "official": "official @microsoft/signalr (Node)",
    "signalrcore": "signalrcore (threads)",
}


def available(clients: list[str], *, make_venv: bool) -> tuple[list[str], dict[str, str]]:
    """The clients that can run here, and why each of the others cannot."""
    missing: dict[str, str] = {}
    if "official" in clients:
        if shutil.which("node") is None:
            missing["official"] = "node is not on PATH"
        elif not (JS_DIR / "node_modules" / "@microsoft" / "signalr-protocol-msgpack").is_dir():
            missing["official"] = "js/node_modules lacks @microsoft/signalr(-protocol-msgpack): run `make install`"
    if "signalrcore" in clients and signalrcore_env.python(create=make_venv) is None:
        missing["signalrcore"] = f"no venv with {signalrcore_env.REQUIREMENT} at {signalrcore_env.VENV}"
    return [c for c in clients if c not in missing], missing


async def measure(
    server: ServerProcess,
    *,
    events: int,
    repeats: int,
    clients: list[str],
    protocols: tuple[HubProtocol, ...] = PROTOCOLS,
    per_frames: tuple[int, ...] = PER_FRAME,
    make_venv: bool = True,
    timeout: float = 120.0,
) -> dict[str, Any]:
    runnable, missing = available(clients, make_venv=make_venv)
    rows: list[dict[str, Any]] = []
    ratios: list[dict[str, Any]] = []
    for proto in protocols:
        for per_frame in per_frames:
            rates: dict[str, list[float]] = {c: [] for c in runnable}
            received: dict[str, list[int]] = {c: [] for c in runnable}
            for _ in range(repeats):
                for name in runnable:  # interleaved, so drift in the machine's load hits every client alike
                    outcome = await CLIENTS[name](server, proto, events, per_frame, timeout)
                    rates[name].append(outcome.rate)
                    received[name].append(outcome.received)
            medians = {}
            for name in runnable:
                summary = spread(rates[name], 0)
                medians[name] = summary["median"]
                rows.append(
                    {
                        "client": name,
                        "label": LABELS[name],
                        "protocol": proto,
                        "per_frame": per_frame,
                        "events_per_s": summary,
                        "complete": min(received[name]) >= events,
                    }
                )
            # Ours against bare pysignalr repeat by repeat: the two ran back to back, so a change in the machine's
            # speed between repeats (up to twice as fast or slow here) cancels out of each ratio. Their median is
            # the verdict; the ratio of the two medians is kept beside it, and can pair a fast repeat with a slow.
            pairs = [o / b for o, b in zip(rates.get("ours", []), rates.get("bare", []), strict=False) if b]
            ratios.append(
                {
                    "protocol": proto,
                    "per_frame": per_frame,
                    "ours_to_bare": ratio(medians.get("ours", 0), medians.get("bare", 0)),
                    "ours_to_bare_paired": round(statistics.median(pairs), 3) if pairs else 0.0,
                    "ours_to_bare_pairs": [round(p, 3) for p in pairs],
                    "ours_to_official": ratio(medians.get("ours", 0), medians.get("official", 0)),
                    "ours_to_signalrcore": ratio(medians.get("ours", 0), medians.get("signalrcore", 0)),
                    "ours_to_raw": ratio(medians.get("ours", 0), medians.get("raw", 0)),
                    "bare_to_raw": ratio(medians.get("bare", 0), medians.get("raw", 0)),
                }
            )
    return {"events": events, "repeats": repeats, "rows": rows, "ratios": ratios, "unavailable": missing}


def table(section: dict[str, Any]) -> str:
    lines = [
        "| client | protocol | msgs/frame | median events/s | spread | ours / this |",
        "|---|---|---|---|---|---|",
    ]
    ours = {
        (r["protocol"], r["per_frame"]): r["events_per_s"]["median"] for r in section["rows"] if r["client"] == "ours"
    }
    for r in section["rows"]:
        s = r["events_per_s"]
        mine = ours.get((r["protocol"], r["per_frame"]), 0)
        versus = "" if r["client"] == "ours" else f"{ratio(mine, s['median']):.2f}"
        flag = "" if r["complete"] else " (incomplete)"
        lines.append(
            f"| {r['label']}{flag} | {r['protocol']} | {r['per_frame']} | {s['median']:,.0f} | "
            f"{s['min']:,.0f}-{s['max']:,.0f} | {versus} |"
        )
    for name, why in section["unavailable"].items():
        lines.append(f"| {LABELS[name]}: not run ({why}) | | | | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clients", default=",".join(CLIENTS), help=f"comma-separated, of {', '.join(CLIENTS)}")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--per-frame", default=",".join(map(str, PER_FRAME)))
    args = parser.parse_args()

    async def run() -> dict[str, Any]:
        async with ServerProcess() as server:
            return await measure(
                server,
                events=args.events,
                repeats=args.repeats,
                clients=args.clients.split(","),
                protocols=tuple(args.protocols.split(",")),
                per_frames=tuple(int(n) for n in args.per_frame.split(",")),
            )

    section = asyncio.run(run())
    print(table(section))
    print(json.dumps(section["ratios"], indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
