"""How late a process that only sleeps wakes up: the machine's own scheduling noise, as a reference for a
latency measured at the same time (on a shared 2-CPU machine a tail of a few ms can be nobody's code).

    async with Jitter() as jitter: ...   # then jitter.summary: p50, p99, max lateness in ms

runs ``python -m benchmarks.jitter`` beside the block; it sleeps 1 ms at a time until its stdin closes, then
prints how late each wake-up was.
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


def _measure() -> dict[str, Any]:
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    print("ready", flush=True)
    late: list[float] = []
    while not stop.is_set():
        started = time.monotonic()
        time.sleep(PERIOD)
        late.append(time.monotonic() - started - PERIOD)
    if not late:
        return {"n": 0}
    return {
        "n": len(late),
        "p50": round(percentile(late, 50) * 1e3, 3),
        "p99": round(percentile(late, 99) * 1e3, 3),
        "max": round(max(late) * 1e3, 3),
    }


if __name__ == "__main__":
    print(json.dumps(_measure()))
