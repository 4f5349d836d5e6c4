"""Server capacity: tasks a second the local server runs at full speed, and events a second it fans out.

- Tasks: the server at full speed (every pacing delay divided by a million), `concurrency` ConduitClient
  tasks in flight at a time (one 64x64 image each: 20 progress steps, a PNG rendered and stored), from the
  first create to the last completion. The server's and this process's CPU shares show which side was
  the limit (on a shared machine, neither near 1.0 means other work took the cores; above 1.0, threads
  ran on the other core: the server renders in worker threads).
- Fan-out: `subscribers` raw WebSocket readers (json) on one task; the server publishes `events` events one
  at a time through the path a running task's events take (encoded once, queued per connection, written by
  each connection's writer); deliveries a second, counted by the readers from first to last. The readers
  share one process (and so one core): their CPU share says whether they, not the server, set the pace.

Each is repeated; the figures are the medians, with the spread.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import aiohttp

from benchmarks.raw_reader import RawHubReader
from benchmarks.server_process import ServerProcess
from benchmarks.stats import spread
from conduit_widget.client import ConduitClient


async def _run_tasks(client: ConduitClient, server: ServerProcess, tasks: int, concurrency: int) -> dict[str, float]:
    slots = asyncio.Semaphore(concurrency)
    ok = 0

    async def one() -> None:
        nonlocal ok
        async with slots:
            task = await client.generate_image("capacity", size="64x64")
            result = await task.wait(120)
            ok += result.ok  # after the await: `ok += (await ...)` would add to a stale value

    before = await server.stats()
    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(tasks)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = await server.stats()
    return {
        "completed": ok,
        "tasks_per_s": ok / seconds,
        "server_cpu_share": (after["cpu_seconds"] - before["cpu_seconds"]) / seconds,
        "client_cpu_share": cpu / seconds,
    }


async def tasks_per_second(server: ServerProcess, *, tasks: int, concurrency: int, repeats: int) -> dict[str, Any]:
    async with ConduitClient(server.base_url, server.api_key, watchdog_interval=3600) as client:
        await (await client.generate_image("warm-up", size="64x64")).wait(30)
        runs = [await _run_tasks(client, server, tasks, concurrency) for _ in range(repeats)]
    return {
        "tasks": tasks * repeats,
        "completed": sum(int(r["completed"]) for r in runs),
        "concurrency": concurrency,
        "repeats": repeats,
        "tasks_per_s": spread([r["tasks_per_s"] for r in runs], 1),
        "server_cpu_share": round(statistics.median(r["server_cpu_share"] for r in runs), 2),
        "client_cpu_share": round(statistics.median(r["client_cpu_share"] for r in runs), 2),
    }


async def _fan_once(server: ServerProcess, readers: list[RawHubReader], task_id: str, events: int) -> dict[str, float]:
    before, cpu = await server.stats(), time.process_time()
    sending = asyncio.create_task(server.fanout(task_id, events))
    tallies = await asyncio.gather(*(r.count(events, 300) for r in readers))
    await sending
    after, cpu = await server.stats(), time.process_time() - cpu
    span = max(t.last for t in tallies) - min(t.first for t in tallies)
    delivered = sum(t.count for t in tallies)
    return {
        "delivered": delivered,
        "deliveries_per_s": delivered / span if span > 0 else 0.0,
        "server_cpu_share": (after["cpu_seconds"] - before["cpu_seconds"]) / span if span > 0 else 0.0,
        "readers_cpu_share": cpu / span if span > 0 else 0.0,
    }


async def fanout(server: ServerProcess, *, subscribers: int, events: int, repeats: int) -> dict[str, Any]:
    task_id = await server.create_task()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        readers = [RawHubReader(session, server.hub_url(), server.api_key, "json") for _ in range(subscribers)]
        await asyncio.gather(*(r.open() for r in readers))
        await asyncio.gather(*(r.subscribe(task_id) for r in readers))
        runs = [await _fan_once(server, readers, task_id, events) for _ in range(repeats)]
        await asyncio.gather(*(r.close() for r in readers))
    rates = spread([r["deliveries_per_s"] for r in runs], 0)
    return {
        "subscribers": subscribers,
        "events": events,
        "repeats": repeats,
        "delivered": min(int(r["delivered"]) for r in runs),
        "deliveries_per_s": rates,
        "events_per_s_each": round(rates["median"] / subscribers),
        "server_cpu_share": round(statistics.median(r["server_cpu_share"] for r in runs), 2),
        "readers_cpu_share": round(statistics.median(r["readers_cpu_share"] for r in runs), 2),
    }
