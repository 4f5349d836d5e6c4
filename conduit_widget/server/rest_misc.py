"""Models, media files, health, and the local-only test controls."""

from __future__ import annotations

import re
import time

from aiohttp import web

from conduit_widget import protocol
from conduit_widget._version import __version__
from conduit_widget.server.catalogue import listed_models
from conduit_widget.server.context import ServerContext
from conduit_widget.server.views import MEDIA_ROUTE

_TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MEDIA_NAME = re.compile(r"^[a-z]+(-\d+)?\.(png|mp4)$")
_STARTED = int(time.time())

DROP_CONNECTIONS = "/_local/drop-connections"


def misc_routes(ctx: ServerContext) -> list[web.RouteDef]:
    async def models(request: web.Request) -> web.Response:
        data = [
            # "type" is not OpenAI's: it lets a model picker offer image models for images.
            {"id": m.id, "object": "model", "created": _STARTED, "owned_by": "local-conduit", "type": m.kind}
            for m in listed_models()
        ]
        return web.json_response({"object": "list", "data": data})

    async def media(request: web.Request) -> web.StreamResponse:
        task_id, name = request.match_info["task_id"], request.match_info["name"]
        # Both parts are checked against strict patterns, so no path outside the media folder can be named.
        if not _TASK_ID.match(task_id) or not _MEDIA_NAME.match(name):
            raise web.HTTPNotFound()
        path = ctx.media_dir / task_id / name
        if not path.is_file():
            raise web.HTTPNotFound()
        # FileResponse answers Range requests, which <video> uses to seek.
        return web.FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "Healthy", "version": __version__})

    async def index(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "service": "conduit-widget local Conduit",
                "version": __version__,
                "hubs": list(protocol.HUB_PATHS.values()),
            }
        )

    async def drop_connections(request: web.Request) -> web.Response:
        return web.json_response({"dropped": ctx.hubs.drop_connections()})

    return [
        web.get(protocol.MODELS, models),
        web.get(MEDIA_ROUTE, media),
        web.get("/health", health),
        web.get("/", index),
        web.post(DROP_CONNECTIONS, drop_connections),
    ]
