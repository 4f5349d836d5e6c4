"""What the fault scenarios share: the client settings, a watch on one client's events, and the counting.

Moved out of ``test_scenarios.py`` unchanged, so that every scenario file measures the same way.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from conduit_widget import Backoff, ConduitClient
from conduit_widget.client.task import Task
from conduit_widget.server import LocalConduit
from tests.faults.conftest import Tally, record
from tests.faults.proxy import FaultProxy

SOAK = os.environ.get("CONDUIT_SOAK") == "1"
FAST: dict[str, Any] = {"backoff": Backoff(initial=0.05, maximum=0.5), "poll_interval": 0.5, "connect_timeout": 1.0}
TERMINAL = ("completed", "failed", "cancelled", "timedout")
RECOVERY_LIMIT = 5.0  # asserted; the target is 2 s, reported in the table


def port_of(server: LocalConduit) -> int:
    return int(server.base_url.rsplit(":", 1)[1].split("/", 1)[0])


class Watch:
    """Listeners on one client: terminal events per task id, and when the hub link went down and came up."""

    def __init__(self, client: ConduitClient) -> None:
        self.client = client
        self.ends: Counter[str] = Counter()
        self.ups: list[float] = []
        self.downs: list[float] = []
        self._changed = asyncio.Event()
        for name in TERMINAL:
            client.on(name, lambda result: self.ends.update([result.task_id]))
        for name in ("connected", "reconnected"):
            client.on(name, lambda event: self._mark(self.ups))
        for name in ("reconnecting", "disconnected"):
            client.on(name, lambda event: self._mark(self.downs))

    def duplicated(self, tasks: Iterable[Task]) -> int:
        """Terminal events heard beyond the first, over `tasks`."""
        return sum(self.ends[t.id] - 1 for t in tasks if self.ends[t.id] > 1)

    def _mark(self, times: list[float]) -> None:
        times.append(time.monotonic())
        self._changed.set()

    async def _after(self, times: list[float], since: float, timeout: float) -> float:
        """Seconds from `since` to the first mark after it, waiting up to `timeout` for one."""
        async with asyncio.timeout(timeout):
            while not any(t > since for t in times):
                self._changed.clear()
                await self._changed.wait()
        return min(t for t in times if t > since) - since

    async def up_after(self, since: float, timeout: float = 30) -> float:
        return await self._after(self.ups, since, timeout)

    async def down_after(self, since: float, timeout: float = 30) -> float:
        return await self._after(self.downs, since, timeout)


async def settle(name: str, watch: Watch, tasks: Iterable[Task], expected_failures: set[str], timeout: float) -> Tally:
    """Wait for every task to end (up to `timeout`), then count; the tally is recorded for the table."""
    tasks = list(tasks)
    waiters = [asyncio.ensure_future(t.wait()) for t in tasks]
    _, pending = await asyncio.wait(waiters, timeout=timeout)
    for waiter in pending:
        waiter.cancel()
    return Tally(
        scenario=name,
        started=len(tasks),
        completed=sum(t.status == "completed" and t.id not in expected_failures for t in tasks),
        failed_as_expected=sum(t.status == "failed" and t.id in expected_failures for t in tasks),
        unexpected=sum(
            t.status not in ("completed", "failed") or (t.status == "failed") != (t.id in expected_failures)
            for t in tasks
            if t.done
        ),
        lost=sum(not t.done for t in tasks),
        duplicated=watch.duplicated(tasks),
        unreported=sum(t.done and watch.ends[t.id] == 0 for t in tasks),
    )


def check(tally: Tally) -> None:
    record(tally)
    assert tally.started > 0
    assert tally.lost == 0, f"{tally.lost} tasks never reached a terminal state: {tally}"
    assert tally.duplicated == 0, f"{tally.duplicated} terminal events delivered twice: {tally}"
    assert tally.unexpected == 0, f"tasks ended other than expected: {tally}"
    assert tally.unreported == 0, f"tasks ended without a terminal event to the listeners: {tally}"
    assert tally.recovery, "no recovery was measured: the fault did not bite"
    assert max(tally.recovery) < RECOVERY_LIMIT, f"recovery took {max(tally.recovery):.2f} s: {tally}"


async def last_cut_and_back(proxy: FaultProxy, watch: Watch, tally: Tally, tasks: Iterable[Task]) -> None:
    """One more cut once every task ended: the reconnect re-reads open tasks, so a late duplicate would show in
    the tally's count, taken again here."""
    since = time.monotonic()
    proxy.cut()
    await watch.up_after(since, 10)
    tally.duplicated = watch.duplicated(tasks)
