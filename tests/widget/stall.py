"""How long the event loop was blocked: a ticker that sleeps a few milliseconds at a time and records how late
each wake-up was. A call that blocks the loop (a synchronous download, a long computation) delays the next tick
by as long as it blocked; calls that only await leave every tick on time, give or take the machine's noise.

Used by the loop-stall tests here and, imported inside a real kernel, by tests/widget/test_in_a_kernel.py.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Final

TICK: Final = 0.005  # seconds between wake-ups: fine enough to see a 100 ms stall many times over
LIMIT: Final = 0.1  # the longest a public call may hold the loop (issue 17)


class LoopStalls:
    """``async with LoopStalls() as stalls: await call()``, then ``stalls.worst``: the longest the loop was held."""

    def __init__(self, tick: float = TICK) -> None:
        self.tick = tick
        self.worst = 0.0
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
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, time.perf_counter() - asked - self.tick)
            self.ticks += 1
