"""Collects each fault scenario's figures; at the end of a complete run, writes the table.

``tests/_artifacts/reliability.json`` is written after every run that recorded something (whatever ran);
``docs/reliability.md`` only on request (``make reliability``, which sets ``CONDUIT_WRITE_DOCS=1``), and then only
when every scenario and load test of ``tests/faults`` recorded its figures and no test failed: ``make test`` runs
the scenarios without touching the committed table, and a partial or failing run never leaves it half-filled.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "tests" / "_artifacts" / "reliability.json"
DOC = ROOT / "docs" / "reliability.md"
COMMAND = "make reliability"
SCENARIOS = (
    "cuts every 2 s",
    "network stall",
    "refused for 5 s",
    "down at start",
    "server killed and restarted",
    "corrupt frames",
    "REST 429 + Retry-After",
    "REST 500",
    "REST 502",
    "REST 503",
    "REST reset before the answer",
    "REST reset after the create",
    "REST reset after a video retry",
    "REST 502 on a video retry",
)


@dataclass
class Tally:
    scenario: str
    started: int = 0
    completed: int = 0
    failed_as_expected: int = 0
    unexpected: int = 0  # ended, but not as it should have (a completion expected to fail, or the reverse)
    lost: int = 0
    duplicated: int = 0
    unreported: int = 0  # ended without a terminal event reaching the listeners
    recovery: list[float] = field(default_factory=list)
    notes: str = ""

    @property
    def recovery_median(self) -> float | None:
        return statistics.median(self.recovery) if self.recovery else None

    @property
    def recovery_max(self) -> float | None:
        return max(self.recovery) if self.recovery else None


RESULTS: dict[str, Tally] = {}


@dataclass
class LoadFigures:
    """A load test's resource counts before the tasks and after they all ended (what must not grow).

    ``before``/``after`` map a resource's name (``rss_mib``, ``traced_mib``, ``fds``, ``asyncio_tasks``,
    ``threads``, ``subscriptions``, ``hub_links``, ``listeners``, ...) to its count."""

    scenario: str
    tasks: int
    widgets: int = 0
    seconds: float = 0.0
    before: dict[str, float] = field(default_factory=dict)
    after: dict[str, float] = field(default_factory=dict)
    notes: str = ""


LOADS: dict[str, LoadFigures] = {}
LOAD_TESTS = ("one client", "one kernel")  # what a load scenario's name starts with ("one client, round 1")
# The Load table's rows, in order, with what each resource is; a resource not named here is shown as is.
LOAD_LABELS = {
    "rss_mib": "RSS (MiB)",
    "traced_mib": "tracemalloc, traced (MiB)",
    "malloc_mib": "malloc in use (MiB)",
    "py_blocks": "Python allocations (blocks)",
    "gc_objects": "Python objects (gc)",
    "fds": "open files",
    "http_pool": "of which HTTP keep-alive",
    "threads": "threads (besides the executor pool)",
    "pool_threads": "executor pool threads (bounded)",
    "asyncio_tasks": "asyncio tasks",
    "hub_links": "hub links",
    "hub_connections": "hub connections",
    "server_connections": "hub connections, as the server counts",
    "hub_connects": "hub connections opened so far",
    "subscriptions": "hub subscriptions",
    "link_listeners": "hub link listeners",
    "invocations": "hub invocations waiting",
    "open_tasks": "client's open tasks",
    "client_listeners": "client listeners",
    "client_jobs": "client background jobs",
    "task_objects": "Task objects",
    "per_task_objects": "state, update, event, result objects",
    "widget_objects": "GenerationWidget objects",
    "widget_registry": "ipywidgets registry",
    "comms": "comms",
}


def record(tally: Tally) -> None:
    RESULTS[tally.scenario] = tally


def record_load(figures: LoadFigures) -> None:
    LOADS[figures.scenario] = figures


def _family(name: str) -> str:
    if name in SCENARIOS:  # the REST rows share their first word
        return name
    return next((s for s in SCENARIOS if name.startswith(s.split(" ")[0])), name)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _count(value: float | None, name: str = "") -> str:
    if value is None:
        return "-"
    if name.endswith("_mib"):
        return f"{value:,.1f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _change(load: LoadFigures, name: str) -> str:
    if name not in load.before and name not in load.after:
        return "-"
    return f"{_count(load.before.get(name), name)} → {_count(load.after.get(name), name)}"


def render_loads(loads: list[LoadFigures]) -> list[str]:
    """The Load section: a column per load scenario, a row per resource with its count before → after."""
    if not loads:
        return []
    seen = {name for load in loads for name in (*load.before, *load.after)}
    names = [n for n in LOAD_LABELS if n in seen] + sorted(seen - LOAD_LABELS.keys())
    lines = [
        "",
        "## Load",
        "",
        "Issue 6: 1,000 concurrent tasks over one client, and 50 widgets in one kernel. Each column counts what the",
        "process holds before its tasks (warmed up) and after they all ended and were let go, with a full `gc.collect()`;",
        "a later round starts where round 1 ended, so what it adds is what a leak would. The client test's server runs",
        "in a process of its own, so only the client is measured; the kernel test measures the kernel.",
        "",
        "| | " + " | ".join(load.scenario for load in loads) + " |",
        "|---" * (len(loads) + 1) + "|",
        "| tasks | " + " | ".join(_count(load.tasks) for load in loads) + " |",
        "| widgets | " + " | ".join(_count(load.widgets) for load in loads) + " |",
        "| seconds | " + " | ".join(f"{load.seconds:.1f}" for load in loads) + " |",
    ]
    for name in names:
        lines.append(f"| {LOAD_LABELS.get(name, name)} | " + " | ".join(_change(load, name) for load in loads) + " |")
    lines += ["", "Notes:", ""] + [f"- {load.scenario}: {load.notes}" for load in loads if load.notes]
    return lines


def render(tallies: list[Tally], soak: bool, loads: list[LoadFigures] | None = None) -> str:
    lines = [
        "# Reliability",
        "",
        f"<!-- Generated by `{COMMAND}`{' with CONDUIT_SOAK=1' if soak else ''}: do not edit by hand. -->",
        f"Generated by `{COMMAND}` (`CONDUIT_SOAK=1 {COMMAND}` for the long versions) from a complete, passing",
        "run of `tests/faults`; `make test` runs the same scenarios without rewriting this file.",
        f"Run: {'soak' if soak else 'default (short)'}. Recovery: from the end of a fault until the hub link is",
        "connected again (a restarted server: from its first answer; REST rows: until the next REST call of the",
        "faulted kind succeeds, create then read). Target from issue 6: zero lost, zero duplicated, recovery within 2 s.",
        "Client settings in every scenario: `Backoff(initial=0.05, maximum=0.5)`, `poll_interval=0.5`,",
        "`connect_timeout=1.0` (the default backoff recovers more slowly).",
        "",
        "| scenario | tasks started | completed | failed as expected | lost | duplicated | recovery median / max |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in tallies:
        recovery = f"{_seconds(t.recovery_median)} / {_seconds(t.recovery_max)}"
        lines.append(
            f"| {t.scenario} | {t.started} | {t.completed} | {t.failed_as_expected} | {t.lost} | {t.duplicated} "
            f"| {recovery} |"
        )
    lines += ["", "Notes:", ""] + [f"- {t.scenario}: {t.notes}" for t in tallies if t.notes]
    lines += render_loads(loads or [])
    lines += render_hostile_server()
    return "\n".join(lines) + "\n"


def render_hostile_server() -> list[str]:
    """Issue 17's outcomes, with the tests that showed them in the security pass of the same `make reliability`
    (it runs first and leaves its outcomes in tests/_artifacts/security.json)."""
    from tests import security

    outcomes = json.loads(security.ARTIFACT.read_text()) if security.ARTIFACT.exists() else {}
    lines = [
        "",
        "## A hostile or broken server, and every misuse",
        "",
        "Issue 17: what a server that echoes the key, sends endless or enormous media, names forbidden URLs, nests its",
        "JSON past any parser, says 404 for a task it has, stalls or holds connections comes to, and what a user's",
        "mistakes come to. `tests/hostile.py` is the misbehaving Conduit; these rows are also in `docs/security.md`.",
        "",
    ]
    return lines + security.rows(security.HOSTILE_SERVER_CHECKS, outcomes)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not RESULTS and not LOADS:
        return
    import os

    soak = os.environ.get("CONDUIT_SOAK") == "1"
    order = {name: n for n, name in enumerate(SCENARIOS)}  # the table lists the scenarios as SCENARIOS does
    tallies = sorted(RESULTS.values(), key=lambda t: order.get(_family(t.scenario), len(order)))
    loads = list(LOADS.values())
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "soak": soak,
        "scenarios": [
            {**asdict(t), "recovery_median": t.recovery_median, "recovery_max": t.recovery_max} for t in tallies
        ],
        "loads": [asdict(load) for load in loads],
    }
    ARTIFACT.write_text(json.dumps(payload, indent=2) + "\n")
    complete = {_family(t.scenario) for t in tallies} == set(SCENARIOS)
    complete = complete and {load.scenario.split(",")[0] for load in loads} >= set(LOAD_TESTS)
    if complete and session.testsfailed == 0 and os.environ.get("CONDUIT_WRITE_DOCS") == "1":
        DOC.write_text(render(tallies, soak, loads))
