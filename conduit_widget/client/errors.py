"""Errors the client raises.

ConduitError
 ├── ConfigurationError       (also ValueError)  a bad option, or no key for a configured Conduit
 ├── APIError                 the server answered with an error status
 │    ├── ValidationError          400
 │    ├── AuthError                401: the key was missing or not accepted
 │    ├── InsufficientBalanceError 402
 │    ├── ForbiddenError           403 (also the builtin PermissionError)
 │    ├── NotFoundError            404: no such task, or another key's
 │    ├── ConflictError            409
 │    ├── RateLimitError           429, with ``retry_after`` seconds
 │    └── ServerError              5xx
 ├── HubError                 a hub method failed (e.g. "Unauthorized access to task")
 ├── NetworkError             no answer: refused, reset, unreachable
 ├── UnsafeUrlError           a media URL (or a redirect) the URL policy does not let the kernel fetch
 └── DeadlineExceededError    (also the builtin TimeoutError) a request or a ``wait()`` took too long

No name shadows a builtin: ``from conduit_widget import *`` leaves ``TimeoutError`` and ``PermissionError`` Python's.
Code written for 0.x that imports ``conduit_widget.TimeoutError`` or ``PermissionError`` gets the same classes.

Every error carries ``status`` (HTTP, if any) and ``task_id`` (if the error is about one task); messages
come from the server, whichever of its error shapes it used, and never contain the key. In IPython and
Jupyter they show as one line rather than a traceback: they are things to fix, not bugs to debug.
"""

from __future__ import annotations

import builtins
import json
from typing import Any

from conduit_widget.client.redaction import REDACTED, redact

__all__ = [
    "APIError",
    "AuthError",
    "ConduitError",
    "ConduitWarning",
    "ConfigurationError",
    "ConflictError",
    "DeadlineExceededError",
    "ForbiddenError",
    "HubError",
    "InsufficientBalanceError",
    "NetworkError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "UnsafeUrlError",
    "ValidationError",
    "error_for_status",
    "message_from_body",
]


class ConduitError(Exception):
    def __init__(self, message: str, *, status: int | None = None, task_id: str | None = None) -> None:
        # One line in a notebook, whatever a server put in its error text; and no key, whatever it quotes.
        message = redact(" ".join(message.split()))
        super().__init__(message)
        self.message = message
        self.status = status
        self.task_id = task_id

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: one red line names the problem.
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self.message}"]


class ConfigurationError(ConduitError, ValueError):
    pass


class APIError(ConduitError):
    pass


class ValidationError(APIError):
    pass


class AuthError(APIError):
    pass


class InsufficientBalanceError(APIError):
    pass


class ForbiddenError(APIError, builtins.PermissionError):
    pass


class NotFoundError(APIError):
    def __init__(
        self, message: str, *, status: int | None = 404, task_id: str | None = None, route_missing: bool = False
    ) -> None:
        super().__init__(message, status=status, task_id=task_id)
        # ASP.NET answers a route it does not map with an empty 404; a missing task always comes with a body.
        self.route_missing = route_missing


class ConflictError(APIError):
    pass


class RateLimitError(APIError):
    def __init__(
        self, message: str, *, status: int | None = 429, task_id: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status, task_id=task_id)
        self.retry_after = retry_after


class ServerError(APIError):
    pass


class HubError(ConduitError):
    pass


class NetworkError(ConduitError):
    pass


class UnsafeUrlError(ConduitError):
    """A media URL, or a redirect on the way to one, that `conduit_widget.url_policy` does not let the kernel fetch:
    link-local and metadata addresses, credentials, a private host named by a Conduit that is not on one."""


class DeadlineExceededError(ConduitError, builtins.TimeoutError):
    pass


# The 0.x names, kept importable; not in __all__, so that a star import shadows no builtin.
PermissionError = ForbiddenError
TimeoutError = DeadlineExceededError


class ConduitWarning(UserWarning):
    """Something the client worked around, that its user may want to know (a hub protocol the gateway refused)."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthError,
    402: InsufficientBalanceError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}
_DEFAULT_MESSAGES = {
    401: "the virtual key was missing or not accepted",
    402: "the virtual key's balance is too low",
    403: "the virtual key may not do this",
    404: "not found",
    429: "too many requests",
}


def message_from_body(body: bytes | str) -> str | None:
    """The human message in any of Conduit's error shapes, or None for an empty or unknown body."""
    if not body:
        return None
    try:
        data: Any = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python's parser goes: shown as text
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        return text.strip()[:500] or None
    if isinstance(data, str):
        return data
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])  # OpenAI shape, and {error: {message, type}} on /v1/tasks
    if isinstance(data.get("errors"), dict):  # ValidationProblemDetails
        problems = [f"{field}: {'; '.join(map(str, msgs))}" for field, msgs in data["errors"].items()]
        return "; ".join(problems) or data.get("title")
    if isinstance(data.get("detail"), str) or isinstance(data.get("title"), str):  # ProblemDetails
        return ": ".join(str(data[k]) for k in ("title", "detail") if data.get(k))
    if isinstance(data.get("message"), str):  # the 402 balance shape {error, message, statusCode}
        return str(data["message"])
    if isinstance(error, str):  # security middleware {error, code}
        return error
    return None


def error_for_status(
    status: int,
    body: bytes | str,
    *,
    what: str,
    task_id: str | None = None,
    retry_after: float | None = None,
    secret: str | None = None,
) -> APIError:
    """The typed error for an HTTP error answer to `what` (e.g. "creating an image task")."""
    detail = message_from_body(body) or _DEFAULT_MESSAGES.get(status, "no details given")
    if secret:
        detail = detail.replace(secret, REDACTED)  # should a server ever echo it back: marked as redact() marks it
    message = f"{what} failed with HTTP {status}: {detail}"
    if task_id:
        message += f" (task {task_id})"
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else APIError)
    if cls is NotFoundError:
        return NotFoundError(message, status=status, task_id=task_id, route_missing=not body.strip())
    if cls is RateLimitError:
        if retry_after is not None:
            message += f"; retry after {retry_after:g} s"
        return RateLimitError(message, status=status, task_id=task_id, retry_after=retry_after)
    return cls(message, status=status, task_id=task_id)
