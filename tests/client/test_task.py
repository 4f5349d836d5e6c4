"""A Task's listeners, and the client's: a user's callback that fails is logged and never stops the others."""

from __future__ import annotations

import asyncio
import logging

from conduit_widget.client import ConduitClient
from conduit_widget.client.models import TaskEvent, TaskUpdate
from tests.client.offline import loose_task, offline_follower

T = "task-1"


async def test_a_failing_listener_is_logged_and_the_next_still_gets_the_update(caplog):
    task = loose_task(T)
    seen: list[int] = []

    def broken(_update: TaskUpdate) -> None:
        raise ValueError("a bug in the user's callback")

    async def broken_later(_update: TaskUpdate) -> None:
        raise KeyError("a bug after an await")

    task.on_update(broken)
    task.on_update(broken_later)
    task.on_update(lambda update: seen.append(update.progress))
    with caplog.at_level(logging.ERROR, logger="conduit_widget"):
        task.apply(TaskEvent(T, "hub", status="processing", progress=30))
        await asyncio.sleep(0)  # the async listener runs, and fails, on the loop
        await asyncio.sleep(0)
    assert seen == [30]
    failures = [(r.getMessage(), r.exc_info[0] if r.exc_info else None) for r in caplog.records]
    assert ("a task listener failed", ValueError) in failures
    assert ("a task listener failed", KeyError) in failures


async def test_a_failing_client_listener_is_logged_with_its_event_name(caplog):
    client = ConduitClient("http://127.0.0.1:9", "condt_listener_tests")  # never started: events are handed in
    seen: list[int] = []

    def broken(_update: TaskUpdate) -> None:
        raise ValueError("a bug in the user's callback")

    client.on("progress", broken)
    client.on("progress", lambda update: seen.append(update.progress))
    follower = offline_follower(client._listeners)  # as the client's own follower is made
    await follower.follow(loose_task(T))
    with caplog.at_level(logging.ERROR, logger="conduit_widget"):
        follower.receive(TaskEvent(T, "hub", status="processing", progress=45))
    await follower.close()
    assert seen == [45]
    assert [(r.getMessage(), r.exc_info[0] if r.exc_info else None) for r in caplog.records] == [
        ("a 'progress' listener failed", ValueError)
    ]
