"""The async image routes: errors in the OpenAI shape on every version (ImagesController.Async.cs at 7c3fd76a,
ImagesEndpoints.Async.cs in the Gateway)."""

from __future__ import annotations

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.server import views
from conduit_widget.server.error_bodies import openai_error
from conduit_widget.server.shared_state import ServerContext, origin
from conduit_widget.server.validation import Refusal, check_create

# After a task ended, its cancel is refused with this, whichever way it ended (a timed-out task may be "cancelled").
_ENDED = frozenset({protocol.COMPLETED, protocol.FAILED, protocol.CANCELLED})


def image_routes(ctx: ServerContext) -> list[web.RouteDef]:
    profile = ctx.profile
    gateway = profile.json == "gateway"

    def error(status: int, message: str, code: str, param: str | None = None) -> web.Response:
        return openai_error(status, message, code=code, param=param, omit_null_param=gateway)

    def refused(refusal: Refusal, model: str) -> web.Response:
        if refusal.reason == "missing_prompt":  # reached on the Gateway only: MVC refused it while binding
            return error(400, "Prompt is required", "missing_parameter", "prompt")
        if refusal.reason == "missing_model":
            return error(400, "Model is required", "missing_parameter", "model")
        if refusal.reason == "unsupported_model":
            return error(400, f"Model {model} does not support image generation", "unsupported_model", "model")
        return error(400, refusal.message, "invalid_parameter", refusal.field)  # a local model's own limit

    async def create(request: web.Request) -> web.Response:
        body = await ctx.bound_body(request, profile.image_request)
        if isinstance(body, web.Response):
            return body
        try:
            create = check_create(profile, "image", body)
        except Refusal as refusal:
            return refused(refusal, str(body.get("model") or ""))
        limited = ctx.rate_limited(request)
        if limited is not None:
            return limited
        record = ctx.create_task(request, create)
        return web.json_response(views.image_created(profile, record, origin(request)), status=202)

    def not_found() -> web.Response:
        return error(404, "Task not found", "not_found", "task_id")

    async def status(request: web.Request) -> web.Response:
        record = ctx.owned_task(request)
        if record is None:
            return not_found()
        return web.json_response(views.image_status(profile, record, origin(request)))

    async def cancel(request: web.Request) -> web.Response:
        record = ctx.owned_task(request)
        if record is None:
            return not_found()
        if record.status in _ENDED:
            return error(400, "Task has already completed", "invalid_operation")
        ctx.runner.cancel(record, "Cancelled by user request")
        return web.json_response({"message": "Task cancellation requested", "task_id": record.id})

    routes = profile.routes
    return [
        web.post(routes["image_create"], create),
        web.get(routes["image_status"], status),
        web.delete(routes["image_cancel"], cancel),
    ]
