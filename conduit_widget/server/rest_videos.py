"""The async video routes: ProblemDetails at 7c3fd76a (VideosController.cs), the OpenAI shape on the Gateway
(VideosEndpoints.cs), with the same checks and texts otherwise."""

from __future__ import annotations

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.server import views
from conduit_widget.server.error_bodies import openai_error, problem
from conduit_widget.server.shared_state import ServerContext, origin
from conduit_widget.server.store import MAX_RETRIES
from conduit_widget.server.validation import Refusal, check_create

# TaskState's names, as the retry refusal quotes them.
_STATE_NAMES = {
    protocol.PENDING: "Pending",
    protocol.PROCESSING: "Processing",
    protocol.COMPLETED: "Completed",
    protocol.FAILED: "Failed",
    protocol.CANCELLED: "Cancelled",
    protocol.TIMEDOUT: "TimedOut",
}
# The Gateway's texts for what 7c3fd76a answers with one "Invalid video generation request".
_GATEWAY_REFUSALS = {
    "missing_prompt": ("Prompt is required", "missing_parameter"),
    "missing_model": ("Model is required", "missing_parameter"),
    "duration_range": ("Duration must be between 1 and 60 seconds", "invalid_value"),
    "fps_range": ("FPS must be between 1 and 120", "invalid_value"),
}


def video_routes(ctx: ServerContext) -> list[web.RouteDef]:
    profile = ctx.profile
    gateway = profile.json == "gateway"

    def error(status: int, title: str, detail: str, code: str) -> web.Response:
        """One refusal in this server's words: ProblemDetails (title, detail), or the Gateway's OpenAI shape (detail,
        code)."""
        if gateway:
            return openai_error(status, detail, code=code, omit_null_param=True)
        return problem(status, title, detail)

    def refused(refusal: Refusal) -> web.Response:
        if refusal.reason == "local_limit":
            return error(400, "Invalid Request", refusal.message, "invalid_value")
        if gateway:
            message, code = _GATEWAY_REFUSALS[refusal.reason]
            return openai_error(400, message, code=code, omit_null_param=True)
        return problem(400, "Invalid Request", "Invalid video generation request")

    def not_found() -> web.Response:
        return error(404, "Task Not Found", "The requested task was not found", "not_found")

    async def create(request: web.Request) -> web.Response:
        body = await ctx.bound_body(request, profile.video_request)
        if isinstance(body, web.Response):
            return body
        try:
            create = check_create(profile, "video", body)
        except Refusal as refusal:
            return refused(refusal)
        limited = ctx.rate_limited(request)
        if limited is not None:
            return limited
        record = ctx.create_task(request, create)
        return web.json_response(views.video_created(profile, record), status=202)

    async def status(request: web.Request) -> web.Response:
        record = ctx.owned_task(request)
        if record is None:
            return not_found()
        return web.json_response(views.video_status(profile, record, origin(request)))

    async def retry(request: web.Request) -> web.Response:
        record = ctx.owned_task(request)
        if record is None:
            return not_found()
        if record.status != protocol.FAILED:
            detail = f"Only failed tasks can be retried. Current state: {_STATE_NAMES[record.status]}"
            return error(400, "Invalid Task State", detail, "invalid_operation")
        if not record.is_retryable:
            return error(400, "Task Not Retryable", "This task has been marked as non-retryable", "invalid_operation")
        if record.retry_count >= MAX_RETRIES:
            detail = f"Task has already been retried {record.retry_count} times (max: {MAX_RETRIES})"
            return error(400, "Max Retries Exceeded", detail, "invalid_operation")
        record.retry_count += 1
        record.status, record.progress, record.message = protocol.PENDING, 0, "Retrying"
        record.error = f"Manual retry requested (attempt {record.retry_count}/{MAX_RETRIES})"
        record.error_code = record.completed_at = None
        ctx.store.save(record)
        # 7c3fd76a leaves a retried task pending (nothing picks it up again); the route means to start it again.
        ctx.runner.start(record)
        scheduled = f"Retry {record.retry_count}/{MAX_RETRIES} scheduled"
        return web.json_response(views.video_status(profile, record, origin(request), error=scheduled))

    async def cancel(request: web.Request) -> web.Response:
        record = ctx.owned_task(request)
        if record is None:
            return not_found()
        if record.status in (protocol.COMPLETED, protocol.FAILED):
            detail = f"Task is already {record.status} and cannot be cancelled"
            return error(409, "Cannot Cancel Task", detail, "invalid_operation")
        ctx.runner.cancel(record, "Task was cancelled")
        return web.Response(status=204)

    routes = profile.routes
    return [
        web.post(routes["video_create"], create),
        web.get(routes["video_status"], status),
        web.post(routes["video_retry"], retry),
        web.delete(routes["video_cancel"], cancel),
    ]
