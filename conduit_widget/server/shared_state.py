"""What every route of one server shares: its profile, store, hubs and runner, and reading a request body."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from conduit_widget.server import error_bodies
from conduit_widget.server.auth import RateLimiter, request_owner
from conduit_widget.server.binding import BindingError, bind
from conduit_widget.server.config import ServerConfig
from conduit_widget.server.hub.hubs import Hubs
from conduit_widget.server.profiles import Profile, RequestSchema
from conduit_widget.server.runner import TaskRunner
from conduit_widget.server.store import TaskRecord, TaskStore
from conduit_widget.server.validation import CreateRequest

# System.Text.Json's MaxDepth: MVC's JsonOptions set 32, the Gateway keeps the serializer's 64.
_MAX_DEPTH: Final = {"mvc": 32, "gateway": 64}


def origin(request: web.Request) -> str:
    """The scheme, host and port the client reached us by, for absolute URLs in answers."""
    return str(request.url.origin())


def _is_json(content_type: str) -> bool:
    """The media types ASP.NET's JSON input formatter reads: application/json, text/json, application/*+json."""
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in ("application/json", "text/json") or (kind.startswith("application/") and kind.endswith("+json"))


@dataclass
class ServerContext:
    config: ServerConfig
    profile: Profile
    store: TaskStore
    hubs: Hubs
    runner: TaskRunner
    media_dir: Path
    limiter: RateLimiter

    async def bound_body(self, request: web.Request, schema: RequestSchema) -> dict[str, Any] | web.Response:
        """The body bound to `schema`, or the answer the profile's server gives a body it cannot bind."""
        gateway = self.profile.json == "gateway"
        if not _is_json(request.headers.get("Content-Type", "")):
            return error_bodies.unreadable_body(415) if gateway else error_bodies.unsupported_media_type()
        if request.content_length is not None and request.content_length > self.config.max_body:
            return error_bodies.unreadable_body(413) if gateway else web.Response(status=413)
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return error_bodies.unreadable_body(413) if gateway else web.Response(status=413)
        try:
            return bind(raw, schema, max_depth=_MAX_DEPTH[self.profile.json], not_blank=not gateway)
        except BindingError as exc:
            return error_bodies.unreadable_body(400) if gateway else error_bodies.validation_problem(exc.errors)

    def rate_limited(self, request: web.Request) -> web.Response | None:
        wait = self.limiter.retry_after(request_owner(request))
        if wait is None:
            return None
        assert self.config.rate_limit_per_minute is not None
        return error_bodies.rate_limited(self.profile, request.path, wait, self.config.rate_limit_per_minute)

    def owned_task(self, request: web.Request) -> TaskRecord | None:
        """The task named in the URL if the caller's key owns it: another key's task does not exist. No route checks
        the task's kind (an image route answers for a video task of the same key, as 7c3fd76a's do)."""
        record = self.store.get(request.match_info["task_id"])
        if record is None or record.owner != request_owner(request):
            return None
        return record

    def create_task(self, request: web.Request, create: CreateRequest) -> TaskRecord:
        record = TaskRecord(
            id=f"task_{uuid.uuid4().hex}",  # HybridAsyncTaskService's ids: "task_" and a Guid's 32 hex digits
            kind=create.kind,
            owner=request_owner(request),
            model=create.model_name,
            prompt=create.prompt,
            params=create.params,
            base_url=origin(request),
        )
        self.store.save(record)
        self.runner.start(record)
        return record
