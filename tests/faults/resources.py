"""What a process holds, counted the same way in pytest and inside a kernel, for the load tests.

Nothing here imports pytest: a kernel imports this module to measure itself. Every count is taken after a full
``gc.collect()``, so what is counted is what is still referenced, not what is waiting to be collected.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
from collections import Counter
from typing import Any

from conduit_widget.client import ConduitClient
from conduit_widget.client.models import TaskEvent, TaskResult, TaskUpdate
from conduit_widget.client.pool import POOL
from conduit_widget.client.state import TaskState
from conduit_widget.client.task import Task, _Updates

# The client's own per-task types: each one alive after the tasks ended and were dropped would be a leak.
PER_TASK_TYPES = (TaskState, TaskUpdate, TaskEvent, TaskResult, _Updates)


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


_MALLINFO2 = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2]


def malloc_mib() -> float | None:
    """What C malloc has handed out and not got back (glibc 2.33+): Python's larger objects (media bytes, long
    strings) live there, where neither the gc nor the interpreter's block count sees them."""
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return round((info.uordblks + info.hblkhd) / 2**20, 1)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd")) - 1  # not the one listdir itself has open


def http_pool(client: ConduitClient) -> int:
    """Connections the client's HTTP pools hold open: up to httpx's keep-alive limit (20) stay between calls."""
    rest = client._rest
    if rest is None:
        return 0
    pools = (getattr(http._transport, "_pool", None) for http in (rest._http, rest._plain) if http is not None)
    return sum(len(getattr(pool, "connections", ())) for pool in pools)


def snapshot(client: ConduitClient | None = None, extra_types: dict[str, type] | None = None) -> dict[str, float]:
    """Memory, handles and the client's registries, as ``{name: count}`` (names as in LoadFigures)."""
    gc.collect()
    figures: dict[str, float] = {
        "rss_mib": round(rss_mib(), 1),
        "py_blocks": sys.getallocatedblocks(),  # the interpreter's small-object allocations, counted for free
    }
    malloc = malloc_mib()
    if malloc is not None:
        figures["malloc_mib"] = malloc
    if tracemalloc.is_tracing():
        figures["traced_mib"] = round(tracemalloc.get_traced_memory()[0] / 2**20, 2)
    objects = gc.get_objects()
    kinds = Counter(type(o) for o in objects)
    figures["gc_objects"] = len(objects)
    del objects
    links = POOL.links()
    figures.update(
        fds=open_fds(),
        # The loop's default executor (to_thread: thumbnails, renders, the CA bundle) keeps up to min(32, CPUs + 4)
        # idle workers for reuse, started as concurrency first needs them: counted apart, bounded, not a leak.
        threads=sum(not t.name.startswith("asyncio_") for t in threading.enumerate()),
        pool_threads=sum(t.name.startswith("asyncio_") for t in threading.enumerate()),
        asyncio_tasks=len(asyncio.all_tasks()),
        hub_links=len(links),
        hub_connections=sum(link.connected for link in links),
        hub_connects=sum(link.connections_made for link in links),  # since each link opened: reconnects show
        subscriptions=sum(link.stats()["subscriptions"] for link in links),
        link_listeners=sum(link.stats()["listeners"] for link in links),
        invocations=sum(link.stats()["invocations"] for link in links),
        task_objects=kinds[Task],
        per_task_objects=sum(kinds[t] for t in PER_TASK_TYPES),
    )
    if client is not None:
        stats = client.stats()
        figures.update(
            http_pool=http_pool(client),
            open_tasks=stats["open_tasks"],
            client_listeners=stats["listeners"],
            client_jobs=stats["jobs"],
        )
    for name, cls in (extra_types or {}).items():
        figures[name] = sum(count for kind, count in kinds.items() if issubclass(kind, cls))
    return figures


def kernel_snapshot() -> dict[str, Any]:
    """In a kernel: the snapshot above, with the default client's registries and the widgets' comms."""
    from comm import get_comm_manager
    from ipywidgets.widgets import widget as ipywidget

    from conduit_widget import GenerationWidget
    from conduit_widget.shared_client import _clients

    figures = snapshot(_clients.get(), {"widget_objects": GenerationWidget})
    figures["widget_registry"] = len(ipywidget._instances)
    figures["comms"] = len(get_comm_manager().comms)
    return figures


def emit(label: str, figures: dict[str, Any]) -> None:
    """Print figures for the test driving the kernel to read from the cell's output."""
    print("LOAD " + json.dumps({"label": label, "figures": figures}), flush=True)


async def widget_round(count: int, tag: str) -> dict[str, Any]:
    """In a kernel: display `count` widgets (every tenth a video), wait for all, close them all; what it took."""
    from IPython.display import display

    from conduit_widget import GenerationWidget

    started = time.monotonic()
    widgets = [
        GenerationWidget(f"{tag} {i}", size="64x64", **({"kind": "video", "duration": 1.0} if i % 10 == 0 else {}))
        for i in range(count)
    ]
    for widget in widgets:
        display(widget)
    results = await asyncio.gather(*(widget.wait(120) for widget in widgets))
    links = POOL.links()
    figures = {
        "seconds": round(time.monotonic() - started, 1),
        "statuses": dict(Counter(result.status for result in results)),
        "videos": sum(widget.kind == "video" for widget in widgets),
        "clients": len({id(widget._client) for widget in widgets}),
        "hub_links": len(links),
        "connections_made": sum(link.connections_made for link in links),
    }
    for widget in widgets:
        widget.close()
    del widgets, results
    await asyncio.sleep(0.2)  # the unsubscribes the closes sent
    return figures
