"""Load: 1,000 concurrent tasks over one client, and 50 widgets in one kernel; nothing grows once they end.

Each test measures memory and handles once warmed up (lazy imports done, the HTTP pool and the hub links
open), runs a round of tasks to their end, lets go of them and measures again; then a second round shows
that what the first left behind (allocator high-water marks, pooled sockets) is a plateau, not a leak.
The figures go into the "Load" table of ``docs/reliability.md`` (see ``conftest.py``).

Tolerances, and why: what the client and the widgets own (Task objects and their state, subscriptions,
listeners, asyncio tasks, invocations, hub links, widgets, comms) must come back exactly. Open files, less
the connections the HTTP pool keeps alive (up to httpx's 20), may differ by 2. Python objects and the
interpreter's allocated blocks move with caches, free lists and the HTTP pool's size: round 1 may leave them
larger once (by what ran at once, not by how many ran), so they may end up to 2 per task above the start;
the later rounds together must add less than 1 per task (20 per widget: a leaked widget is hundreds), which
one object leaked per task would exceed. RSS and malloc's total are not given back after round 1: only the
later rounds' growth of them is held down, malloc's to 2 MiB and RSS, which jitters, to 10 MiB.

``CONDUIT_SOAK=1`` runs five rounds each, and traces the kernel's allocations with tracemalloc. Not the
client's: traced, it runs four to five times slower, and 1,000 creates queued at once in httpx's pool then
outwait its 30 s pool timeout. Malloc's total and the interpreter's block count stand in for it there.
``CONDUIT_LOCAL_SPEED`` sets the servers' speed (default 20: an image takes a quarter of a second).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
import weakref
from collections import Counter
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from conduit_widget import ConduitClient, ConfigurationError, protocol
from conduit_widget.client.pool import POOL
from conduit_widget.client.task import Task
from conduit_widget.server import LocalConduit, generate_key
from conduit_widget.server.app import CONTEXT
from tests.faults.conftest import LoadFigures, record_load
from tests.faults.resources import snapshot
from tests.processes import free_port, kill, serve

ROOT = Path(__file__).resolve().parents[2]
SOAK = os.environ.get("CONDUIT_SOAK") == "1"
SPEED = float(os.environ.get("CONDUIT_LOCAL_SPEED") or 20)
TASKS = 1000
WIDGETS = 50
ROUNDS = 5 if SOAK else 2
EXACT = (
    "asyncio_tasks",
    "threads",
    "hub_links",
    "hub_connections",
    "subscriptions",
    "link_listeners",
    "invocations",
    "open_tasks",
    "client_listeners",
    "client_jobs",
)
FD_SLACK = 2
HTTP_KEEPALIVE = 20  # httpx's default max_keepalive_connections
# MiB the rounds after the first may add. RSS jitters by several MiB from one measurement to the next even
# when nothing grows (pages the allocators freed but keep, libzmq's buffers in a kernel); malloc's and
# tracemalloc's totals are the precise ones.
MIB_SLACK = {"rss_mib": 10.0, "malloc_mib": 2.0, "traced_mib": 2.0}


def assert_nothing_grew(
    before: dict[str, float], after: dict[str, float], *, later_growth: dict[str, float], slack: int
) -> None:
    """`before` the first round, `after` the last; `later_growth` over the rounds after the first; `slack` is
    the number of objects the later rounds may add (one per task)."""
    grew = {name: (before[name], after[name]) for name in EXACT if name in before and after[name] != before[name]}
    assert not grew, f"still held once every task ended (before, after): {grew}"
    assert after.get("pool_threads", 0) <= min(32, (os.cpu_count() or 1) + 4), "the executor's pool grew past its cap"
    assert after["task_objects"] <= before["task_objects"], f"Task objects outlived their tasks: {after}"
    assert after["per_task_objects"] <= before["per_task_objects"], f"per-task objects outlived them: {after}"
    # Open files, less the HTTP pool's keep-alive connections (httpx keeps up to 20 between calls).
    held_before, held_after = before["fds"] - before.get("http_pool", 0), after["fds"] - after.get("http_pool", 0)
    assert held_after <= held_before + FD_SLACK, f"open files grew: {before['fds']} -> {after['fds']} ({after})"
    assert after.get("http_pool", 0) <= HTTP_KEEPALIVE, f"the HTTP pool grew past its keep-alive limit: {after}"
    for name in ("gc_objects", "py_blocks"):
        assert after[name] - before[name] < 2 * slack, f"{name} grew: {before[name]} -> {after[name]}"
    for name, grown in later_growth.items():
        limit = MIB_SLACK.get(name, slack)
        assert grown < limit, f"{name} still grows after the first round: +{grown} (at most {limit})"


def growth(first: dict[str, float], last: dict[str, float]) -> dict[str, float]:
    names = ("rss_mib", "malloc_mib", "traced_mib", "gc_objects", "py_blocks")
    return {name: round(last[name] - first[name], 2) for name in names if name in first and name in last}


# -- 1,000 tasks over one client --------------------------------------------------------------------


@pytest.fixture
def conduit_process(tmp_path: Path) -> Any:
    """A local Conduit in a process of its own, so that only the client's memory is measured here (the
    server keeps every task it ran). It speaks one dialect, as a real Conduit does."""
    key, port = generate_key(), free_port()
    process = serve(port, key, tmp_path, SPEED, "--profile", "conduit-2025.08")
    yield f"http://127.0.0.1:{port}", key
    kill(process)


async def settle(client: ConduitClient, baseline: dict[str, float] | None = None, timeout: float = 30.0) -> None:
    """Give fire-and-forget work (unsubscribes, status reads still queued) time to end before counting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        quiet = baseline is None or len(asyncio.all_tasks()) <= baseline["asyncio_tasks"]
        if quiet and not client.stats()["jobs"]:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)


async def one_round(
    client: ConduitClient, count: int, tag: str, handles: list[weakref.ref[Task]]
) -> tuple[Counter[str], int]:
    """`count` tasks at once, followed the three ways a user can; (statuses, peak open). A weak reference to
    each Task goes to `handles`, to see them freed once the user let go of them."""
    peak = 0

    async def follow(i: int) -> str:
        task = await client.generate_image(f"{tag} {i}", size="64x64", seed=i)
        handles.append(weakref.ref(task))
        if i % 3 == 0:
            async for _ in task:  # a consumer of every update
                pass
        elif i % 3 == 1:
            task.on_update(lambda update: None)  # a listener nobody removes: it must go with the task
        result = await task.wait(120)
        return result.status

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, client.open_tasks)
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    try:
        statuses = Counter(await asyncio.gather(*(follow(i) for i in range(count))))
    finally:
        sampler.cancel()
    return statuses, peak


def round_spans() -> list[tuple[str, slice]]:
    """Round 1 on its own, then the later rounds together: what those add is what a leak would."""
    later = f"round {ROUNDS}" if ROUNDS == 2 else f"rounds 2-{ROUNDS}"
    return [("round 1", slice(0, 1)), (later, slice(1, ROUNDS))]


@pytest.mark.timeout(1800 if SOAK else 300)  # past the suite's 120 s: two cores shared with other runs
async def test_a_thousand_concurrent_tasks_over_one_client_leave_nothing_behind(conduit_process) -> None:
    base_url, key = conduit_process
    async with ConduitClient(base_url, key) as client:
        ends: Counter[str] = Counter()
        client.on("completed", lambda result: ends.update([result.task_id]))  # a listener for the whole run
        # Warm up: lazy imports, the hub link, and the HTTP keep-alive pool filled by concurrent requests.
        warm = await asyncio.gather(*(client.generate_image(f"warm {i}", size="64x64") for i in range(30)))
        await asyncio.gather(*(t.wait(60) for t in warm))
        del warm
        await settle(client)
        ends.clear()
        first = snapshot(client)
        rounds: list[dict[str, float]] = []
        seconds: list[float] = []
        cpu: list[float] = []
        peaks: list[int] = []
        for index in range(ROUNDS):
            started, cpu_started = time.monotonic(), time.process_time()
            handles: list[weakref.ref[Task]] = []
            statuses, peak = await one_round(client, TASKS, f"round {index + 1}", handles)
            seconds.append(time.monotonic() - started)
            cpu.append(time.process_time() - cpu_started)
            peaks.append(peak)
            assert statuses == {"completed": TASKS}, statuses
            assert len(ends) == TASKS and set(ends.values()) == {1}, "a completion was heard twice, or never"
            ends.clear()  # the test's own tally is not the client's memory
            await settle(client, first)  # a status read scheduled while a task ran may still hold it
            gc.collect()
            alive = sum(ref() is not None for ref in handles)
            assert alive == 0, f"{alive} Task objects still referenced after the user let go of them"
            del handles  # the test's own thousand weak references are not the client's memory either
            rounds.append(snapshot(client))
        for label, span in round_spans():
            count = len(seconds[span])
            if count:
                record_load(
                    LoadFigures(
                        scenario=f"one client, {label}",
                        tasks=TASKS * count,
                        seconds=round(sum(seconds[span]), 1),
                        before=first if span.start == 0 else rounds[0],
                        after=rounds[span][-1],
                        notes=f"{TASKS:,} tasks gathered at once{' per round' if count > 1 else ''}, at most "
                        f"{max(peaks[span])} open together; client CPU {sum(cpu[span]):.1f} s; the server (speed "
                        f"{SPEED:g}) in a process of its own",
                    )
                )
        assert_nothing_grew(first, rounds[-1], later_growth=growth(rounds[0], rounds[-1]), slack=TASKS)


async def test_a_task_cancelled_while_being_created_is_not_followed_for_good() -> None:
    """A generate call cancelled after the server made the task but before the caller got its handle (a widget
    closed, a cell interrupted): no one can reach that task, so the client must not follow it until it ends,
    which for this one is never."""
    async with LocalConduit(speed=100) as server, ConduitClient(server.base_url, server.api_key) as client:
        job = asyncio.create_task(client.generate_image("a stuck task", model=protocol.TEST_HANG_MODEL, size="64x64"))
        while not client.open_tasks:  # created on the server, being subscribed to and read
            await asyncio.sleep(0)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        await asyncio.sleep(0.1)
        figures = snapshot(client)
        assert figures["open_tasks"] == 0 and figures["subscriptions"] == 0, figures


async def test_a_client_closed_while_a_task_is_being_created_leaves_no_connection() -> None:
    """A call still under way when the client closes must not open a hub link of its own: nothing would ever
    release it, and it would stay connected (and reconnecting) for as long as the process runs."""
    async with LocalConduit(speed=100) as server:
        client = await ConduitClient(server.base_url, server.api_key).start()
        created, closed = asyncio.Event(), asyncio.Event()
        create = client.rest.create

        async def answered_late(kind: Any, body: dict[str, Any]) -> dict[str, Any]:
            answer = await create(kind, body)
            created.set()
            await closed.wait()  # the answer is in, but its caller only sees it once the client has closed
            return answer

        client.rest.create = answered_late  # type: ignore[method-assign]
        call = asyncio.ensure_future(client.generate_image("a task made as the client closes", size="64x64"))
        await created.wait()
        await client.aclose()
        closed.set()
        with pytest.raises(ConfigurationError):
            await call
        assert not POOL.links(), f"hub links left behind by a closed client: {POOL.links()}"


# -- 50 widgets in one kernel -----------------------------------------------------------------------

CELLS = [
    f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
    + ("import tracemalloc\ntracemalloc.start()\n" if SOAK else "")
    + "from tests.faults.resources import emit, kernel_snapshot, widget_round\n"
    # Warm up with a round of the same size: lazy imports, the shared client, both hub links, the HTTP pool.
    f"warm = await widget_round({WIDGETS}, 'warm up')",
    "emit('before', kernel_snapshot())",
]
for _round in range(ROUNDS):
    CELLS += [f"emit('round', await widget_round({WIDGETS}, 'round {_round + 1}'))", "emit('after', kernel_snapshot())"]


def server_connections(server: LocalConduit) -> int:
    count: int = server._on_server_loop(lambda app: app[CONTEXT].hubs.connection_count, -1)
    return count


@pytest.mark.timeout(900 if SOAK else 300)
def test_fifty_widgets_in_one_kernel_leave_nothing_behind(monkeypatch) -> None:
    with LocalConduit(speed=SPEED) as server:
        monkeypatch.setenv("CONDUIT_BASE_URL", server.base_url)
        monkeypatch.setenv("CONDUIT_API_KEY", server.api_key)
        connections: list[int] = []
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
        NotebookClient(
            notebook,
            timeout=180,
            kernel_name="python3",
            resources={"metadata": {"path": str(ROOT)}},
            on_cell_executed=lambda **_: connections.append(server_connections(server)),
        ).execute()

    lines = [
        json.loads(line[len("LOAD ") :])
        for cell in notebook.cells
        for output in cell.outputs
        if output.get("name") == "stdout"
        for line in output["text"].splitlines()
        if line.startswith("LOAD ")
    ]
    snapshots = [entry["figures"] for entry in lines if entry["label"] in ("before", "after")]
    runs = [entry["figures"] for entry in lines if entry["label"] == "round"]
    assert len(snapshots) == ROUNDS + 1 and len(runs) == ROUNDS, lines

    for run in runs:
        assert run["statuses"] == {"completed": WIDGETS}, run
        assert run["clients"] == 1, "the widgets did not share one client"
        assert run["hub_links"] == 2 and run["connections_made"] == 2, f"not one connection per hub: {run}"
    # The server saw one connection per hub the whole time: opened by the warm-up, never a second one.
    assert connections == [2] * len(CELLS), f"server-side hub connections after each cell: {connections}"
    for index, figures in enumerate(snapshots):
        figures["server_connections"] = connections[1 + 2 * index]  # after the cell that measured them

    for label, span in round_spans():
        count = len(runs[span])
        if count:
            record_load(
                LoadFigures(
                    scenario=f"one kernel, {label}",
                    tasks=WIDGETS * count,
                    widgets=WIDGETS * count,
                    seconds=round(sum(run["seconds"] for run in runs[span]), 1),
                    before=snapshots[span.start],
                    after=snapshots[span.stop],
                    notes=f"{WIDGETS} widgets displayed at once{' per round' if count > 1 else ''}, "
                    f"{runs[0]['videos']} of them videos, then closed; one shared client, one connection per hub",
                )
            )
    first, last = snapshots[0], snapshots[-1]
    for name in ("widget_objects", "widget_registry", "comms"):
        assert last[name] <= first[name], f"{name}: {first[name]} -> {last[name]} once every widget was closed"
    # 20 per widget: the HTTP pool alone holds 9 to 20 connections when measured (httpx closes those idle for
    # 5 s), some 60 allocations each. A leaked widget is hundreds of objects, and the counts above catch it.
    assert_nothing_grew(first, last, later_growth=growth(snapshots[1], snapshots[-1]), slack=20 * WIDGETS)


async def test_closed_widgets_and_galleries_leave_nothing_behind(conduit) -> None:
    """The widgets' share of the above, outside a kernel: closing a gallery closes the tiles it made and every
    Layout, so nothing stays in ipywidgets' registry (which would keep each one, comm and all, for good); a
    widget closed before its background set-up ran leaves no listener on the client."""
    from ipywidgets.widgets import widget as ipywidget

    from conduit_widget import Gallery, GenerationWidget

    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        before = set(ipywidget._instances)
        gallery = Gallery(client=client, columns=2)
        results = await gallery.generate_many(["a cat", "a dog", "a fox"], size="64x64")
        assert [r.status for r in results if r is not None] == ["completed"] * 3
        widget = GenerationWidget("an owl", size="64x64", client=client)
        await widget.wait(30)
        early = GenerationWidget("a hare", size="64x64", client=client)
        early.close()  # before its set-up (model list, connection listeners) has had a chance to run
        gallery.close()
        widget.close()
        await asyncio.sleep(0.3)
        assert set(ipywidget._instances) == before, "closed widgets (or their Layouts) are still registered"
        assert sum(map(len, client._listeners.values())) == 0, "a closed widget still listens to the client"
        handles = [weakref.ref(w) for w in (gallery, widget, early, *gallery.widgets)]
        del gallery, widget, early, results
        gc.collect()
        assert not [ref() for ref in handles if ref() is not None], "a closed widget was not freed"
