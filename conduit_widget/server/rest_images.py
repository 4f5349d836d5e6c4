"""``/v1/images/generations/...``: OpenAI-shaped errors, snake_case bodies (knnlabs ImagesController)."""

from __future__ import annotations

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.server import views
from conduit_widget.server.auth import request_owner
from conduit_widget.server.context import BodyError, ServerContext, origin
from conduit_widget.server.errors import openai_error, rate_limited, validation_problem
from conduit_widget.server.validation import InvalidRequest, parse_create


def _not_found() -> web.Response:
    return openai_error(404, "Task not found", code="not_found", param="task_id")


def image_routes(ctx: ServerContext) -> list[web.RouteDef]:
    async def create(request: web.Request) -> web.Response:
        try:
            body = await ctx.read_json(request)
        except BodyError as exc:
            if exc.status == 413:
                return openai_error(413, exc.message, code="request_too_large")
            return validation_problem("$", exc.message)
        try:
            create = parse_create("image", body)
        except InvalidRequest as exc:
            return openai_error(400, exc.message, code=exc.code, param=exc.field)
        wait = ctx.limiter.retry_after(request_owner(request))
        if wait is not None:
            return rate_limited(wait)
        record = ctx.create_task(request, create)
        return web.json_response(views.image_created(record, origin(request)), status=202)

    async def status(request: web.Request) -> web.Response:
        record = ctx.owned_task(request, "image")
        if record is None:
            return _not_found()
        return web.json_response(views.image_status(record, origin(request)))

    async def cancel(request: web.Request) -> web.Response:
        record = ctx.owned_task(request, "image")
        if record is None:
            return _not_found()
        if record.is_terminal:
            return openai_error(400, f"Cannot cancel a task that is already {record.status}.", code="invalid_operation")
        ctx.runner.cancel(record, "Cancelled by the user")
        return web.json_response({"message": "Task cancellation requested", "task_id": record.id})

    return [
        web.post(protocol.IMAGE_CREATE, create),
        web.get(protocol.IMAGE_STATUS, status),
        web.delete(protocol.IMAGE_CANCEL, cancel),
    ]
