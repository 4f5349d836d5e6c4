"""Messages to the browser and the widget layer's cost, measured in a real Jupyter kernel (kernel.py).

- One widget under a burst of progress events at full speed: comm messages per second as they reach IOPub
  (should be about ten), and the final state exact, both in the kernel and as the browser would have merged it.
- The widget layer's CPU time per progress event: taking an update while a flush is pending, plus a flush
  (one comm message through the real IOPub) as often as the burst above caused one.
- 50 widgets at full event rate (one burst round-robin over their tasks): a probe coroutine's lateness on the
  kernel's loop, and cells sent meanwhile, timed from request to reply ("a cell still runs within 100 ms");
  comm messages per second per widget; hub connections the 50 widgets use (one per hub).
- Python memory per live widget (tracemalloc).
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

from benchmarks.kernel import CommUpdate, Kernel
from benchmarks.server_process import ServerProcess
from benchmarks.stats import percentile
from conduit_widget.widget import UPDATE_INTERVAL


def _between(updates: list[CommUpdate], comm_id: str, first: float, last: float) -> list[CommUpdate]:
    """A widget's update messages from the first burst event until its last one was flushed."""
    return [u for u in updates if u.comm_id == comm_id and first <= u.at <= last + UPDATE_INTERVAL + 0.05]


def _browser_state(updates: list[CommUpdate], comm_id: str) -> dict[str, Any]:
    """What a front end holding this widget would show: every update merged in order."""
    state: dict[str, Any] = {}
    for u in updates:
        if u.comm_id == comm_id:
            state.update(u.state)
    return state


async def _burst(kernel: Kernel, events: int, repeats: int = 3) -> dict[str, Any]:
    """`repeats` bursts of `events` at one fresh widget each. The rate is the cadence of its messages, (n - 1)
    over the time from the first to the last: a burst now lasts about 0.3 s, in which a count over the burst's
    length can only come out as 3 or 4 messages, 7.7 or 10.3 a second, whatever the widget does."""
    runs = []
    for _ in range(repeats):
        burst = await kernel.call(f"in_kernel.burst_messages({events})")
        sent = _between(kernel.updates, burst["comm_id"], burst["first"], burst["last"])
        span = sent[-1].at - sent[0].at if len(sent) > 1 else 0.0
        shown = _browser_state(kernel.updates, burst["comm_id"])
        runs.append(
            {
                "received": burst["received"],
                "seconds": burst["last"] - burst["first"],
                "messages": len(sent),
                "messages_per_s": (len(sent) - 1) / span if span > 0 else 0.0,
                "exact_kernel": burst["final_message"] == burst["expected_message"]
                and burst["final_progress"] == burst["expected_progress"],
                "exact_browser": shown.get("message") == burst["expected_message"]
                and shown.get("progress") == burst["expected_progress"],
                "kernel_cpu_us_per_event": burst["kernel_cpu_us_per_event"],
            }
        )
    seconds = statistics.median(r["seconds"] for r in runs)
    return {
        "events": events,
        "repeats": repeats,
        "received": sum(r["received"] for r in runs),
        "seconds": round(seconds, 3),
        "events_per_s": round(events / seconds) if seconds > 0 else 0,
        "messages": sum(r["messages"] for r in runs),
        "messages_each": [r["messages"] for r in runs],
        "messages_per_s": round(statistics.median(r["messages_per_s"] for r in runs), 2),
        "final_state_exact_kernel": all(r["exact_kernel"] for r in runs),
        "final_state_exact_browser": all(r["exact_browser"] for r in runs),
        "kernel_cpu_us_per_event": round(statistics.median(r["kernel_cpu_us_per_event"] for r in runs), 3),
    }


async def _load(kernel: Kernel, widgets: int, events_per_widget: int, cell_every: float) -> dict[str, Any]:
    prepared = await kernel.call(f"in_kernel.prepare_load({widgets})")
    idle = [(await kernel.run("pass")).seconds for _ in range(5)]
    await kernel.run(f"__load = asyncio.ensure_future(in_kernel.load({events_per_widget}))")
    cells: list[float] = []
    while True:  # the last cell, the one that finds the load over, was sent while it ran too
        reply = await kernel.run("print(__load.done())")
        cells.append(reply.seconds)
        if "True" in reply.output:
            break
        await asyncio.sleep(cell_every)
    result = await kernel.call("__load")
    seconds = result["last"] - result["first"]
    per_widget = [
        len(_between(kernel.updates, comm_id, result["first"], result["last"])) / (seconds + UPDATE_INTERVAL)
        for comm_id in prepared["comm_ids"]
    ]
    return {
        "widgets": widgets,
        "events": result["events"],
        "received": result["received"],
        "seconds": round(seconds, 3),
        "events_per_s": round(result["received"] / seconds) if seconds > 0 else 0,
        "messages_per_s_per_widget": {
            "median": round(statistics.median(per_widget), 2),
            "max": round(max(per_widget), 2),
        },
        "final_state_exact": f"{result['final_state_exact']}/{widgets}",
        "kernel_cpu_us_per_event": result["kernel_cpu_us_per_event"],
        "loop_lag_ms": result["loop_lag_ms"],
        "cell_ms": {
            "n": len(cells),
            "p50": round(percentile(cells, 50) * 1e3, 2) if cells else 0.0,
            "max": round(max(cells) * 1e3, 2) if cells else 0.0,
        },
        "idle_cell_ms": round(statistics.median(idle) * 1e3, 2),
        "hub_links_in_kernel": prepared["pool_links"],
        "server_hub_connections": prepared["server_connections"],
    }


async def measure(
    server: ServerProcess,
    *,
    burst_events: int,
    cpu_events: int,
    flushes: int,
    load_widgets: int,
    load_events_per_widget: int,
    memory_widgets: int,
    cell_every: float = 0.05,
) -> dict[str, Any]:
    async with Kernel(server.base_url, server.api_key) as kernel:
        burst = await _burst(kernel, burst_events)
        cpu = await kernel.call(f"in_kernel.widget_cpu({cpu_events}, {flushes})")
        flushes_per_event = burst["messages"] / max(1, burst["received"])
        cpu["flushes_per_event"] = round(flushes_per_event, 5)
        cpu["widget_us_per_event"] = round(cpu["take_update_us"] + cpu["flush_us"] * flushes_per_event, 3)
        load = await _load(kernel, load_widgets, load_events_per_widget, cell_every)
        memory = await kernel.call(f"in_kernel.widget_memory({memory_widgets})")
    return {"burst": burst, "widget_cpu": cpu, "load": load, "memory": memory}
