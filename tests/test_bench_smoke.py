"""`make bench` runs: the hub throughput benchmark, at a size that proves it works rather than measures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_throughput_benchmark_runs_and_reports_every_case(tmp_path):
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "benchmarks/hub_throughput.py", "--events", "300", "--repeats", "1", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())
    assert {(r["case"], r["protocol"], r["per_frame"]) for r in rows} == {
        (case, proto, per_frame)
        for case in ("bare pysignalr", "conduit-widget client")
        for proto in ("json", "messagepack")
        for per_frame in (1, 100)
    }
    assert all(r["median_per_s"] > 0 for r in rows)
    assert "| conduit-widget client |" in result.stdout
