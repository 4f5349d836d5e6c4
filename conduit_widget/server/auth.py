"""Virtual keys: where a request carries one, which task owner it maps to, and keeping it out of logs."""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Middleware

from conduit_widget.server.error_bodies import unauthorized

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def request_key(request: web.Request) -> str | None:
    """The order knnlabs/Conduit's VirtualKeyAuthenticationHandler reads a key in."""
    if request.path.startswith("/hubs"):
        for name in ("access_token", "api_key"):
            if name in request.query:
                return request.query[name]  # present but empty is an empty key, not a reason to look further
    bearer = request.headers.get("Authorization", "")
    if bearer[:7].lower() == "bearer ":
        return bearer[7:].strip()
    api_key = request.headers.get("X-API-Key")
    return api_key.strip() if api_key is not None else None


def request_owner(request: web.Request) -> str:
    """The task owner a request speaks for; the auth middleware has already checked its key."""
    key = request_key(request)
    assert key is not None, "route is not behind the auth middleware"
    return key_hash(key)


def auth_middleware(keys: Iterable[str], public: tuple[str, ...]) -> Middleware:
    """Every request needs a known key but those under a `public` prefix: health checks, and media, which browsers
    fetch with <img>/<video> and so cannot send headers (media live under unguessable task ids, as a real gateway's
    storage URLs do)."""
    owners = frozenset(key_hash(k) for k in keys)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(public):
            return await handler(request)
        key = request_key(request)
        if key is None or key_hash(key) not in owners:
            return unauthorized(request.path)
        return await handler(request)

    return middleware


class RateLimiter:
    """At most `per_minute` create requests per key in any sliding minute."""

    def __init__(self, per_minute: int | None) -> None:
        self._limit = per_minute
        self._seen: dict[str, deque[float]] = {}

    def retry_after(self, owner: str) -> int | None:
        """None if this request may go ahead (and count it), else the seconds to wait."""
        if self._limit is None:
            return None
        now = time.monotonic()
        seen = self._seen.setdefault(owner, deque())
        while seen and now - seen[0] >= 60:
            seen.popleft()
        if len(seen) >= self._limit:
            return max(1, int(60 - (now - seen[0]) + 0.999))
        seen.append(now)
        return None


class RedactingAccessLogger(AbstractAccessLogger):
    """aiohttp's access log, minus query strings: hub URLs carry the key as ``access_token``."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, duration: float) -> None:
        self.logger.info("%s %s %s %.1fms", request.method, request.path, response.status, duration * 1000)
