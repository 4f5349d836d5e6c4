"""How long the event loop was blocked: a ticker that sleeps a few milliseconds at a time and records how late
each wake-up was. A call that blocks the loop (a synchronous download, a long computation) delays the next tick
by as long as it blocked; calls that only await leave every tick on time, give or take the machine's noise.

The machine's noise is measured in the same run and taken out: on a loaded machine (four browser suites on two
cores) the kernel can leave the loop's thread runnable but without a CPU for over 100 ms, which delays a tick as a
block would, though no call held the loop. Linux counts exactly that wait per thread (`run_delay` in
/proc/thread-self/schedstat), so each tick's lateness is reduced by the wait that accrued during it. Time the
thread spent running, or sleeping in a blocking call, is not run_delay: a real block is still seen in full.

Used by the loop-stall tests here and, imported inside a real kernel, by tests/widget/test_in_a_kernel.py.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import TracebackType
from typing import Final

TICK: Final = 0.005  # seconds between wake-ups: fine enough to see a 100 ms stall many times over
LIMIT: Final = 0.1  # the longest a public call may hold the loop (issue 17)
SCHEDSTAT: Final = Path("/proc/thread-self/schedstat")  # cpu time, run_delay, timeslices (ns, ns, count)


def waited_for_cpu() -> float:
    """Seconds the calling thread has spent runnable but not running, since it started (0 where unknown)."""
    try:
        return int(SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class LoopStalls:
    """``async with LoopStalls() as stalls: await call()``, then ``stalls.worst``: the longest the loop was held,
    the machine's own scheduling delays taken out (``worst_raw`` keeps them in, ``waited_for_cpu`` is their sum)."""

    def __init__(self, tick: float = TICK) -> None:
        self.tick = tick
        self.worst = 0.0
        self.worst_raw = 0.0
        self.waited_for_cpu = 0.0
        self.ticks = 0
        self._ticker: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopStalls:
        self._ticker = asyncio.get_running_loop().create_task(self._run())
        await asyncio.sleep(0)  # the first tick is taken before the call under watch runs
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await asyncio.sleep(self.tick)  # a stall at the very end shows in one more wake-up
        assert self._ticker is not None
        self._ticker.cancel()
        await asyncio.gather(self._ticker, return_exceptions=True)

    async def _run(self) -> None:
        # Runs on the loop's thread, so /proc/thread-self is the loop's.
        while True:
            asked, waited = time.perf_counter(), waited_for_cpu()
            await asyncio.sleep(self.tick)
            late = time.perf_counter() - asked - self.tick
            machine = waited_for_cpu() - waited
            self.waited_for_cpu += machine
            self.worst_raw = max(self.worst_raw, late)
            self.worst = max(self.worst, late - machine)
            self.ticks += 1
