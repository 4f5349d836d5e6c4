"""`make bench`: every benchmark of issue 7, one table, ``benchmarks/results/latest.json``, docs/performance.md.

    python -m benchmarks.run [--quick] [--only SECTION,...] [--json PATH] [--baseline PATH]
                             [--docs PATH | --no-docs] [--write-baseline] [--label TEXT] [--from-json PATH]

Sections: throughput, latency, browser, footprint, capacity, import; each but import starts a server process
of its own.
``--quick`` is the smoke test's size (tiny, no PyPI, no docs written). A full run writes the JSON and
regenerates docs/performance.md against ``benchmarks/baseline.json`` (the "before"); ``--write-baseline``
makes this run the new baseline; ``--from-json`` measures nothing and only prints and reports saved results.
Which ``conduit_widget`` is measured is whichever Python imports: put another tree first on PYTHONPATH to
measure it (the servers and kernels started here inherit it; run from outside the checkout, as the
baseline was: ``cd /tmp && PYTHONPATH=/path/to/tree:/path/to/checkout python -m benchmarks.run``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import conduit_widget
from benchmarks import capacity, footprint, import_time, latency, report, throughput, widget_load
from benchmarks.server_process import ServerProcess

REPO = Path(__file__).resolve().parents[1]

SECTIONS = ("throughput", "latency", "browser", "footprint", "capacity", "import")
RESULTS = REPO / "benchmarks" / "results"
BASELINE = REPO / "benchmarks" / "baseline.json"
DOCS = REPO / "docs" / "performance.md"


@dataclass(frozen=True)
class Sizes:
    events: int  # per throughput case
    repeats: int
    many: int  # "1,000 active tasks"
    client_events: tuple[int, int]  # latency to TaskUpdate: with 1 task, with `many`
    client_rates: tuple[float, float]
    # Latency to the trait: 1 widget; `many` tasks of which `load_widgets` are widgets; `many` widgets.
    trait_events: tuple[int, int, int]
    trait_rates: tuple[float, float, float]  # each widget's share below its 10 updates a second
    first_progress_repeats: int
    latency_repeats: int  # paced runs on the same tasks; p50/p99 are medians over them
    burst_events: int
    cpu_events: int
    flushes: int
    load_widgets: int
    load_events_per_widget: int
    memory_widgets: int
    footprint_tasks: int
    capacity_tasks: int  # per repeat
    capacity_repeats: int
    concurrency: int
    subscribers: int
    fanout_events: int


FULL = Sizes(
    events=50_000,
    repeats=15,
    many=1_000,
    client_events=(500, 5_000),
    client_rates=(200.0, 1_000.0),
    trait_events=(80, 10_000, 5_000),
    trait_rates=(8.0, 1_000.0, 1_000.0),
    first_progress_repeats=30,
    latency_repeats=5,
    burst_events=10_000,
    cpu_events=10_000,
    flushes=1_000,
    load_widgets=50,
    load_events_per_widget=1_000,
    memory_widgets=200,
    footprint_tasks=1_000,
    capacity_tasks=100,
    capacity_repeats=3,
    concurrency=32,
    subscribers=100,
    fanout_events=1_000,
)
QUICK = Sizes(
    events=300,
    repeats=1,
    many=20,
    client_events=(20, 100),
    client_rates=(100.0, 400.0),
    trait_events=(4, 100, 100),
    trait_rates=(8.0, 100.0, 100.0),
    first_progress_repeats=3,
    latency_repeats=1,
    burst_events=500,
    cpu_events=1_000,
    flushes=50,
    load_widgets=5,
    load_events_per_widget=100,
    memory_widgets=5,
    footprint_tasks=20,
    capacity_tasks=10,
    capacity_repeats=1,
    concurrency=4,
    subscribers=10,
    fanout_events=100,
)


def _log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def run_sections(sizes: Sizes, only: list[str], *, quick: bool) -> dict[str, Any]:
    """Each section on a server process of its own (a quick run shares one, to stay short). A section that
    fails is recorded under "failed" and the others still run."""
    results: dict[str, Any] = {}
    async with contextlib.AsyncExitStack() as stack:
        shared = await stack.enter_async_context(ServerProcess()) if quick else None

        @contextlib.asynccontextmanager
        async def server() -> AsyncIterator[ServerProcess]:
            if shared is not None:
                yield shared
            else:
                async with ServerProcess() as fresh:
                    yield fresh

        async def run_throughput() -> dict[str, Any]:
            async with server() as s:
                return await throughput.measure(
                    s, events=sizes.events, repeats=sizes.repeats, clients=list(throughput.CLIENTS), make_venv=not quick
                )

        async def run_latency() -> dict[str, Any]:
            async with server() as s:
                return await latency.measure(
                    s,
                    many=sizes.many,
                    client_events=sizes.client_events,
                    client_rates=sizes.client_rates,
                    trait_events=sizes.trait_events,
                    trait_rates=sizes.trait_rates,
                    watched=sizes.load_widgets,
                    first_progress_repeats=sizes.first_progress_repeats,
                    repeats=sizes.latency_repeats,
                )

        async def run_browser() -> dict[str, Any]:
            async with server() as s:
                return await widget_load.measure(
                    s,
                    burst_events=sizes.burst_events,
                    cpu_events=sizes.cpu_events,
                    flushes=sizes.flushes,
                    load_widgets=sizes.load_widgets,
                    load_events_per_widget=sizes.load_events_per_widget,
                    memory_widgets=sizes.memory_widgets,
                )

        async def run_footprint() -> dict[str, Any]:
            async with server() as s:
                return await footprint.measure(s, tasks=sizes.footprint_tasks)

        async def run_capacity() -> dict[str, Any]:
            async with server() as s:
                tasks = await capacity.tasks_per_second(
                    s, tasks=sizes.capacity_tasks, concurrency=sizes.concurrency, repeats=sizes.capacity_repeats
                )
            async with server() as s:
                fanned = await capacity.fanout(
                    s, subscribers=sizes.subscribers, events=sizes.fanout_events, repeats=sizes.capacity_repeats
                )
            return {"tasks": tasks, "fanout": fanned}

        async def run_import() -> dict[str, Any]:  # no server: a fresh interpreter's `import conduit_widget`
            return await import_time.measure(runs=3 if quick else 7)

        plan: dict[str, tuple[str, Callable[[], Awaitable[dict[str, Any]]]]] = {
            "throughput": (f"{sizes.events:,} events x {sizes.repeats} repeats per client", run_throughput),
            "latency": (
                f"1 and {sizes.many:,} tasks; 1 widget, {sizes.load_widgets} of {sizes.many:,} tasks, {sizes.many:,} widgets;"
                " first progress",
                run_latency,
            ),
            "browser": (f"a burst of {sizes.burst_events:,}; {sizes.load_widgets} widgets at full rate", run_browser),
            "footprint": (f"{sizes.footprint_tasks:,} tracked tasks", run_footprint),
            "capacity": (f"{sizes.capacity_tasks} tasks; fan-out to {sizes.subscribers} subscribers", run_capacity),
            "import": ("`import conduit_widget` against `import ipywidgets`, alternating", run_import),
        }
        for name in SECTIONS:
            if name not in only:
                continue
            what, measure = plan[name]
            _log(f"{name}: {what}")
            try:
                results[name] = await measure()
            except Exception as exc:
                _log(f"{name} FAILED: {type(exc).__name__}: {exc}")
                results.setdefault("failed", {})[name] = f"{type(exc).__name__}: {exc}"
    return results


def _git(*args: str) -> str:
    git = shutil.which("git")
    if git is None:
        return ""
    try:
        return subprocess.run([git, *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def meta(quick: bool, sizes: Sizes, label: str) -> dict[str, Any]:
    code = Path(conduit_widget.__file__).resolve().parents[1]
    in_checkout = code == REPO
    modified = [
        line.split(maxsplit=1)[-1] for line in _git("status", "--porcelain", "--", "conduit_widget").splitlines()
    ]
    return {
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "label": label,
        "code": "checkout" if in_checkout else str(code),
        "commit": _git("rev-parse", "HEAD") if in_checkout else label or "?",
        "modified": modified if in_checkout else [],
        "quick": quick,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": round(os.getloadavg()[0], 2),
        "sizes": asdict(sizes),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test); writes no docs")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    parser.add_argument("--json", type=Path, help="results file (default results/latest.json, quick.json if --quick)")
    parser.add_argument("--baseline", type=Path, default=BASELINE, help="the 'before' run for docs/performance.md")
    parser.add_argument("--docs", type=Path, help=f"write the report here (default {DOCS.relative_to(REPO)})")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/performance.md")
    parser.add_argument("--write-baseline", action="store_true", help="also save this run as the baseline")
    parser.add_argument("--label", default="", help="a note kept with the results (e.g. which code this is)")
    parser.add_argument(
        "--from-json", type=Path, metavar="PATH", help="measure nothing: print and report the results in PATH"
    )
    args = parser.parse_args()
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    sizes = QUICK if args.quick else FULL

    if args.from_json:
        results: dict[str, Any] = json.loads(args.from_json.read_text())
        out = args.from_json
    else:
        results = {"meta": meta(args.quick, sizes, args.label)}
        started = time.monotonic()
        results.update(asyncio.run(run_sections(sizes, only, quick=args.quick)))
        results["meta"]["seconds"] = round(time.monotonic() - started, 1)
        results["meta"]["load_after"] = round(os.getloadavg()[0], 2)
        results["targets"] = report.targets(results)
        out = args.json or RESULTS / ("quick.json" if args.quick else "latest.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1) + "\n")
    print(report.table(results))
    missed = [t["measure"] for t in results["targets"] if not t["ok"]]
    print(f"\n{len(results['targets']) - len(missed)}/{len(results['targets'])} targets met; results in {out}")
    for name, why in results.get("failed", {}).items():
        print(f"section {name} FAILED: {why}")
    if args.write_baseline:
        args.baseline.write_text(json.dumps(results, indent=1) + "\n")
        print(f"baseline written to {args.baseline}")
    if not args.no_docs and (args.docs or not args.quick):
        before = json.loads(args.baseline.read_text()) if args.baseline.is_file() else None
        docs = args.docs or DOCS
        docs.write_text(report.performance_md(results, before))
        print(f"report written to {docs}")
    return 1 if results.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
