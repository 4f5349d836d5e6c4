"""Sending creates: a few dozen at once at most, and no task left running unseen.

A create is the one call that costs money. A caller that gives up while it is on its way (a second generate that
replaces the first, an interrupted cell, a timeout around the call) can no longer be handed its task, though the
server may make it all the same. So the request is shielded from the caller's cancellation, and once its answer
names the task, the task is cancelled on the server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Final

from conduit_widget.client.dialects import created_task_id
from conduit_widget.client.errors import ConduitError
from conduit_widget.client.redaction import redact
from conduit_widget.client.rest import RestClient
from conduit_widget.protocol import Kind

log = logging.getLogger(__name__)

# Creates in flight at once; more wait their turn here. Queued in httpx instead, a burst of 1,000 would wait past
# its pool timeout (30 s) on a busy machine and fail with a PoolTimeout, and httpcore rescans its whole queue for
# every request it hands a connection, which made such a burst CPU-bound in the client.
MAX_CONCURRENT_CREATES: Final = 32
Spawn = Callable[[Coroutine[Any, Any, None]], None]


class Creates:
    """The creates of one client: `rest` sends them, `spawn` runs the cancels of abandoned ones in the background."""

    def __init__(self, rest: RestClient, spawn: Spawn) -> None:
        self._rest = rest
        self._spawn = spawn
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_CREATES)

    async def send(self, kind: Kind, request: dict[str, Any]) -> str:
        """POST the task; its id. Cancelled meanwhile, the task the server made anyway is cancelled there."""
        creating = asyncio.ensure_future(self._post(kind, request))
        try:
            answer = await asyncio.shield(creating)
        except asyncio.CancelledError:
            creating.add_done_callback(lambda done: self._abandoned(kind, done))
            raise
        task_id = created_task_id(answer)
        if task_id is None:
            raise ConduitError(f"the server accepted the {kind} task but its answer named no task id")
        if redact(task_id) != task_id:  # shown in the widget and saved with the notebook: it may not hold the key
            raise ConduitError(f"the server's id for the new {kind} task has the API key in it; not following it")
        return task_id

    def cancel_abandoned(self, kind: Kind, task_id: str) -> None:
        """Cancel, in the background, a task whose caller gave up before it got the handle."""
        self._spawn(self._cancel(kind, task_id))

    async def _post(self, kind: Kind, request: dict[str, Any]) -> dict[str, Any]:
        async with self._slots:
            return await self._rest.create(kind, request)

    def _abandoned(self, kind: Kind, creating: asyncio.Future[dict[str, Any]]) -> None:
        if creating.cancelled() or creating.exception() is not None:
            return  # nothing was made, or nobody can tell what: there is no id to cancel
        task_id = created_task_id(creating.result())
        if task_id is not None:
            self.cancel_abandoned(kind, task_id)

    async def _cancel(self, kind: Kind, task_id: str) -> None:
        try:
            await self._rest.cancel(kind, task_id)
        except ConduitError as exc:
            log.warning("the abandoned %s task %s could not be cancelled: %s", kind, task_id, exc.message)
        else:
            log.info("cancelled the %s task %s: it was created for a call that gave up waiting", kind, task_id)
