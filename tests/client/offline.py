"""Tasks and followers that never reach a network: for tests that hand events in themselves."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from conduit_widget.client.errors import NetworkError
from conduit_widget.client.follower import Follower
from conduit_widget.client.policies import Intervals, RetryPolicy, Transport
from conduit_widget.client.task import Task
from conduit_widget.protocol import Kind


async def _refuse_cancel(task: Task) -> None:
    raise AssertionError(f"task {task.id} asked a server to cancel it")


def loose_task(task_id: str = "a-task", kind: Kind = "image") -> Task:
    """A task no client follows: only what a test hands it changes it."""
    return Task(task_id, kind, cancel=_refuse_cancel)


class _NoServer:
    """A REST client whose every status read fails as a network error would: the follower logs it and goes on."""

    async def status(self, kind: Kind, task_id: str) -> dict[str, Any]:
        raise NetworkError(f"no server here (status of {kind} task {task_id})")


def offline_follower(
    listeners: dict[str, list[Any]] | None = None,
    *,
    transport: Transport = "polling",
    poll_interval: float = 1.0,
    watchdog_interval: float = 15.0,
    links: dict[Kind, Any] | None = None,
) -> Follower:
    """A follower (made on a running loop; `close` it) whose hub links are `links` and whose server is nowhere."""
    stand_ins = links or {}

    def link_for(kind: Kind) -> Any:
        return stand_ins.get(kind) or SimpleNamespace(connected=False, state="disconnected")

    return Follower(
        _NoServer(),  # type: ignore[arg-type]
        link_for,
        listeners if listeners is not None else {"progress": []},
        Intervals(transport, poll_interval, watchdog_interval, retry_failed=0),
        RetryPolicy(),
    )
