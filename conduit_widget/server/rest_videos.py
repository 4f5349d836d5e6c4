"""``/v1/videos/generations/...``: ProblemDetails errors, camelCase bodies (knnlabs VideosController)."""

from __future__ import annotations

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.server import views
from conduit_widget.server.auth import request_owner
from conduit_widget.server.context import BodyError, ServerContext, origin
from conduit_widget.server.errors import problem, rate_limited, validation_problem
from conduit_widget.server.validation import InvalidRequest, parse_create


def _not_found(task_id: str) -> web.Response:
    return problem(404, "Task Not Found", f"Task '{task_id}' was not found.")


def video_routes(ctx: ServerContext) -> list[web.RouteDef]:
    async def create(request: web.Request) -> web.Response:
        try:
            body = await ctx.read_json(request)
        except BodyError as exc:
            if exc.status == 413:
                return problem(413, "Request Too Large", exc.message)
            return validation_problem("$", exc.message)
        try:
            create = parse_create("video", body)
        except InvalidRequest as exc:
            return problem(400, "Invalid Request", exc.message)
        wait = ctx.limiter.retry_after(request_owner(request))
        if wait is not None:
            return rate_limited(wait)
        record = ctx.create_task(request, create)
        return web.json_response(views.video_created(record), status=202)

    async def status(request: web.Request) -> web.Response:
        record = ctx.owned_task(request, "video")
        if record is None:
            return _not_found(request.match_info["task_id"])
        return web.json_response(views.video_status(record, origin(request)))

    async def retry(request: web.Request) -> web.Response:
        record = ctx.owned_task(request, "video")
        if record is None:
            return _not_found(request.match_info["task_id"])
        if record.status != protocol.FAILED:
            return problem(400, "Invalid Task State", f"Only failed tasks can be retried; this one is {record.status}.")
        if not record.is_retryable:
            return problem(400, "Task Not Retryable", record.error or "The task's failure is not retryable.")
        if record.retry_count >= ctx.config.max_retries:
            return problem(400, "Max Retries Exceeded", f"The task was retried {record.retry_count} times already.")
        record.retry_count += 1
        record.status, record.progress, record.message = protocol.PENDING, 0, "Retrying"
        record.error = record.error_code = record.completed_at = None
        record.is_retryable = False
        ctx.store.save(record)
        ctx.runner.start(record)
        return web.json_response(views.video_status(record, origin(request)))

    async def cancel(request: web.Request) -> web.Response:
        record = ctx.owned_task(request, "video")
        if record is None:
            return _not_found(request.match_info["task_id"])
        if record.is_terminal:
            return problem(409, "Cannot Cancel Task", f"The task is already {record.status}.")
        ctx.runner.cancel(record, "Cancelled by the user")
        return web.Response(status=204)

    return [
        web.post(protocol.VIDEO_CREATE, create),
        web.get(protocol.VIDEO_STATUS, status),
        web.post(protocol.VIDEO_RETRY, retry),
        web.delete(protocol.VIDEO_CANCEL, cancel),
    ]
