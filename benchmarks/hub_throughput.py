"""Hub event throughput on one connection: bare pysignalr against conduit-widget's client, JSON and MessagePack,
one message per frame and 100 per frame, each measured in the same run against the local Conduit's burst route.

The rate is counted from the first event handled to the last (so the server's encoding is not in it); each case
runs several times and the table shows the median with the spread. Usage:
    python benchmarks/hub_throughput.py [--events N] [--repeats R] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from pysignalr.client import SignalRClient
from pysignalr.messages import CompletionMessage
from pysignalr.protocol.json import JSONProtocol
from pysignalr.protocol.messagepack import MessagepackProtocol

from conduit_widget import ConduitClient
from conduit_widget.server import LocalConduit
from conduit_widget.server.bench import BURST_ROUTE


class Clock:
    """First and last event times, and a count; `done` is set at the expected count."""

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

    def rate(self) -> float:
        return (self.count - 1) / (self.last - self.first) if self.last > self.first else 0.0


async def _create_hanging_task(server: LocalConduit) -> str:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {server.api_key}"}) as http:
        answer = await http.post(
            server.base_url + "/v1/images/generations/async",
            json={"prompt": "benchmark", "model": "test-hang", "size": "64x64"},
        )
        return str(answer.raise_for_status().json()["task_id"])


async def _burst(server: LocalConduit, task_id: str, count: int, per_frame: int) -> None:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {server.api_key}"}, timeout=120) as http:
        answer = await http.post(
            server.base_url + BURST_ROUTE, json={"task_id": task_id, "count": count, "per_frame": per_frame}
        )
        answer.raise_for_status()


async def bare_pysignalr(server: LocalConduit, proto: str, count: int, per_frame: int) -> float:
    """pysignalr with an empty handler: the ceiling our layers are measured against."""
    client = SignalRClient(
        server.base_url + "/hubs/image-generation",
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

    client.on("ImageGenerationProgress", on_progress)
    client.on_open(on_open)
    client.on_error(on_error)
    runner = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(opened.wait(), 10)
        task_id = await _create_hanging_task(server)
        subscribed = asyncio.get_running_loop().create_future()

        async def on_subscribed(message: Any) -> None:
            subscribed.set_result(message)

        await client.send("SubscribeToTask", [task_id], on_invocation=on_subscribed)
        await asyncio.wait_for(subscribed, 10)
        await _burst(server, task_id, count, per_frame)
        await asyncio.wait_for(clock.done.wait(), 120)
    finally:
        runner.cancel()
        with contextlib.suppress(BaseException):
            await runner
    return clock.rate()


async def conduit_client(server: LocalConduit, proto: str, count: int, per_frame: int) -> float:
    """Frame to TaskUpdate delivered: dialect reading, the state machine, and the task's listeners."""
    async with ConduitClient(server.base_url, server.api_key, hub_protocol=proto, watchdog_interval=3600) as client:  # type: ignore[arg-type]
        task = await client.generate_image("benchmark", model="test-hang", size="64x64")
        clock = Clock(count)
        task.on_update(lambda update: clock.tick() if (update.message or "").startswith("burst") else None)
        await _burst(server, task.id, count, per_frame)
        await asyncio.wait_for(clock.done.wait(), 120)
        await client.rest.cancel("image", task.id)
    return clock.rate()


CASES: list[tuple[str, Callable[[LocalConduit, str, int, int], Awaitable[float]]]] = [
    ("bare pysignalr", bare_pysignalr),
    ("conduit-widget client", conduit_client),
]


async def run(count: int, repeats: int) -> list[dict[str, Any]]:
    rows = []
    async with LocalConduit(speed=100, bench=True) as server:
        for proto in ("json", "messagepack"):
            for per_frame in (1, 100):
                medians = {}
                for name, case in CASES:
                    rates = [await case(server, proto, count, per_frame) for _ in range(repeats)]
                    medians[name] = statistics.median(rates)
                    rows.append(
                        {
                            "case": name,
                            "protocol": proto,
                            "per_frame": per_frame,
                            "events": count,
                            "median_per_s": round(medians[name]),
                            "min_per_s": round(min(rates)),
                            "max_per_s": round(max(rates)),
                        }
                    )
                rows[-1]["ratio_to_bare"] = round(medians["conduit-widget client"] / medians["bare pysignalr"], 3)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| case | protocol | messages/frame | median events/s | spread (min-max) | ratio to bare pysignalr |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r['ratio_to_bare']:.2f}" if "ratio_to_bare" in r else ""
        lines.append(
            f"| {r['case']} | {r['protocol']} | {r['per_frame']} | {r['median_per_s']:,} | "
            f"{r['min_per_s']:,}-{r['max_per_s']:,} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/hub_throughput.json"))
    args = parser.parse_args()
    rows = asyncio.run(run(args.events, args.repeats))
    print(table(rows))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n(written to {args.json})")


if __name__ == "__main__":
    main()
