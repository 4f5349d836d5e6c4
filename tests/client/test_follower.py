"""The watchdog reads the status of every task the hub has been quiet about for too long, and only those.

The follower here reaches no server: its hub link is a stand-in with the `connected` flag the watchdog reads, and
its status reads are recorded instead of made. The live behaviour (a task whose events are lost still ends) is in
test_faults.py.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from conduit_widget.client.models import TaskEvent
from conduit_widget.client.task import Task
from tests.client.offline import loose_task, offline_follower


class StandInLink:
    kind = "image"

    def __init__(self) -> None:
        self.connected = True
        self.state = "connected"

    def add_listener(self, _callback: Any) -> None: ...
    def remove_listener(self, _callback: Any) -> None: ...
    def unsubscribe(self, _task_id: str, _sink: Any) -> None: ...
    def retry_now(self) -> None: ...

    async def subscribe(self, _task_id: str, _sink: Any) -> None: ...


@pytest.fixture
async def watched():
    link = StandInLink()
    follower = offline_follower(transport="auto", watchdog_interval=0.2, poll_interval=0.05, links={"image": link})
    tasks = [loose_task(f"task-{i}") for i in range(100)]
    for task in tasks:
        await follower.follow(task)
    polled: list[str] = []

    def record(followed: Any) -> asyncio.Future[None]:
        polled.append(followed.task.id)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    follower._schedule_reconcile = record  # type: ignore[method-assign]
    yield follower, link, tasks, polled
    await follower.close()


async def _tick(follower: Any) -> None:
    follower._poll_silent_tasks()
    await asyncio.sleep(0)  # the recorded reads' done callbacks


def _heard(follower: Any, task: Task) -> None:
    follower.receive(TaskEvent(task.id, "hub", status="processing", progress=10))


async def test_a_quiet_task_is_read_once_its_interval_has_passed_and_a_busy_one_never(watched):
    follower, _link, tasks, polled = watched
    await _tick(follower)
    assert polled == []
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        for task in tasks[1:]:
            _heard(follower, task)  # events keep coming for all but the first
        await _tick(follower)
        await asyncio.sleep(0.01)
    # Quiet for 0.5 s at a 0.2 s interval: read at about 0.2 s and 0.4 s, never more often.
    assert polled.count("task-0") == 2
    assert set(polled) == {"task-0"}


async def test_ticks_before_any_task_can_be_due_look_at_no_task(watched):
    follower, _link, tasks, polled = watched
    await _tick(follower)
    # Move one task's last activity back, which nothing in the follower ever does: a tick that still looked at
    # every task would read it now; one that knows no task can be due yet does not.
    follower._followed[tasks[0].id].last_heard -= 10
    await _tick(follower)
    assert polled == []
    await asyncio.sleep(0.25)
    await _tick(follower)
    assert "task-0" in polled


async def test_a_hub_link_going_down_shortens_every_interval_at_once(watched):
    follower, link, tasks, polled = watched
    await _tick(follower)
    link.connected = False  # now the 0.05 s polling interval applies, well before the 0.2 s scan was due
    await asyncio.sleep(0.06)
    await _tick(follower)
    assert sorted(polled) == sorted(task.id for task in tasks)
