"""`make bench` runs: benchmarks/run.py --quick, at a size that proves every section works rather than measures.

Needs no network: the official client comes from js/node_modules (as in tests/server); signalrcore lives in
a venv that only a full `make bench` makes (from PyPI), so without it its rows may be listed as not run.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(240)
def test_the_benchmark_runs_every_section_and_reports_positive_figures(tmp_path):
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    r = json.loads(out.read_text())
    assert {"meta", "throughput", "latency", "browser", "footprint", "capacity", "targets"} <= r.keys()
    assert "| section | measure | value |" in result.stdout

    throughput = r["throughput"]
    rows = {(row["client"], row["protocol"], row["per_frame"]): row for row in throughput["rows"]}
    clients = ["raw", "bare", "ours", "official"]
    if "signalrcore" not in throughput["unavailable"]:
        clients.append("signalrcore")
    for client, proto, per_frame in itertools.product(clients, ("json", "messagepack"), (1, 100)):
        row = rows[(client, proto, per_frame)]
        assert row["events_per_s"]["median"] > 0 and row["complete"], row
    assert all(ratio["ours_to_bare"] > 0 and ratio["ours_to_official"] > 0 for ratio in throughput["ratios"])
    for ratio in throughput["ratios"]:  # the verdict's ratio, repeat by repeat
        assert len(ratio["ours_to_bare_pairs"]) == throughput["repeats"] and ratio["ours_to_bare_paired"] > 0, ratio

    latency = r["latency"]
    for entry in latency["to_update"]:
        assert entry["to_update_ms"]["n"] == entry["sent"] and entry["to_update_ms"]["p50"] > 0, entry
    assert [(e["widgets"], e["tasks"]) for e in latency["to_trait"]] == [(1, 1), (5, 20), (20, 20)]
    for entry in latency["to_trait"]:
        assert 0 < entry["to_trait_ms"]["n"] <= entry["timed"] and entry["to_trait_ms"]["p50"] > 0, entry
        noise = entry["machine_noise"]  # the machine's own meanwhile
        assert noise["n"] > 0 and noise["max"] >= noise["p99"] >= noise["p50"] >= 0, noise
        if Path("/proc/stat").exists():
            assert 0 <= noise["steal"] <= 1 and 0 <= noise["steal_worst_second"] <= 1, noise
    assert latency["first_progress"]["first_progress_ms"]["median"] > 0
    assert latency["first_progress"]["rest_create_ms"]["median"] > 0

    browser = r["browser"]
    burst = browser["burst"]
    assert burst["messages"] >= burst["repeats"] and burst["received"] == burst["events"] * burst["repeats"]
    assert burst["messages_per_s"] > 0
    assert browser["burst"]["final_state_exact_kernel"] and browser["burst"]["final_state_exact_browser"]
    assert browser["widget_cpu"]["take_update_us"] > 0 and browser["widget_cpu"]["flush_us"] > 0
    load = browser["load"]
    assert load["received"] == load["events"] and load["cell_ms"]["n"] >= 1 and load["cell_ms"]["max"] > 0
    assert load["loop_lag_ms"]["max"] > 0 and load["messages_per_s_per_widget"]["median"] > 0
    assert load["final_state_exact"] == f"{load['widgets']}/{load['widgets']}"
    assert load["server_hub_connections"] == 1 and load["hub_links_in_kernel"] == 1
    assert browser["memory"]["bytes_per_widget"] > 0

    assert r["footprint"]["bytes_per_task"] > 0
    capacity = r["capacity"]
    tasks, fanout = capacity["tasks"], capacity["fanout"]
    assert tasks["completed"] == tasks["tasks"] and tasks["tasks_per_s"]["median"] > 0
    assert fanout["delivered"] == fanout["subscribers"] * fanout["events"]
    assert fanout["deliveries_per_s"]["median"] > 0

    assert r["targets"] and all(isinstance(t["ok"], bool) for t in r["targets"])
