"""Benchmark-only: a burst of pre-encoded progress events, so a client and not the server is what is measured.

Off unless the server is started with ``bench=True`` (``conduit-widget serve --bench``). ``POST /_local/bench/burst``
with ``{"task_id", "count", "per_frame"}`` sends ``count`` ``ImageGenerationProgress`` events (each with its own
message, so every one is news to a client) to the task's subscribers, ``per_frame`` messages to a WebSocket frame,
encoded once per hub protocol before the clock starts. Real servers send one message per frame.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.server.hub.hubs import Hubs

BURST_ROUTE = "/_local/bench/burst"
MAX_BURST = 1_000_000


def burst_events(task_id: str, count: int) -> list[tuple[str, list[Any]]]:
    return [
        (
            protocol.IMAGE_PROGRESS,
            [
                {
                    "taskId": task_id,
                    "progressPercentage": i * 99 // count,
                    "status": "processing",
                    "imagesCompleted": 0,
                    "totalImages": 1,
                    "message": f"burst {i}",
                    "timestamp": "2026-01-01T00:00:00Z",
                }
            ],
        )
        for i in range(count)
    ]


def bench_routes(hubs: Hubs) -> list[web.RouteDef]:
    async def burst(request: web.Request) -> web.Response:
        body = await request.json()
        task_id, count, per_frame = body.get("task_id"), body.get("count"), body.get("per_frame", 1)
        if not isinstance(task_id, str) or not isinstance(count, int) or not isinstance(per_frame, int):
            return web.json_response(
                {"error": "task_id (string), count and per_frame (integers) are required"}, status=400
            )
        if not 1 <= count <= MAX_BURST or not 1 <= per_frame <= 10_000:
            return web.json_response({"error": f"count must be 1..{MAX_BURST}, per_frame 1..10000"}, status=400)
        events = burst_events(task_id, count)
        started = time.perf_counter()
        sent = await hubs.send_burst("image", task_id, events, per_frame)
        return web.json_response({"sent": sent, "seconds": time.perf_counter() - started})

    return [web.post(BURST_ROUTE, burst)]
