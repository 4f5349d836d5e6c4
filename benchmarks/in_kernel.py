"""What runs inside the benchmark's Jupyter kernel (see kernel.py): GenerationWidgets made as in a notebook
(no client given: the kernel's shared default client, configured from CONDUIT_*), on the kernel's own loop.

Each coroutine returns a JSON-able dict; kernel.py prints it for the harness, which reads IOPub meanwhile.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import time
import tracemalloc
from typing import Any, Final

import httpx

from benchmarks.bench_routes import BURST_ROUTE, PACED_ROUTE, STAMP_PREFIX, STATS_ROUTE
from benchmarks.jitter import Jitter
from benchmarks.latency import follow_hanging_tasks
from benchmarks.stats import latency_ms, percentile
from conduit_widget import GenerationWidget
from conduit_widget.client.models import TaskUpdate
from conduit_widget.client.pool import POOL
from conduit_widget.shared_client import default_client
from conduit_widget.widget import UPDATE_INTERVAL

HANG_MODEL: Final = "test-hang"
SETTLED_PROGRESS: Final = 40  # test-hang's last step before it stops (44%) is past this
_live: list[GenerationWidget] = []  # prepare_load's widgets, for load()


def _http() -> httpx.AsyncClient:
    key = os.environ["CONDUIT_API_KEY"]
    return httpx.AsyncClient(
        base_url=os.environ["CONDUIT_BASE_URL"], headers={"Authorization": f"Bearer {key}"}, timeout=600
    )


async def _post(route: str, body: dict[str, Any]) -> dict[str, Any]:
    async with _http() as http:
        return dict((await http.post(route, json=body)).raise_for_status().json())


async def _stats() -> dict[str, Any]:
    async with _http() as http:
        return dict((await http.get(STATS_ROUTE)).raise_for_status().json())


async def make_widgets(n: int, batch: int = 50, timeout: float = 300) -> list[GenerationWidget]:
    """`n` widgets on test-hang tasks, returned once every task has stopped at half way (no more events).

    Made `batch` at a time: a thousand made at once send a thousand creates at once, and past the HTTP
    pool's 100 connections and its 5 s wait some fail (PoolTimeout), which is not what is measured here."""
    widgets: list[GenerationWidget] = []
    async with asyncio.timeout(timeout):
        for start in range(0, n, batch):
            made = [GenerationWidget("bench", model=HANG_MODEL, size="64x64") for _ in range(min(batch, n - start))]
            widgets += made
            while not all(w.task is not None and w.task.progress >= SETTLED_PROGRESS for w in made):
                broken = [w for w in made if w.status in ("failed", "invalid")]
                if broken:
                    raise RuntimeError(f"a benchmark widget failed: {broken[0].error}")
                await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # the runner's last events before the hang, and their flushes
    return widgets


class _Seen:
    """Burst events delivered to task listeners: how many, the first and last at (monotonic), `all` at the end."""

    def __init__(self, expected: int) -> None:
        self.expected, self.n = expected, 0
        self.first = self.last = 0.0
        self.all = asyncio.Event()

    def update(self, update: TaskUpdate) -> None:
        if (update.message or "").startswith("burst"):
            now = time.monotonic()
            self.first = self.first or now
            self.last = now
            self.n += 1
            if self.n >= self.expected:
                self.all.set()


def _close(widgets: list[GenerationWidget]) -> None:
    for w in widgets:
        w.close()


def _stamp(message: object) -> int | None:
    if isinstance(message, str) and message.startswith(STAMP_PREFIX):
        return time.monotonic_ns() - int(message[len(STAMP_PREFIX) :])
    return None


async def trait_latency(widgets: int, count: int, rate: float, repeats: int = 1, tasks: int = 0) -> dict[str, Any]:
    """Server publishes an event (its message carries ``time.monotonic_ns()``) to the widget's ``message``
    trait being set, observed by a traitlets observer; paced, spread evenly across the tasks. With `tasks`
    above `widgets`, the others are followed by the kernel's shared client with no widget (as a loop of
    ``generate_image`` calls would): they load the same connection, client and loop; only widgets are timed."""
    live = await make_widgets(widgets)
    headless = await follow_hanging_tasks(default_client(), tasks - widgets) if tasks > widgets else []
    runs: list[list[int]] = []

    def on_message(change: dict[str, Any]) -> None:
        latency = _stamp(change["new"])
        if latency is not None:
            runs[-1].append(latency)

    for w in live:
        w.observe(on_message, names="message")
    ids = _spread([w.task.id for w in live if w.task is not None], [t.id for t in headless])
    sent = 0
    switches = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw  # the kernel descheduled for other work
    # A collection stops everything, and so does the machine giving the CPU to someone else: the two likely
    # causes of a slow outlier, both counted.
    async with Jitter() as jitter:
        with _GcPauses() as pauses:
            for _ in range(repeats):
                runs.append([])
                sent += (await _post(PACED_ROUTE, {"task_ids": ids, "count": count, "rate": rate}))["sent"]
                await asyncio.sleep(3 * UPDATE_INTERVAL)  # the last events' flushes
    _close(live)
    for task in headless:
        default_client().forget(task)
    return {
        "widgets": widgets,
        "tasks": len(ids),
        "sent": sent,
        "timed": sent * widgets // len(ids),  # the events that reached a widget
        "rate": rate,
        "repeats": repeats,
        "to_trait_ms": latency_ms(runs),
        "gc": pauses.summary(),
        "preempted": resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw - switches,
        "machine_noise": jitter.summary,
    }


def _spread(timed: list[str], others: list[str]) -> list[str]:
    """`timed` spaced evenly among `others`, so that the paced route's round robin reaches each in turn."""
    ids = list(others)
    step = (len(others) + len(timed)) / len(timed)
    for i, task_id in enumerate(timed):
        ids.insert(int(i * step), task_id)
    return ids


class _GcPauses:
    """Garbage collections while in the block: how many, and the longest pause, in ms."""

    def __init__(self) -> None:
        self._started = 0.0
        self.pauses: list[float] = []

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)

    def __enter__(self) -> _GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> dict[str, float]:
        return {"collections": len(self.pauses), "max_ms": round(max(self.pauses, default=0.0) * 1e3, 3)}


async def burst_messages(events: int) -> dict[str, Any]:
    """One widget under a burst of `events` progress events at full speed: the harness counts its IOPub
    messages in [first, last]; the final state must be the last event's."""
    [w] = await make_widgets(1)
    assert w.task is not None
    seen = _Seen(events)
    w.task.on_update(seen.update)
    cpu = time.process_time()
    await _post(BURST_ROUTE, {"task_id": w.task.id, "count": events, "per_frame": 1})
    await asyncio.wait_for(seen.all.wait(), 120)
    cpu = time.process_time() - cpu
    await asyncio.sleep(3 * UPDATE_INTERVAL)  # the coalesced last update goes out
    result = {
        "comm_id": w.comm.comm_id,
        "events": events,
        "received": seen.n,
        "first": seen.first,
        "last": seen.last,
        "kernel_cpu_us_per_event": round(cpu / max(1, seen.n) * 1e6, 3),
        "final_message": w.message,
        "final_progress": w.progress,
        "expected_message": f"burst {events - 1}",
        "expected_progress": (events - 1) * 99 // events,
    }
    _close([w])
    return result


async def widget_cpu(events: int, flushes: int) -> dict[str, Any]:
    """CPU time of the widget layer alone: taking an update while a flush is pending (most events under a
    burst), and one flush (five traits in one comm message, sent through the real kernel's IOPub)."""
    w = GenerationWidget("bench", auto_start=False)
    updates = [
        TaskUpdate("cpu", "image", "processing", i * 99 // events, message=f"burst {i}", elapsed_seconds=i / 1000)
        for i in range(events)
    ]
    gc.collect()
    w._progress.last_sent = time.monotonic()  # as just after a flush: later updates wait for the timer
    started = time.process_time()
    for update in updates:
        w._on_update(update)
    take = (time.process_time() - started) / events
    w._progress.drop()
    started = time.process_time()
    for update in updates[:flushes]:
        w._progress.pending = update
        w._progress.flush()
    flush = (time.process_time() - started) / flushes
    w.close()
    return {"take_update_us": round(take * 1e6, 3), "flush_us": round(flush * 1e6, 3)}


async def widget_memory(n: int) -> dict[str, Any]:
    """Python memory per live widget following a task (tracemalloc, after a collection)."""
    _close(await make_widgets(2))  # first-use costs (imports, the client, its connection) out of the count
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    live = await make_widgets(n)
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    _close(live)
    return {"widgets": n, "bytes_per_widget": round(used / n)}


async def prepare_load(n: int) -> dict[str, Any]:
    """`n` widgets for load(): how many hub links the kernel holds, and connections the server sees."""
    _live[:] = await make_widgets(n)
    stats = await _stats()
    return {
        "widgets": n,
        "pool_links": len(POOL.links()),
        "server_connections": stats["connections"],
        "comm_ids": [w.comm.comm_id for w in _live],
    }


async def load(events_per_widget: int, probe_interval: float = 0.005) -> dict[str, Any]:
    """Every prepare_load widget at full event rate (one burst, round-robin over their tasks), while a probe
    coroutine measures how late the loop runs it: a cell's code waits about that long to start."""
    widgets = list(_live)
    ids = [w.task.id for w in widgets if w.task is not None]
    total = events_per_widget * len(ids)
    seen = _Seen(total)
    for w in widgets:
        assert w.task is not None
        w.task.on_update(seen.update)
    lags: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        while not stop.is_set():
            started = time.monotonic()
            await asyncio.sleep(probe_interval)
            lags.append(time.monotonic() - started - probe_interval)

    prober = asyncio.create_task(probe())
    cpu = time.process_time()
    await _post(BURST_ROUTE, {"task_ids": ids, "count": total, "per_frame": 1})
    await asyncio.wait_for(seen.all.wait(), 300)
    cpu = time.process_time() - cpu
    stop.set()
    await prober
    await asyncio.sleep(3 * UPDATE_INTERVAL)
    exact = 0
    for j, w in enumerate(widgets):
        last = j + len(ids) * (events_per_widget - 1)  # the last event index sent to widget j's task
        exact += w.message == f"burst {last}" and w.progress == last * 99 // total
    _close(widgets)
    _live.clear()
    return {
        "widgets": len(ids),
        "events": total,
        "received": seen.n,
        "first": seen.first,
        "last": seen.last,
        "kernel_cpu_us_per_event": round(cpu / max(1, seen.n) * 1e6, 3),
        "loop_lag_ms": {
            "p50": round(percentile(lags, 50) * 1e3, 3) if lags else 0.0,
            "p99": round(percentile(lags, 99) * 1e3, 3) if lags else 0.0,
            "max": round(max(lags) * 1e3, 3) if lags else 0.0,
        },
        "final_state_exact": exact,
    }
