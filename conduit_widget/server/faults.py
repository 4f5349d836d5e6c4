"""REST failure injection: make the next requests to a route fail the way real gateways fail.

Tests and demos of unhappy paths program faults with ``POST /_local/faults`` or ``LocalConduit.inject_fault``;
each fault matches a method and path prefix and is used up after ``count`` requests.

- ``status``: answer with this HTTP status (and ``body``/``headers``) instead of handling the request
- ``hang``: never answer (until the client gives up)
- ``reset``: close the connection before answering
- ``reset_after``: handle the request (a create really creates the task), then close without answering
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

FaultMode = Literal["status", "hang", "reset", "reset_after"]
FAULTS_ROUTE = "/_local/faults"
_HANG_CHECK = 0.05  # seconds between a hang's looks at whether its client is still there


@dataclass
class Fault:
    path: str
    method: str = "*"
    mode: FaultMode = "status"
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    count: int = 1

    def matches(self, request: web.Request) -> bool:
        return request.path.startswith(self.path) and self.method in ("*", request.method)


class FaultPlan:
    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.taken: list[tuple[float, str, str]] = []  # (time.monotonic(), method, path) of each faulted request

    def add(self, fault: Fault) -> None:
        if fault.mode not in ("status", "hang", "reset", "reset_after"):
            raise ValueError(f"unknown fault mode {fault.mode!r}")
        if fault.count < 1:
            raise ValueError("a fault's count must be at least 1")
        self.faults.append(fault)

    def take(self, request: web.Request) -> Fault | None:
        for fault in self.faults:
            if fault.matches(request):
                self.taken.append((time.monotonic(), request.method, request.path))
                fault.count -= 1
                if fault.count == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def middleware(self) -> Middleware:
        @web.middleware
        async def inject(request: web.Request, handler: Handler) -> web.StreamResponse:
            fault = None if request.path.startswith("/_local/") else self.take(request)
            if fault is None:
                return await handler(request)
            if fault.mode == "hang":
                # Until the client hangs up. aiohttp does not cancel a handler whose client has gone (handler
                # cancellation is off, as every other route needs it) and has no event for it, so the hang looks.
                while request.transport is not None and not request.transport.is_closing():  # noqa: ASYNC110
                    await asyncio.sleep(_HANG_CHECK)
                raise web.HTTPRequestTimeout()  # never sent: the connection is gone
            if fault.mode == "reset":
                _abort(request)
                raise web.HTTPInternalServerError()  # never sent: the connection is gone
            if fault.mode == "reset_after":
                await handler(request)
                _abort(request)
                raise web.HTTPInternalServerError()
            text = "" if fault.body is None else json.dumps(fault.body)
            return web.Response(status=fault.status, text=text, headers=fault.headers, content_type="application/json")

        return inject

    def routes(self) -> list[web.RouteDef]:
        async def add(request: web.Request) -> web.Response:
            try:
                self.add(Fault(**await request.json()))
            except (TypeError, ValueError) as exc:
                return web.json_response({"error": str(exc)}, status=400)
            return web.json_response({"faults": len(self.faults)})

        async def clear(request: web.Request) -> web.Response:
            self.faults.clear()
            return web.json_response({"faults": 0})

        return [web.post(FAULTS_ROUTE, add), web.delete(FAULTS_ROUTE, clear)]


def _abort(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()
