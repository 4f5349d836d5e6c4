"""Latency, from the server publishing an event to the client having it, and time to first progress.

- To the ``TaskUpdate``: a ConduitClient in this process follows 1 or 1,000 tasks; the server's paced route
  publishes events round-robin across them at a moderate rate, each carrying ``time.monotonic_ns()`` taken as
  it is published (one system-wide clock on Linux, so comparable across processes); a task listener subtracts.
- To the trait: the same in a Jupyter kernel with GenerationWidgets, up to a traitlets observer on ``message``
  (widgets send at most ten updates a second, so each widget's events are kept slower than that: every
  event is then shown at once, and what is measured is the path, not the coalescing). With 1 widget; with
  1,000 active tasks of which 50 have a widget (the rest followed by the same shared client, as a loop of
  ``generate_image`` calls would); and with a widget for every one of 1,000 tasks, where each event is a
  comm message through ipykernel.
- Time to first progress: ``generate_image()`` called to the first update that is not "pending", on a warm
  client (connected by an earlier task), the server at full speed; a bare REST create is the reference.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from typing import Any

from benchmarks.bench_routes import STAMP_PREFIX
from benchmarks.kernel import Kernel
from benchmarks.server_process import ServerProcess
from benchmarks.stats import latency_ms, ratio, spread
from conduit_widget import protocol
from conduit_widget.client import ConduitClient, Task
from conduit_widget.client.models import TaskUpdate

SETTLED_PROGRESS = 40  # test-hang's last step before it stops (44%) is past this


async def follow_hanging_tasks(client: ConduitClient, n: int, batch: int = 50) -> list[Task]:
    """`n` test-hang tasks followed by `client`, returned once each has stopped at half way."""
    tasks: list[Task] = []
    for start in range(0, n, batch):
        tasks += await asyncio.gather(
            *(
                client.generate_image("bench", model=protocol.TEST_HANG_MODEL, size="64x64")
                for _ in range(min(batch, n - start))
            )
        )
    async with asyncio.timeout(300):
        while not all(t.progress >= SETTLED_PROGRESS for t in tasks):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    return tasks


async def to_task_update(server: ServerProcess, tasks: int, count: int, rate: float, repeats: int) -> dict[str, Any]:
    runs: list[list[int]] = []

    def on_update(update: TaskUpdate) -> None:
        message = update.message
        if message is not None and message.startswith(STAMP_PREFIX):
            runs[-1].append(time.monotonic_ns() - int(message[len(STAMP_PREFIX) :]))

    sent = 0
    async with ConduitClient(server.base_url, server.api_key, watchdog_interval=3600) as client:
        followed = await follow_hanging_tasks(client, tasks)
        for task in followed:
            task.on_update(on_update)
        for _ in range(repeats):
            runs.append([])
            sent += (await server.paced([t.id for t in followed], count, rate))["sent"]
            await asyncio.sleep(0.3)
    return {"tasks": tasks, "sent": sent, "rate": rate, "repeats": repeats, "to_update_ms": latency_ms(runs)}


async def first_progress(server: ServerProcess, repeats: int) -> dict[str, Any]:
    firsts: dict[str, float] = {}
    sources: Counter[str] = Counter()  # where each first update came from: the hub, or the status read
    arrived = asyncio.Event()

    def seen(value: Any) -> None:
        task_id = getattr(value, "task_id", None)
        status = getattr(value, "status", "pending")
        if task_id is not None and status != "pending" and task_id not in firsts:
            firsts[task_id] = time.perf_counter()
            sources[str(getattr(value, "source", "result"))] += 1
            arrived.set()

    warm: list[float] = []
    returned: list[float] = []  # generate_image() called to it returning (created, subscribed, status read)
    creates: list[float] = []
    async with ConduitClient(server.base_url, server.api_key, watchdog_interval=3600) as client:
        for name in ("progress", "completed", "failed"):
            client.on(name, seen)
        await (await client.generate_image("warm-up", size="64x64")).wait(30)
        for _ in range(repeats):
            started = time.perf_counter()
            arrived.clear()
            task = await client.generate_image("bench", size="64x64")
            returned.append(time.perf_counter() - started)
            async with asyncio.timeout(10):
                while task.id not in firsts:
                    await arrived.wait()
                    arrived.clear()
            warm.append(firsts[task.id] - started)
            await task.wait(30)
            started = time.perf_counter()  # the reference: the REST create alone
            await server.create_task(model="dall-e-3")
            creates.append(time.perf_counter() - started)
    ms = spread([w * 1000 for w in warm])
    reference = spread([c * 1000 for c in creates])
    return {
        "repeats": repeats,
        "first_progress_ms": ms,
        "generate_image_returned_ms": spread([r * 1000 for r in returned]),
        "first_update_source": dict(sources),
        "rest_create_ms": reference,
        "ratio_to_rest_create": ratio(ms["median"], reference["median"]),
        "mean_ms": round(statistics.fmean(warm) * 1000, 3),
    }


async def measure(
    server: ServerProcess,
    *,
    many: int,
    client_events: tuple[int, int],
    client_rates: tuple[float, float],
    trait_events: tuple[int, int, int],
    trait_rates: tuple[float, float, float],
    watched: int,
    first_progress_repeats: int,
    repeats: int,
) -> dict[str, Any]:
    """Client-level latency with 1 and `many` tasks; trait latency with 1 widget, with `many` tasks of which
    `watched` have a widget, and with `many` widgets (each paced run `repeats` times on the same tasks); then
    time to first progress."""
    client = [
        await to_task_update(server, 1, client_events[0], client_rates[0], repeats),
        await to_task_update(server, many, client_events[1], client_rates[1], repeats),
    ]
    runs = [(1, 1), (watched, many), (many, many)]  # (widgets, tasks)
    async with Kernel(server.base_url, server.api_key) as kernel:
        trait = [
            await kernel.call(f"in_kernel.trait_latency({widgets}, {events}, {rate}, {repeats}, tasks={tasks})")
            for (widgets, tasks), events, rate in zip(runs, trait_events, trait_rates, strict=True)
        ]
    return {
        "to_update": client,
        "to_trait": trait,
        "first_progress": await first_progress(server, first_progress_repeats),
    }
