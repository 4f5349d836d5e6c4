"""Fault scenario: the server process killed (``kill -9``) mid-run and started again on the same port and data dir.

The restarted server resumes every task its predecessor left unfinished (``TaskRunner.resume_unfinished``),
so each task must still end, exactly once, for the user; and the server's own task table (read from its data
dir) must hold exactly one task per create the user made: none lost, none made twice by a retried create.
Creates sent while the server is down are refused, so the client may (and must) send them again.
Recovery: from the restarted server answering to the hub link being connected again.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx

from conduit_widget import ConduitClient
from conduit_widget.client.task import Task
from conduit_widget.server import generate_key
from tests.faults.scenario import FAST, SOAK, Watch, check, settle
from tests.processes import free_port, kill, spawn

SPEED = 10  # test-slow: about 5 s an image, so the kill finds them half done; dall-e-3: about 0.5 s
DOWN = 1.5  # seconds between the kill and the restart (plus the new process's own start-up)


async def answering(port: int, process: subprocess.Popen[bytes], timeout: float = 20) -> float:
    """When the server first answered /health (time.monotonic()), polled every 20 ms."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=1) as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, f"the server exited with {process.returncode}"
            try:
                await http.get(f"http://127.0.0.1:{port}/health")
                return time.monotonic()
            except httpx.TransportError:
                await asyncio.sleep(0.02)
    raise AssertionError("the server did not come up")


def server_prompts(data_dir: Path) -> Counter[str]:
    """How many tasks the server holds per prompt, read from its own store (what was really created)."""
    db = sqlite3.connect(f"file:{data_dir / 'tasks.sqlite3'}?mode=ro", uri=True)
    try:
        return Counter(json.loads(record)["prompt"] for (record,) in db.execute("SELECT record FROM tasks"))
    finally:
        db.close()


async def test_a_server_killed_and_restarted_mid_run_on_the_same_data_dir(tmp_path: Path) -> None:
    rounds, per_round, late_per_round = (3, 20, 3) if SOAK else (1, 14, 2)
    key, port = generate_key(), free_port()
    url = f"http://127.0.0.1:{port}"
    process = spawn(port, key, tmp_path, SPEED)
    await answering(port, process)
    tasks: list[Task] = []
    failing: set[str] = set()
    recovery: list[float] = []
    downtime: list[float] = []
    open_at_kill: list[int] = []
    try:
        # Creates refused while the server is down are sent again (they provably never reached it); 5 retries
        # (about 7 s of backoff) outlast the restart, where the default 3 (about 3 s) would only just.
        async with ConduitClient(url, key, max_retries=5, **FAST) as client:
            watch = Watch(client)

            async def create(label: str, kind: str) -> Task:
                if kind == "fail":
                    task = await client.generate_image(label, size="64x64", model="test-fail")
                    failing.add(task.id)
                elif kind == "slow-video":
                    task = await client.generate_video(label, size="64x64", duration=1, model="test-slow")
                elif kind == "video":
                    task = await client.generate_video(label, size="64x64", duration=1, model="local-video")
                else:
                    task = await client.generate_image(label, size="64x64", model=kind)
                return task

            # Slow tasks first, quick ones last: the kill finds both kinds under way.
            mix = ["test-slow", "slow-video", "test-slow", "fail", "test-slow", "dall-e-3", "video"]
            for round_ in range(rounds):
                batch = sorted((mix * per_round)[:per_round], key=lambda kind: kind not in ("test-slow", "slow-video"))
                for i, kind in enumerate(batch):
                    tasks.append(await create(f"restart {round_}.{i} {kind}", kind))
                await watch.up_after(0, 10)
                open_at_kill.append(sum(not t.done for t in tasks))
                killed = time.monotonic()
                kill(process)  # SIGKILL: no shutdown code runs, the store is left as it was
                await watch.down_after(killed, 10)
                late = [
                    asyncio.ensure_future(create(f"restart {round_}.late{i}", "dall-e-3"))
                    for i in range(late_per_round)
                ]
                await asyncio.sleep(DOWN)
                process = spawn(port, key, tmp_path, SPEED)
                accepted = await answering(port, process)
                downtime.append(accepted - killed)
                back = killed + await watch.up_after(killed, 30)
                recovery.append(max(0.0, back - accepted))  # the link may beat the 20 ms health poll
                tasks += await asyncio.gather(*late)
            tally = await settle("server killed and restarted", watch, tasks, failing, timeout=60)
            # One more drop once every task ended: the reconnect re-reads open tasks, so a late duplicate would show.
            since = time.monotonic()
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
                await http.post(url + "/_local/drop-connections")
            await watch.up_after(since, 10)
            tally.duplicated = watch.duplicated(tasks)
            tally.recovery = recovery
            on_server = server_prompts(tmp_path)
    finally:
        kill(process)
    made_twice = sum(count - 1 for count in on_server.values() if count > 1)
    unknown = sum(on_server.values()) - len(tasks)
    tally.duplicated += made_twice
    tally.notes = (
        f"{rounds} kill -9 and restart{'s' if rounds > 1 else ''}, the server away {statistics.median(downtime):.1f} s"
        f" (median); {', '.join(map(str, open_at_kill))} tasks open at the kill"
        f"{'s' if rounds > 1 else ''}, resumed by the new process; {late_per_round * rounds} created while it was"
        f" down (refused, sent again); {sum(on_server.values())} tasks on the server for {len(tasks)} the user"
        " holds"
    )
    check(tally)
    assert made_twice == 0, f"{made_twice} creates made a second task on the server: {on_server}"
    assert unknown == 0, f"the server holds {unknown} tasks the user never got"
    assert all(count > 0 for count in open_at_kill), "every task had ended before the kill: nothing was tested"
    assert tally.failed_as_expected == len(failing) > 0
