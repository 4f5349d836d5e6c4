"""What every route of one server shares."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from conduit_widget.protocol import Kind
from conduit_widget.server.auth import RateLimiter, request_owner
from conduit_widget.server.config import ServerConfig
from conduit_widget.server.hub.hubs import Hubs
from conduit_widget.server.runner import TaskRunner
from conduit_widget.server.store import TaskRecord, TaskStore
from conduit_widget.server.validation import CreateRequest


def origin(request: web.Request) -> str:
    """The scheme, host and port the client reached us by, for absolute URLs in answers."""
    return str(request.url.origin())


class BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class ServerContext:
    config: ServerConfig
    store: TaskStore
    hubs: Hubs
    runner: TaskRunner
    media_dir: Path
    limiter: RateLimiter

    async def read_json(self, request: web.Request) -> Any:
        """The request body as JSON; BodyError(413) if too large, BodyError(400) if not JSON."""
        if request.content_length is not None and request.content_length > self.config.max_body:
            raise BodyError(413, f"The request body is larger than {self.config.max_body} bytes.")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise BodyError(413, f"The request body is larger than {self.config.max_body} bytes.") from None
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BodyError(400, f"The request body is not valid JSON: {exc}") from None

    def owned_task(self, request: web.Request, kind: Kind) -> TaskRecord | None:
        """The task named in the URL if the caller's key owns it: another key's task does not exist."""
        record = self.store.get(request.match_info["task_id"])
        if record is None or record.owner != request_owner(request) or record.kind != kind:
            return None
        return record

    def create_task(self, request: web.Request, create: CreateRequest) -> TaskRecord:
        record = TaskRecord(
            id=str(uuid.uuid4()),
            kind=create.kind,
            owner=request_owner(request),
            model=create.model.id,
            prompt=create.prompt,
            params=create.params,
            base_url=origin(request),
        )
        self.store.save(record)
        self.runner.start(record)
        return record
