"""Python memory per task a ConduitClient follows, with 1,000 of them (tracemalloc, after a collection).

The client is started and connected, and a few tasks have come and gone, before tracing starts, so that
first-use costs (imports, the hub link, connection pools) are not charged to the tasks; the 1,000 tasks
are test-hang ones, stopped at half way and still followed when memory is read.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

from benchmarks.latency import follow_hanging_tasks
from benchmarks.server_process import ServerProcess
from conduit_widget.client import ConduitClient


async def measure(server: ServerProcess, *, tasks: int) -> dict[str, Any]:
    async with ConduitClient(server.base_url, server.api_key, watchdog_interval=3600) as client:
        warm = await follow_hanging_tasks(client, 5)
        for task in warm:
            client.forget(task)
        del warm
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            followed = await follow_hanging_tasks(client, tasks)
            gc.collect()
            used = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
        assert len(followed) == tasks
    return {"tasks": tasks, "bytes_per_task": round(used / tasks)}
