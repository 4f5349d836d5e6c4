"""The generic task routes Conduit's Node SDK uses: status, cancel, and a long poll (TasksController.cs at 7c3fd76a
under ``/v1/tasks``; TasksEndpoints.cs under ``/v1/conduit/tasks`` in the Gateway).

They are stranger than the media routes, and the local Conduit is as strange: a cancel changes the recorded state
and nothing else (the job goes on, and may yet record its ending); a poll that runs out of time marks the task
timed out (7c3fd76a) or answers 408 (the Gateway). Unlike 7c3fd76a, another key's task is not shown: the local
Conduit does not give out what it cannot tell is yours.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.server import views
from conduit_widget.server.error_bodies import openai_error, task_error
from conduit_widget.server.shared_state import ServerContext, origin
from conduit_widget.server.store import utcnow

_POLL_LIMITS = (1, 600)  # seconds a poll may be asked to wait


def task_routes(ctx: ServerContext) -> list[web.RouteDef]:
    profile = ctx.profile
    gateway = profile.json == "gateway"
    assert profile.tasks_route is not None

    def not_found(request: web.Request) -> web.Response:
        if gateway:
            return openai_error(
                404, "The requested task was not found", code="not_found", type_="not_found_error", omit_null_param=True
            )
        return task_error(404, f"Task {request.match_info['task_id']} not found", "not_found")

    async def status(request: web.Request) -> web.Response:
        record = ctx.owned_task(request)
        if record is None:
            # 7c3fd76a answers Ok(null) for an unknown id, which MVC sends as 204 with no body.
            return not_found(request) if gateway else web.Response(status=204)
        return web.json_response(views.task_status(profile, record, origin(request)))

    async def cancel(request: web.Request) -> web.Response:
        record = ctx.owned_task(request)
        if record is None:
            return not_found(request)
        record.status, record.error, record.completed_at = protocol.CANCELLED, "Task was cancelled", utcnow()
        ctx.store.save(record)
        return web.Response(status=204)

    async def poll(request: web.Request) -> web.Response:
        record = ctx.owned_task(request)
        if record is None:
            return not_found(request)
        try:
            timeout = int(request.query.get("timeout", "300"))
            interval = int(request.query.get("interval", "2"))
        except ValueError:
            return web.Response(status=400)
        timeout = min(max(timeout, _POLL_LIMITS[0]), _POLL_LIMITS[1])
        interval = max(interval, 1)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not record.is_terminal and loop.time() < deadline:
            # Checked every `interval` seconds of the server's own clock: the local Conduit's speed does not apply.
            await asyncio.sleep(min(interval, max(0.0, deadline - loop.time())))
            record = ctx.store.get(record.id) or record
        if not record.is_terminal:
            if gateway:
                return openai_error(
                    408, "Task polling timed out", code="timeout", type_="timeout", omit_null_param=True
                )
            record.status, record.error, record.completed_at = protocol.TIMEDOUT, "Task timed out", utcnow()
            ctx.store.save(record)
        return web.json_response(views.task_status(profile, record, origin(request)))

    route = profile.tasks_route
    return [
        web.get(route + "/{task_id}", status),
        web.post(route + "/{task_id}/cancel", cancel),
        web.get(route + "/{task_id}/poll", poll),
    ]
