"""A hostile or broken Conduit: the fake server issue 17's tests point the client, the widget and a kernel at.

It speaks just enough of Conduit's REST routes (the 7c3fd76a shapes: ``task_id``, ``status``, ``result.images[]``)
for a task to be created, read and finished, and misbehaves as each test asks (`Hostility`): it echoes the key it
was sent into failures, media errors and hub refusals, names result URLs of its choosing, sends endless or
enormous media, answers with JSON nested past any parser, says 404 for a task it has, stalls before its headers,
or holds a hub connection open and says nothing. What it was asked is recorded (`requests`), so a test can show
that something was never fetched.

It runs on a thread of its own with its own event loop, so that a client on the test's loop, or a real kernel in
another process, reaches it over real sockets.
"""

from __future__ import annotations

import asyncio
import io
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web
from PIL import Image

KEY = "condt_hostile0123456789abcdefABCDEF"
Media = Literal["png", "endless", "bomb", "error"]
Hub = Literal["absent", "silent", "refusing"]


@dataclass
class Hostility:
    """How the fake Conduit misbehaves; the default is a plain, well-behaved one."""

    echo_key: bool = False  # failures, media errors and hub refusals quote the key the client sent
    fail: bool = False  # the task fails (with a message that quotes the key, if echo_key)
    fail_message: str = "the model crashed"
    urls: list[str] | None = None  # the result's URLs; None: one PNG on this server
    media: Media = "png"  # what the media route sends: a PNG, bytes without end, a decompression bomb, a 500
    deep_json: Literal["create", "status"] | None = None  # which answer nests 100,000 levels deep
    not_found_reads: int = 0  # status reads answered 404 before the task is admitted to exist
    header_delay: float = 0.0  # seconds every REST answer waits before its headers
    create_delay: float = 0.0  # seconds a create waits before its headers (the task exists from the start)
    hub: Hub = "absent"  # no hub (404), one that accepts and never speaks, or one that refuses quoting the key
    redirect_to: str | None = None  # the media route redirects here instead of answering


@dataclass
class HostileConduit:
    hostility: Hostility = field(default_factory=Hostility)
    requests: list[str] = field(default_factory=list)  # "GET /path" for every request, in order
    created: list[str] = field(default_factory=list)  # task ids, as they were made
    base_url: str = ""
    _status_reads: int = 0

    def echo(self, request: web.Request, text: str) -> str:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return f"{text} (for key {sent})" if self.hostility.echo_key else text

    # -- routes ------------------------------------------------------------------------------------

    async def record(self, request: web.Request) -> None:
        self.requests.append(f"{request.method} {request.path_qs}")
        if self.hostility.header_delay:
            await asyncio.sleep(self.hostility.header_delay)

    async def create(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        if self.hostility.deep_json == "create":
            return web.Response(text="[" * 100_000 + "]" * 100_000, content_type="application/json")
        task_id = "task_" + uuid.uuid4().hex
        self.created.append(task_id)
        await asyncio.sleep(self.hostility.create_delay)
        return web.json_response({"task_id": task_id, "status": "pending", "created_at": 0})

    async def status(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        task_id = request.match_info["task_id"]
        self._status_reads += 1
        if self._status_reads <= self.hostility.not_found_reads:
            return web.json_response({"error": {"message": f"Task {task_id} not found"}}, status=404)
        if self.hostility.deep_json == "status":
            return web.Response(text="[" * 100_000 + "]" * 100_000, content_type="application/json")
        if self.hostility.fail:
            error = self.echo(request, self.hostility.fail_message)
            return web.json_response({"task_id": task_id, "status": "Failed", "progress": 0, "error": error})
        urls = self.hostility.urls if self.hostility.urls is not None else [f"{self.base_url}/media/{task_id}.png"]
        result = {"created": 0, "data": [], "images": [{"url": u} for u in urls]}
        return web.json_response({"task_id": task_id, "status": "Completed", "progress": 100, "result": result})

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        return web.Response(status=204)

    async def media(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        hostility = self.hostility
        if hostility.redirect_to is not None:
            raise web.HTTPFound(hostility.redirect_to)
        if hostility.media == "error":
            return web.Response(status=500, text=self.echo(request, "storage is down"))
        if hostility.media == "png":
            return web.Response(body=picture(64, 48), content_type="image/png")
        if hostility.media == "bomb":
            return web.Response(body=bomb(), content_type="image/png")
        response = web.StreamResponse(headers={"Content-Type": "image/png"})  # endless: no length, no end
        await response.prepare(request)
        chunk = b"\x89PNG" + b"\0" * (1 << 20)
        while True:
            await response.write(chunk)

    async def negotiate(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        if self.hostility.hub == "absent":
            return web.Response(status=404)
        if self.hostility.hub == "refusing":
            return web.Response(status=401, text=self.echo(request, "Unauthorized"))
        token = uuid.uuid4().hex
        return web.json_response(
            {
                "negotiateVersion": 1,
                "connectionId": token,
                "connectionToken": token,
                "availableTransports": [{"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}],
            }
        )

    async def hub(self, request: web.Request) -> web.StreamResponse:
        await self.record(request)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for _ in socket:  # silent: takes the handshake and everything after it, answers nothing
            pass
        return socket

    def app(self) -> web.Application:
        app = web.Application()
        for kind in ("images", "videos"):
            app.router.add_post(f"/v1/{kind}/generations/async", self.create)
            app.router.add_get(f"/v1/{kind}/generations/{{task_id}}/status", self.status)
            app.router.add_delete(f"/v1/{kind}/generations/{{task_id}}", self.cancel)
        app.router.add_get("/media/{name}", self.media)
        for hub in ("image-generation", "video-generation"):
            app.router.add_post(f"/hubs/{hub}/negotiate", self.negotiate)
            app.router.add_get(f"/hubs/{hub}", self.hub)
        return app


def picture(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def bomb() -> bytes:
    """A PNG of 10,000 x 10,000 black pixels: a few kilobytes here, 300 MB as RGB in a kernel, more in a tab."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


@contextmanager
def hostile_conduit(hostility: Hostility | None = None) -> Iterator[HostileConduit]:
    """A HostileConduit serving on 127.0.0.1 from a thread of its own, for the `with` block."""
    server = HostileConduit(hostility or Hostility())
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(server.app(), handle_signals=False)

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        server.base_url = f"http://127.0.0.1:{port}"

    thread = threading.Thread(target=loop.run_forever, name="hostile-conduit", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
