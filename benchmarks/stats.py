"""Repeated runs summed up: medians with their spread, and percentiles."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any, TypedDict


class Spread(TypedDict):
    median: float
    min: float
    max: float
    runs: list[float]


def spread(values: Sequence[float], digits: int = 3) -> Spread:
    runs = [round(v, digits) for v in values]
    return {"median": round(statistics.median(values), digits), "min": min(runs), "max": max(runs), "runs": runs}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank: a value that was really seen."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else 0.0


def latency_ms(runs: Sequence[Sequence[int]]) -> dict[str, Any]:
    """Latency samples in ns from repeated runs, in ms: p50 and p99 are the medians over the runs (one run
    hit by a stall elsewhere on a shared machine does not decide them), max the largest seen in any."""
    full = [run for run in runs if run]
    if not full:
        return {"n": 0, "p50": 0.0, "p99": 0.0, "max": 0.0, "p99_runs": []}
    p99s = [percentile(run, 99) / 1e6 for run in full]
    return {
        "n": sum(len(run) for run in full),
        "p50": round(statistics.median(percentile(run, 50) / 1e6 for run in full), 3),
        "p99": round(statistics.median(p99s), 3),
        "max": round(max(max(run) for run in full) / 1e6, 3),
        "p99_runs": [round(p, 3) for p in p99s],
    }
