"""How long `import conduit_widget` takes in a fresh interpreter, against `import ipywidgets` in the same run.

Issue 18's target: the median of 7 runs no more than 1.5x that of ipywidgets, which every Jupyter user has loaded
anyway. The two alternate, run by run, so that a busy moment of the machine falls on both. A speed goal, so a
benchmark and not a test; tests/test_lean_import.py asserts what is imported instead.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from typing import Any

TARGET_RATIO = 1.5
MODULES = ("conduit_widget", "ipywidgets")


def _seconds(module: str) -> float:
    # A whole interpreter's start-up and the import, as `python -c "import X"` costs a user: what it adds over
    # the bare interpreter is what is compared, so both are measured from the same start-up.
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=dict(os.environ))
    return time.perf_counter() - started


def measure_now(runs: int) -> dict[str, Any]:
    bare = statistics.median(_seconds("sys") for _ in range(runs))
    times: dict[str, list[float]] = {m: [] for m in MODULES}
    for _ in range(runs):
        for module in MODULES:
            times[module].append(_seconds(module))
    medians = {m: statistics.median(t) for m, t in times.items()}
    ratio = (medians["conduit_widget"] - bare) / (medians["ipywidgets"] - bare)
    return {
        "runs": runs,
        "interpreter_s": bare,
        "median_s": medians,
        "seconds": times,
        "ratio": ratio,
        "ratio_with_interpreter": medians["conduit_widget"] / medians["ipywidgets"],
        "target_ratio": TARGET_RATIO,
        "met": ratio <= TARGET_RATIO,
    }


async def measure(*, runs: int) -> dict[str, Any]:
    return await asyncio.to_thread(measure_now, runs)
