"""Benchmark routes, plugged into a local Conduit (``benchmarks.bench_server``), so that a client and not the server
is what is measured. They use the server's public seams only: its hubs' subscribers, a connection's frame writes and
queue length, and publishing. Every event is an ``ImageGenerationProgress`` with its own message, so each one is news
to a client.

- ``POST /_local/bench/burst`` ``{"task_id" | "task_ids", "count", "per_frame"}``: ``count`` events, encoded once
  per hub protocol before the clock starts, then written ``per_frame`` messages to a WebSocket frame as fast as
  each subscriber's socket takes them (real servers send one message per frame). With ``task_ids`` the events
  go round-robin across those tasks and are sent to the first task's subscribers (one client following them all).
- ``POST /_local/bench/paced`` ``{"task_ids", "count", "rate"}``: ``count`` events at ``rate`` a second,
  round-robin across the tasks, through the same path as a running task's events (encoded when sent, queued
  per connection). Each message is ``"sent <time.monotonic_ns()>"``, taken as it is published: Linux's
  monotonic clock is system-wide, so a client in another process can tell each event's latency.
- ``POST /_local/bench/fanout`` ``{"task_id", "count"}``: ``count`` events published one at a time to every
  subscriber of one task, through the same path, as fast as the subscribers' writers keep up.
- ``GET /_local/bench/stats``: live hub connections, and the server process's CPU seconds and peak memory.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from typing import Any, Final

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.server.hub.hubs import Hubs
from conduit_widget.server.shared_state import ServerContext

BURST_ROUTE: Final = "/_local/bench/burst"
PACED_ROUTE: Final = "/_local/bench/paced"
FANOUT_ROUTE: Final = "/_local/bench/fanout"
STATS_ROUTE: Final = "/_local/bench/stats"
STAMP_PREFIX: Final = "sent "  # a paced event's message: STAMP_PREFIX + str(time.monotonic_ns())
MAX_BURST: Final = 1_000_000
MAX_TASKS: Final = 100_000
_FANOUT_HIGH_WATER: Final = 1_000  # frames queued for one subscriber before the fan-out waits for it


def progress_event(task_id: str, index: int, count: int, message: str) -> tuple[str, list[Any]]:
    payload = {
        "taskId": task_id,
        "progressPercentage": index * 99 // count,
        "status": "processing",
        "imagesCompleted": 0,
        "totalImages": 1,
        "message": message,
        "timestamp": "2026-01-01T00:00:00Z",
    }
    return protocol.IMAGE_PROGRESS, [payload]


def burst_events(task_id: str | list[str], count: int) -> list[tuple[str, list[Any]]]:
    """``count`` events with messages ``burst 0`` .. ``burst count-1``, round-robin across the task ids."""
    ids = [task_id] if isinstance(task_id, str) else task_id
    return [progress_event(ids[i % len(ids)], i, count, f"burst {i}") for i in range(count)]


def _ids(body: dict[str, Any]) -> list[str] | None:
    ids = body.get("task_ids", [body["task_id"]] if "task_id" in body else None)
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_TASKS or not all(isinstance(i, str) for i in ids):
        return None
    return ids


def _count(body: dict[str, Any]) -> int | None:
    count = body.get("count")
    return count if isinstance(count, int) and 1 <= count <= MAX_BURST else None


def _bad(text: str) -> web.Response:
    return web.json_response({"error": text}, status=400)


async def send_burst(hubs: Hubs, task_id: str, events: list[tuple[str, list[Any]]], per_frame: int) -> int:
    """Encode every event up front, then write frames of `per_frame` messages to each subscriber of the task as fast
    as its socket takes them (awaiting the socket is the backpressure)."""
    subscribers = hubs.subscribers("image", task_id)
    frames: dict[str, list[bytes]] = {}
    for conn in subscribers:
        codec = conn.codec
        if codec is not None and codec.name not in frames:
            messages = [codec.invocation(target, args) for target, args in events]
            frames[codec.name] = [b"".join(messages[i : i + per_frame]) for i in range(0, len(messages), per_frame)]
    for conn in subscribers:
        if conn.codec is not None:
            for frame in frames[conn.codec.name]:
                await conn.write(frame)
    return len(events) * len(subscribers)


def bench_routes(ctx: ServerContext) -> list[web.RouteDef]:
    """The routes, for ``LocalConduit(extensions=[bench_routes])``."""
    hubs = ctx.hubs

    async def burst(request: web.Request) -> web.Response:
        body = await request.json()
        ids, count, per_frame = _ids(body), _count(body), body.get("per_frame", 1)
        if ids is None or count is None or not isinstance(per_frame, int) or not 1 <= per_frame <= 10_000:
            return _bad(f"task_id or task_ids (strings), count (1..{MAX_BURST}) and per_frame (1..10000) are required")
        events = burst_events(ids, count)
        started = time.perf_counter()
        sent = await send_burst(hubs, ids[0], events, per_frame)
        return web.json_response({"sent": sent, "seconds": time.perf_counter() - started})

    async def paced(request: web.Request) -> web.Response:
        body = await request.json()
        ids, count, rate = _ids(body), _count(body), body.get("rate")
        if ids is None or count is None or not isinstance(rate, int | float) or not 0 < rate <= 1_000_000:
            return _bad(f"task_ids (strings), count (1..{MAX_BURST}) and rate (events a second) are required")
        started = time.monotonic()
        for i in range(count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task_id = ids[i % len(ids)]
            hubs.publish("image", task_id, [progress_event(task_id, 0, count, f"{STAMP_PREFIX}{time.monotonic_ns()}")])
        return web.json_response({"sent": count, "seconds": time.monotonic() - started})

    async def fanout(request: web.Request) -> web.Response:
        body = await request.json()
        ids, count = _ids(body), _count(body)
        if ids is None or len(ids) != 1 or count is None:
            return _bad(f"task_id (a string) and count (1..{MAX_BURST}) are required")
        task_id = ids[0]
        subscribers = hubs.subscribers("image", task_id)
        started = time.perf_counter()
        for i in range(count):
            hubs.publish("image", task_id, [progress_event(task_id, i, count, f"burst {i}")])
            await asyncio.sleep(0)  # each subscriber's writer takes what is queued, as between a runner's steps
            while any(c.queued > _FANOUT_HIGH_WATER for c in subscribers):  # noqa: ASYNC110 (no event says "drained")
                await asyncio.sleep(0.001)
        return web.json_response({"sent": count * len(subscribers), "seconds": time.perf_counter() - started})

    async def stats(request: web.Request) -> web.Response:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return web.json_response(
            {
                "pid": os.getpid(),
                "connections": hubs.connection_count,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "max_rss_kib": usage.ru_maxrss,
            }
        )

    return [
        web.post(BURST_ROUTE, burst),
        web.post(PACED_ROUTE, paced),
        web.post(FANOUT_ROUTE, fanout),
        web.get(STATS_ROUTE, stats),
    ]
