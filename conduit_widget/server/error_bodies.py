"""The error bodies the real servers send, one builder per shape.

- OpenAI shape ``{"error": {"message", "type", "param", "code"}}``: every image route; every route of the Gateway
  (its handlers leave out a null ``param``, its error middleware writes it).
- ProblemDetails as ConduitLLM.Http's VideosController builds them: ``{"title", "status", "detail"}``, no ``type``.
- ValidationProblemDetails: MVC's automatic answer to a body that does not bind (ConduitLLM.Http only).
- ``{"error": {"message", "type"}, "details": null, "code": null}``: ConduitLLM.Http's generic task routes.
- A missing or wrong key: 401 with an empty body, before any route runs.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Final

from aiohttp import web

from conduit_widget.server.profiles import Profile

_PROBLEM_JSON: Final = "application/problem+json"
_RFC9110: Final = "https://tools.ietf.org/html/rfc9110#section-15.5."
# The body the Gateway's error middleware writes for any request body it could not read (BadHttpRequestException).
UNREADABLE_BODY: Final = "The request body could not be read"


def _trace_id() -> str:
    """W3C trace id, as ASP.NET puts Activity.Current.Id in a ProblemDetails."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


def _json(status: int, body: Any, content_type: str = "application/json", **headers: str) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type=content_type, headers=headers or None)


def openai_error(
    status: int,
    message: str,
    *,
    code: str | None,
    param: str | None = None,
    type_: str = "invalid_request_error",
    omit_null_param: bool = False,
) -> web.Response:
    error: dict[str, Any] = {"message": message, "type": type_, "param": param, "code": code}
    if omit_null_param:  # the Gateway's handlers: WhenWritingNull
        error = {key: value for key, value in error.items() if value is not None}
    return _json(status, {"error": error})


def problem(status: int, title: str, detail: str) -> web.Response:
    """A ProblemDetails the controller built itself: written as given, plus its status."""
    return _json(status, {"title": title, "status": status, "detail": detail}, _PROBLEM_JSON)


def validation_problem(errors: dict[str, list[str]]) -> web.Response:
    body = {
        "type": _RFC9110 + "1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": errors,
        "traceId": _trace_id(),
    }
    return _json(400, body, _PROBLEM_JSON)


def unsupported_media_type() -> web.Response:
    """MVC's 415 for a body that is not JSON: the default ProblemDetails of the status."""
    body = {"type": _RFC9110 + "16", "title": "Unsupported Media Type", "status": 415, "traceId": _trace_id()}
    return _json(415, body, _PROBLEM_JSON)


def problem_not_found() -> web.Response:
    """MVC's NotFound() with no value: the default ProblemDetails of 404."""
    body = {"type": _RFC9110 + "5", "title": "Not Found", "status": 404, "traceId": _trace_id()}
    return _json(404, body, _PROBLEM_JSON)


def unreadable_body(status: int) -> web.Response:
    """The Gateway's answer to a body that does not bind (400), is not JSON (415) or is too large (413)."""
    return openai_error(status, UNREADABLE_BODY, code="invalid_request_body")


def task_error(status: int, message: str, type_: str) -> web.Response:
    """ConduitLLM.Http's ErrorResponseDto, used by its generic task routes."""
    return _json(status, {"error": {"message": message, "type": type_}, "details": None, "code": None})


def unauthorized(path: str = "") -> web.Response:
    # The image routes also accept ephemeral keys, whose handler is the only one that sets WWW-Authenticate.
    headers = {"WWW-Authenticate": "EphemeralKey"} if path.startswith("/v1/images/") else None
    return web.Response(status=401, headers=headers)


def rate_limited(profile: Profile, path: str, retry_after: int, limit: int) -> web.Response:
    if profile.json == "gateway":  # a RateLimitExceededException through the error middleware
        error = {
            "message": "Rate limit exceeded",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_exceeded",
        }
        return _json(429, {"error": error}, **{"Retry-After": str(retry_after)})
    # ConduitLLM.Http's SecurityMiddleware: camelCase JSON and its rate-limit headers.
    body = {"error": f"Rate limit exceeded for path {path}", "code": 429}
    headers = {"Retry-After": str(retry_after), "X-RateLimit-Limit": str(limit), "X-RateLimit-Scope": "general"}
    return _json(429, body, **headers)
