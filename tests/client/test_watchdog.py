"""The watchdog reads the status of every task the hub has been quiet about for too long, and only those.

The client here is never started: tasks are put in its table by hand, the hub link is a stand-in with just
the `connected` flag the watchdog reads, and `schedule_reconcile` records instead of calling the server. The
live behaviour (a task whose events are lost still ends) is in test_faults.py.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from conduit_widget.client import ConduitClient
from conduit_widget.client.task import Task


@pytest.fixture
async def watched():
    client = ConduitClient("http://127.0.0.1:9", "condt_watchdogtestkey", watchdog_interval=0.2, poll_interval=0.05)
    link = SimpleNamespace(connected=True)
    client._links["image"] = link  # type: ignore[assignment]
    polled: list[str] = []

    def record(task: Task) -> asyncio.Future[None]:
        polled.append(task.id)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    client.schedule_reconcile = record  # type: ignore[method-assign]
    tasks = [Task(client, f"task-{i}", "image") for i in range(100)]
    for task in tasks:
        client._tasks[task.id] = task
    return client, link, tasks, polled


async def _tick(client: ConduitClient) -> None:
    client._poll_silent_tasks()
    await asyncio.sleep(0)  # the recorded reads' done callbacks


async def test_a_quiet_task_is_read_once_its_interval_has_passed_and_a_busy_one_never(watched):
    client, _link, tasks, polled = watched
    await _tick(client)
    assert polled == []
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        for task in tasks[1:]:
            task.last_heard = time.monotonic()  # events keep coming for all but the first
        await _tick(client)
        await asyncio.sleep(0.01)
    # Quiet for 0.5 s at a 0.2 s interval: read at about 0.2 s and 0.4 s, never more often.
    assert polled.count("task-0") == 2
    assert set(polled) == {"task-0"}


async def test_ticks_before_any_task_can_be_due_look_at_no_task(watched):
    client, _link, tasks, polled = watched
    await _tick(client)
    # Move one task's last activity back, which nothing in the client ever does: a tick that still looked at
    # every task would read it now; one that knows no task can be due yet does not.
    tasks[0].last_heard -= 10
    await _tick(client)
    assert polled == []
    await asyncio.sleep(0.25)
    await _tick(client)
    assert "task-0" in polled


async def test_a_hub_link_going_down_shortens_every_interval_at_once(watched):
    client, link, tasks, polled = watched
    await _tick(client)
    link.connected = False  # now the 0.05 s polling interval applies, well before the 0.2 s scan was due
    await asyncio.sleep(0.06)
    await _tick(client)
    assert sorted(polled) == sorted(task.id for task in tasks)
