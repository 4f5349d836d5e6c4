"""The error bodies a real Conduit sends, one builder per shape.

- images: OpenAI shape ``{"error": {"message", "type", "param", "code"}}``
- videos: ProblemDetails ``{"type", "title", "status", "detail"}`` (application/problem+json)
- an unparseable body on either route: ASP.NET's ValidationProblemDetails
- a missing or wrong key: 401 with an empty body
- the rate limiter: 429 with an empty body and ``Retry-After``
"""

from __future__ import annotations

import json
import uuid

from aiohttp import web

_RFC9110 = "https://tools.ietf.org/html/rfc9110#section-15.5."
_PROBLEM_TYPES = {400: "1", 401: "2", 403: "4", 404: "5", 409: "10", 413: "14", 429: "29"}


def openai_error(
    status: int, message: str, *, code: str, param: str | None = None, type_: str = "invalid_request_error"
) -> web.Response:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return web.json_response(body, status=status)


def problem(status: int, title: str, detail: str) -> web.Response:
    body = {
        "type": _RFC9110 + _PROBLEM_TYPES.get(status, "1"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    return web.Response(status=status, text=json.dumps(body), content_type="application/problem+json")


def validation_problem(field: str, message: str) -> web.Response:
    body = {
        "type": _RFC9110 + "1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": {field: [message]},
        "traceId": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-00",
    }
    return web.Response(status=400, text=json.dumps(body), content_type="application/problem+json")


def unauthorized() -> web.Response:
    return web.Response(status=401)


def rate_limited(retry_after: int) -> web.Response:
    return web.Response(status=429, headers={"Retry-After": str(retry_after)})
