"""How late a process that only sleeps wakes up, and how much CPU time the hypervisor took (steal): the
machine's own noise, as a reference for a latency measured at the same time (on a shared 2-CPU VM a tail of a
few ms can be nobody's code).

    async with Jitter() as jitter: ...   # then jitter.summary: p50, p99, max lateness in ms; steal shares

runs ``python -m benchmarks.jitter`` beside the block; it sleeps 1 ms at a time until its stdin closes, then
prints how late each wake-up was, and the steal share of all CPU time (``/proc/stat``, Linux) over the whole
block and in its worst second.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from benchmarks.stats import percentile

PERIOD: Final = 0.001
REPO: Final = Path(__file__).resolve().parents[1]


class Jitter:
    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self.summary: dict[str, Any] = {}

    async def __aenter__(self) -> Self:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.jitter",
            cwd=REPO,  # a kernel runs elsewhere
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        await self._process.stdout.readline()  # "ready": it is sleeping
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._process is not None
        out, _ = await self._process.communicate(b"")
        self.summary = json.loads(out or b"{}")


def _cpu_ticks() -> tuple[int, int] | None:
    """(steal, total) ticks of all CPUs so far, or None where there is no /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(f) for f in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user and nice
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def _share(start: tuple[int, int], end: tuple[int, int]) -> float:
    return (end[0] - start[0]) / (end[1] - start[1]) if end[1] > start[1] else 0.0


def _measure() -> dict[str, Any]:
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    print("ready", flush=True)
    late: list[float] = []
    first = last = _cpu_ticks()
    last_read, worst = time.monotonic(), 0.0
    while not stop.is_set():
        started = time.monotonic()
        time.sleep(PERIOD)
        woke = time.monotonic()
        late.append(woke - started - PERIOD)
        if last is not None and woke - last_read >= 1.0:
            now = _cpu_ticks()
            if now is not None:
                worst = max(worst, _share(last, now))
                last, last_read = now, woke
    if not late:
        return {"n": 0}
    summary: dict[str, Any] = {
        "n": len(late),
        "p50": round(percentile(late, 50) * 1e3, 3),
        "p99": round(percentile(late, 99) * 1e3, 3),
        "max": round(max(late) * 1e3, 3),
    }
    end = _cpu_ticks()
    if first is not None and end is not None:
        summary["steal"] = round(_share(first, end), 3)
        summary["steal_worst_second"] = round(worst, 3)
    return summary


if __name__ == "__main__":
    print(json.dumps(_measure()))
