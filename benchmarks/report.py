"""The benchmark's one table (terminal), the targets it is judged by, and docs/performance.md, all made from
the results JSON, so that a before and an after run can be set side by side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.throughput import LABELS


@dataclass
class Row:
    section: str
    measure: str
    value: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    ok: bool | None = None  # None: reported, no target


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _get(results: dict[str, Any], *path: str | int) -> Any:
    node: Any = results
    for key in path:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _throughput_rows(section: dict[str, Any]) -> list[Row]:
    rows = []
    medians = {(r["client"], r["protocol"], r["per_frame"]): r["events_per_s"]["median"] for r in section["rows"]}
    for r in section["ratios"]:
        key = (r["protocol"], r["per_frame"])
        ours = medians.get(("ours", *key), 0)
        refs = [
            f"{name} {_n(medians[(name, *key)])}"
            for name in ("bare", "official", "signalrcore", "raw")
            if (name, *key) in medians
        ]
        paired = r.get("ours_to_bare_paired", r["ours_to_bare"])
        rows.append(
            Row(
                "throughput",
                f"events/s, {r['protocol']}, {r['per_frame']} msg/frame",
                _n(ours),
                ", ".join(refs) + _pairs(r.get("ours_to_bare_pairs")),
                f"/bare {paired:.3f} (of medians {r['ours_to_bare']:.3f}), /official {r['ours_to_official']:.2f}",
                "ours/bare >= 0.8",
                paired >= 0.8,
            )
        )
    return rows


def _pairs(pairs: list[float] | None) -> str:
    """The per-repeat ratios behind a paired verdict: their middle half."""
    if not pairs or len(pairs) < 4:
        return ""
    ordered = sorted(pairs)
    quarter = len(ordered) // 4
    return f"; ours/bare by repeat {ordered[quarter]:.2f}-{ordered[-1 - quarter]:.2f} (middle half of {len(pairs)})"


def _latency_row(what: str, judged: bool, rate: float, ms: dict[str, float], reference: str) -> Row:
    """One latency figure; the target (p99 under 5 ms) applies to the 1,000-active-task cases."""
    return Row(
        "latency",
        f"{what}, {rate:g} ev/s",
        f"p50 {ms['p50']:.2f} ms, p99 {ms['p99']:.2f} ms",
        reference,
        "",
        "p99 < 5 ms" if judged else "",
        ms["p99"] < 5 if judged else None,
    )


def _trait_row(entry: dict[str, Any]) -> Row:
    """Issue 7 asks for the p99 "with 1,000 active tasks", and speaks of widgets apart ("50 widgets"): the
    target is judged with 1,000 tasks in the kernel of which 50 have a widget. A widget for every one of
    the 1,000 is reported beside it: there each event is a comm message, and ipykernel's own cost for one
    (about 0.15 ms of the 0.17-0.2 ms flush the browser section measures; the widget's trait sets are the
    rest) and the machine's noise decide that tail."""
    widgets = entry["widgets"]
    tasks = entry.get("tasks", widgets)
    some = tasks > widgets
    what = f"{tasks} task(s), {widgets} widget(s)" if some else f"{widgets} widget(s)"
    reference = _latency_reference(entry["to_trait_ms"], entry.get("timed", entry["sent"])) + _gc(entry)
    if tasks > 1 and not some:
        reference += "; every task a widget, so every event a comm message: reported, not judged"
    return _latency_row(
        f"server to widget trait (kernel), {what}", tasks > 1 and some, entry["rate"], entry["to_trait_ms"], reference
    )


def _latency_rows(section: dict[str, Any]) -> list[Row]:
    rows = [
        _latency_row(
            f"server to TaskUpdate, {entry['tasks']} task(s)",
            entry["tasks"] > 1,
            entry["rate"],
            entry["to_update_ms"],
            _latency_reference(entry["to_update_ms"], entry["sent"]),
        )
        for entry in section["to_update"]
    ]
    rows += [_trait_row(entry) for entry in section["to_trait"]]
    fp = section["first_progress"]
    rows.append(
        Row(
            "latency",
            "time to first progress (warm client, server at full speed)",
            f"median {fp['first_progress_ms']['median']:.1f} ms",
            f"REST create alone {fp['rest_create_ms']['median']:.1f} ms; generate_image() returned after "
            f"{fp['generate_image_returned_ms']['median']:.1f} ms; "
            f"spread {fp['first_progress_ms']['min']:.1f}-{fp['first_progress_ms']['max']:.1f} ms",
            f"{fp['ratio_to_rest_create']:.2f}x create",
            "< 20 ms",
            fp["first_progress_ms"]["median"] < 20,
        )
    )
    return rows


def _latency_reference(s: dict[str, Any], sent: int) -> str:
    runs = s.get("p99_runs", [])
    each = f"; p99 of each run {', '.join(f'{p:.2f}' for p in runs)} ms" if len(runs) > 1 else ""
    return f"max {s['max']:.2f} ms, n={s['n']}/{sent}{each}"


def _gc(entry: dict[str, Any]) -> str:
    gc = entry.get("gc")
    text = f"; {gc['collections']} GC pauses, longest {gc['max_ms']:.1f} ms" if gc else ""
    if "preempted" in entry:
        text += f"; the kernel was preempted {entry['preempted']:,} times"
    idle = entry.get("machine_noise")
    if idle and idle.get("n"):
        text += (
            f"; meanwhile a process that only sleeps 1 ms at a time woke late by p99 {idle['p99']:.2f} ms,"
            f" max {idle['max']:.2f} ms"
        )
        if "steal" in idle:
            text += (
                f", and the hypervisor took {idle['steal']:.0%} of the CPU time (steal),"
                f" {idle['steal_worst_second']:.0%} in the worst second"
            )
    return text


def _browser_rows(section: dict[str, Any]) -> list[Row]:
    burst, cpu, load, memory = section["burst"], section["widget_cpu"], section["load"], section["memory"]
    exact = burst["final_state_exact_kernel"] and burst["final_state_exact_browser"]
    lag, cells = load["loop_lag_ms"], load["cell_ms"]
    return [
        Row(
            "browser",
            f"comm messages/s, 1 widget, burst of {_n(burst['events'])}",
            f"{burst['messages_per_s']:.1f}/s",
            _burst_reference(burst),
            "",
            "about 10/s (8-11)",
            8 <= burst["messages_per_s"] <= 11,
        ),
        Row(
            "browser",
            "final state exact after the burst (kernel, browser)",
            "yes" if exact else "NO",
            "",
            "",
            "yes",
            exact,
        ),
        Row(
            "browser",
            "widget-layer CPU per progress event",
            f"{cpu['widget_us_per_event']:.2f} us",
            f"take {cpu['take_update_us']:.2f} us + flush {cpu['flush_us']:.0f} us x {cpu['flushes_per_event']:.4f}; "
            f"whole kernel {burst['kernel_cpu_us_per_event']:.1f} us/event",
        ),
        Row(
            "browser",
            f"{load['widgets']} widgets at full rate: a cell's round trip",
            f"p50 {cells['p50']:.0f} ms, max {cells['max']:.0f} ms",
            f"idle {load['idle_cell_ms']:.0f} ms; {cells['n']} cells over {load['seconds']:.1f} s, "
            f"{_n(load['events_per_s'])} ev/s",
            "",
            "max < 100 ms",
            cells["max"] < 100,
        ),
        Row(
            "browser",
            f"{load['widgets']} widgets at full rate: loop lateness",
            f"p99 {lag['p99']:.1f} ms, max {lag['max']:.1f} ms",
            f"p50 {lag['p50']:.2f} ms",
            "",
            "max < 100 ms",
            lag["max"] < 100,
        ),
        Row(
            "browser",
            f"{load['widgets']} widgets at full rate: messages/s per widget",
            f"median {load['messages_per_s_per_widget']['median']:.1f}/s",
            f"max {load['messages_per_s_per_widget']['max']:.1f}/s; final state exact {load['final_state_exact']}",
            "",
            "about 10/s (8-11)",
            load["messages_per_s_per_widget"]["median"] >= 8 and load["messages_per_s_per_widget"]["max"] <= 11,
        ),
        Row(
            "footprint",
            f"hub connections used by {load['widgets']} widgets",
            str(load["server_hub_connections"]),
            f"{load['hub_links_in_kernel']} link(s) in the kernel's pool",
            "",
            "1 (one per hub)",
            load["server_hub_connections"] == 1,
        ),
        Row(
            "footprint", "memory per live widget", f"{_n(memory['bytes_per_widget'])} B", f"{memory['widgets']} widgets"
        ),
    ]


def _footprint_rows(section: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "footprint",
            "memory per tracked task (client)",
            f"{_n(section['bytes_per_task'])} B",
            f"{_n(section['tasks'])} tasks, tracemalloc",
        )
    ]


def _capacity_rows(section: dict[str, Any]) -> list[Row]:
    t, f = section["tasks"], section["fanout"]
    rate, fan = _spread(t["tasks_per_s"]), _spread(f["deliveries_per_s"])
    return [
        Row(
            "capacity",
            "tasks/s the local server runs at full speed",
            f"{rate['median']:.1f}",
            f"spread {rate['min']:.1f}-{rate['max']:.1f}; {t['completed']}/{t['tasks']} tasks, {t['concurrency']} "
            f"in flight; CPU share server {t['server_cpu_share']:.2f}, client {t['client_cpu_share']:.2f}",
        ),
        Row(
            "capacity",
            f"fan-out to {f['subscribers']} subscribers of one task",
            f"{_n(fan['median'])} deliveries/s",
            f"spread {_n(fan['min'])}-{_n(fan['max'])}; {_n(f['events_per_s_each'])} events/s each; CPU share "
            f"server {f['server_cpu_share']:.2f}, readers {f['readers_cpu_share']:.2f}",
        ),
    ]


def _import_rows(section: dict[str, Any]) -> list[Row]:
    ours, theirs = section["median_s"]["conduit_widget"], section["median_s"]["ipywidgets"]
    return [
        Row(
            "import",
            "`import conduit_widget` (fresh interpreter, median)",
            f"{ours * 1000:.0f} ms",
            f"`import ipywidgets` {theirs * 1000:.0f} ms; interpreter alone {section['interpreter_s'] * 1000:.0f} ms;"
            f" {section['runs']} runs each, the interpreter's start-up taken off both",
            f"{section['ratio']:.2f}x",
            f"<= {section['target_ratio']}x",
            section["met"],
        )
    ]


def _spread(value: Any) -> dict[str, float]:
    """A median with its spread, or a single figure (results from before repeats were kept) as one."""
    if isinstance(value, dict):
        return value
    return {"median": value, "min": value, "max": value}


SECTIONS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "throughput": _throughput_rows,
    "latency": _latency_rows,
    "browser": _browser_rows,
    "footprint": _footprint_rows,
    "capacity": _capacity_rows,
    "import": _import_rows,
}


def rows(results: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    for name, make in SECTIONS.items():
        if name in results:
            out += make(results[name])
    return out


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "MISSED")


def table(results: dict[str, Any]) -> str:
    lines = ["| section | measure | value | reference (same run) | ratio | target | |", "|---|---|---|---|---|---|---|"]
    for r in rows(results):
        lines.append(
            f"| {r.section} | {r.measure} | {r.value} | {r.reference} | {r.ratio} | {r.target} | {_verdict(r.ok)} |"
        )
    return "\n".join(lines)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"measure": r.measure, "value": r.value, "target": r.target, "ok": r.ok}
        for r in rows(results)
        if r.ok is not None
    ]


def _meta_line(results: dict[str, Any]) -> str:
    m = results.get("meta", {})
    dirty = ", ".join(m.get("modified", [])) or "none"
    return (
        f"{m.get('when', '?')}, commit `{m.get('commit', '?')[:10]}` (modified: {dirty}), "
        f"{'quick' if m.get('quick') else 'full'} run, {m.get('cpus', '?')} CPUs, "
        f"load average {m.get('load_before', '?')} before, took {m.get('seconds', 0):.0f} s"
        + "".join(f"; {m[k]}" for k in ("code", "note") if m.get(k) and m.get(k) != "checkout")
    )


def _throughput_detail(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    old = {
        (r["client"], r["protocol"], r["per_frame"]): r["events_per_s"]["median"]
        for r in ((_get(before, "throughput", "rows") if before else None) or [])
    }
    lines = [
        "| client | protocol | msgs/frame | before (events/s) | after (events/s) | after, spread |",
        "|---|---|---|---|---|---|",
    ]
    for r in _get(after, "throughput", "rows") or []:
        key = (r["client"], r["protocol"], r["per_frame"])
        was = _n(old[key]) if key in old else "-"
        s = r["events_per_s"]
        lines.append(
            f"| {LABELS.get(r['client'], r['client'])} | {r['protocol']} | {r['per_frame']} | {was} | "
            f"{_n(s['median'])} | {_n(s['min'])}-{_n(s['max'])} |"
        )
    return lines


def _burst_reference(burst: dict[str, Any]) -> str:
    each = burst.get("messages_each")
    if each is None:  # results from before the bursts were repeated
        return f"{burst['messages']} messages in {burst['seconds']:.2f} s ({_n(burst['events_per_s'])} ev/s)"
    counts = ", ".join(str(n) for n in each)
    return (
        f"{len(each)} bursts of {burst['seconds']:.2f} s ({_n(burst['events_per_s'])} ev/s): {counts} messages; the rate"
        " is their cadence, (n - 1) / first to last"
    )


def performance_md(after: dict[str, Any], before: dict[str, Any] | None) -> str:
    """docs/performance.md: targets and every figure, before (benchmarks/baseline.json) and after."""
    old = {(r.section, r.measure): r for r in rows(before)} if before else {}
    sizes = after["meta"]["sizes"]
    lines = [
        "# Performance",
        "",
        "<!-- Generated by `make bench` (benchmarks/run.py) from benchmarks/results/latest.json and",
        "     benchmarks/baseline.json: edit those scripts, not this file. -->",
        "",
        "Issue 7's figures: each measured against a reference in the same run (the machine is shared, so",
        "ratios mean more than absolute numbers). **Before** is `benchmarks/baseline.json`, a run of the client as",
        "it was when the harness was written, against today's local server; **after** is the latest `make bench`.",
        "",
        f"- Before: {_meta_line(before) if before else 'no baseline recorded'}",
        f"- After: {_meta_line(after)}",
        "",
        "## Every figure, before and after",
        "",
        "| section | measure | before | after | reference (after run) | ratio (after) | target | after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows(after):
        was = old.get((r.section, r.measure))
        before_text = "-" if was is None else (f"{was.value} ({was.ratio})" if was.ratio else was.value)
        lines.append(
            f"| {r.section} | {r.measure} | {before_text} | {r.value} | {r.reference} | {r.ratio} | "
            f"{r.target} | {_verdict(r.ok)} |"
        )
    lines += ["", "## Hub event throughput, every client", "", *_throughput_detail(before, after)]
    lines += [
        "",
        "## How it is measured",
        "",
        "`make bench` runs `benchmarks/run.py`: every section starts `benchmarks.bench_server` in a process",
        "of its own (so client and server do not share an event loop), at full speed (every pacing delay divided",
        "by a million). `--quick` is the smoke test's size; `--only SECTION` runs one section.",
        "",
        "- **throughput** (`benchmarks/throughput.py`): one connection, a burst of pre-encoded",
        "  `ImageGenerationProgress` events from the server's burst route, 1 or 100 messages a WebSocket frame,",
        "  uncompressed as ASP.NET Core sends them; the rate from the first event received to the last, medians",
        f"  over {sizes['repeats']} interleaved repeats of {sizes['events']:,} events. Ours is judged against bare",
        "  pysignalr by the median of their ratio in each repeat: the two run back to back, so the machine's",
        "  changes of speed between repeats (up to twofold here) cancel out; the ratio of the two medians is shown",
        "  beside it. The raw reader only counts messages (the server's ceiling);",
        "  bare pysignalr has a handler that only checks the message; ours is `ConduitClient`, counted at",
        "  `Task.on_update` (frame to `TaskUpdate`); the official client is `@microsoft/signalr` under Node",
        "  (`benchmarks/node/official_client.mjs`); signalrcore runs from a venv of its own (its exact msgpack pin",
        "  clashes with ours).",
        "- **latency** (`benchmarks/latency.py`): the server's paced route stamps each event with",
        "  `time.monotonic_ns()` as it publishes it (one system-wide clock), events spread round-robin over the",
        "  tasks; measured to a `Task.on_update` listener (a client in the harness) and to the `message` trait",
        "  being set (widgets in a real kernel; each widget's events slower than its ten updates a second, so",
        f"  the path is measured, not the coalescing); p50 and p99 are the medians over {sizes['latency_repeats']} paced",
        "  runs on the same tasks. The trait's p99 target is judged as the issue states it, with 1,000 active",
        "  tasks in the kernel, of which 50 (the issue's number of widgets) are shown as widgets and the rest",
        "  followed by the same shared client; with a widget for every task, each event becomes a comm message,",
        "  whose cost is ipykernel's, so that figure is reported beside it and not judged. Beside the trait runs, a process that only sleeps 1 ms at a time records how",
        "  late it wakes, and the CPU time the hypervisor took (steal, from `/proc/stat`; `benchmarks/jitter.py`):",
        "  the machine's own noise at that moment, as a reference for the tail. Time to first progress:",
        "  `generate_image()` called to the first update that is not pending, on a warm client.",
        "- **browser** (`benchmarks/widget_load.py`, `benchmarks/in_kernel.py`): a real ipykernel; comm messages",
        "  are counted as they arrive on IOPub. Under a burst a widget's rate is the cadence of its messages,",
        "  (n - 1) over the first to the last, median of three bursts (a burst lasts about 0.3 s, too short to",
        "  count over). The widget layer is `GenerationWidget._on_update` plus its flushes; the 50-widget load",
        "  sends cells meanwhile and times them from request to reply.",
        "- **footprint** (`benchmarks/footprint.py`): tracemalloc around 1,000 followed tasks.",
        "- **capacity** (`benchmarks/capacity.py`): tasks a second driven by one ConduitClient; fan-out to 100",
        "  raw readers through the server's real publish path.",
        "",
    ]
    return "\n".join(lines)
