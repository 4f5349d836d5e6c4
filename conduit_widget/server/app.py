"""Assembling one local Conduit: the store, the hubs, the runner and the routes in an aiohttp app."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiohttp import web

from conduit_widget.server.auth import RateLimiter, auth_middleware
from conduit_widget.server.config import ServerConfig
from conduit_widget.server.context import ServerContext
from conduit_widget.server.hub.hubs import Hubs
from conduit_widget.server.rest_images import image_routes
from conduit_widget.server.rest_misc import misc_routes
from conduit_widget.server.rest_videos import video_routes
from conduit_widget.server.runner import TaskRunner
from conduit_widget.server.store import TaskStore

CONTEXT = web.AppKey("context", ServerContext)


def build_app(config: ServerConfig, base_url: str) -> web.Application:
    """The aiohttp application; tasks left unfinished in ``config.data_dir`` resume when it starts."""
    data_dir = config.data_dir
    temp: tempfile.TemporaryDirectory[str] | None = None
    if data_dir is None:
        temp = tempfile.TemporaryDirectory(prefix="conduit-local-")
        data_dir = Path(temp.name)
    store = TaskStore(data_dir / "tasks.sqlite3")
    hubs = Hubs(config, store.get)
    media_dir = data_dir / "media"
    runner = TaskRunner(config, store, hubs, media_dir)
    ctx = ServerContext(config, store, hubs, runner, media_dir, RateLimiter(config.rate_limit_per_minute))

    # Hub messages are capped separately; this caps REST bodies (aiohttp answers 413 past it).
    app = web.Application(middlewares=[auth_middleware(config.api_keys)], client_max_size=config.max_body)
    app[CONTEXT] = ctx
    app.add_routes(image_routes(ctx) + video_routes(ctx) + hubs.routes() + misc_routes(ctx))

    async def lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
        runner.resume_unfinished(base_url)
        yield
        await hubs.close()
        await runner.close()
        store.close()
        if temp is not None:
            temp.cleanup()

    app.cleanup_ctx.append(lifecycle)
    return app
