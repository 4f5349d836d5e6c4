"""A Task's listeners, and the client's: a user's callback that fails is logged and never stops the others."""

from __future__ import annotations

import asyncio
import logging

import pytest

from conduit_widget.client import ConduitClient
from conduit_widget.client.models import TaskEvent, TaskUpdate
from conduit_widget.client.task import Task

T = "task-1"


@pytest.fixture
def client() -> ConduitClient:
    return ConduitClient("http://127.0.0.1:9", "condt_listener_tests")  # never connects: events are handed in


async def test_a_failing_listener_is_logged_and_the_next_still_gets_the_update(client, caplog):
    task = Task(client, T, "image")
    seen: list[int] = []

    def broken(_update: TaskUpdate) -> None:
        raise ValueError("a bug in the user's callback")

    async def broken_later(_update: TaskUpdate) -> None:
        raise KeyError("a bug after an await")

    task.on_update(broken)
    task.on_update(broken_later)
    task.on_update(lambda update: seen.append(update.progress))
    with caplog.at_level(logging.ERROR, logger="conduit_widget"):
        task.deliver(TaskEvent(T, "hub", status="processing", progress=30))
        await asyncio.sleep(0)  # the async listener runs, and fails, on the loop
        await asyncio.sleep(0)
    assert seen == [30]
    failures = [(r.getMessage(), r.exc_info[0] if r.exc_info else None) for r in caplog.records]
    assert ("a task listener failed", ValueError) in failures
    assert ("a task listener failed", KeyError) in failures


async def test_a_failing_client_listener_is_logged_with_its_event_name(client, caplog):
    seen: list[int] = []

    def broken(_update: TaskUpdate) -> None:
        raise ValueError("a bug in the user's callback")

    client.on("progress", broken)
    client.on("progress", lambda update: seen.append(update.progress))
    task = Task(client, T, "image")
    with caplog.at_level(logging.ERROR, logger="conduit_widget"):
        task.deliver(TaskEvent(T, "hub", status="processing", progress=45))
    assert seen == [45]
    assert [(r.getMessage(), r.exc_info[0] if r.exc_info else None) for r in caplog.records] == [
        ("a 'progress' listener failed", ValueError)
    ]
