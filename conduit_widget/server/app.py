"""Assembling one local Conduit: the store, the hubs, the runner and the routes in an aiohttp app."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.server.auth import RateLimiter, auth_middleware
from conduit_widget.server.bench import bench_routes
from conduit_widget.server.config import ServerConfig
from conduit_widget.server.context import ServerContext
from conduit_widget.server.faults import FaultPlan
from conduit_widget.server.hub.hubs import Hubs
from conduit_widget.server.rest_images import image_routes
from conduit_widget.server.rest_misc import misc_routes
from conduit_widget.server.rest_videos import video_routes
from conduit_widget.server.runner import TaskRunner
from conduit_widget.server.store import TaskStore

CONTEXT = web.AppKey("context", ServerContext)
SIMULATOR_HEADER = protocol.SIMULATOR_HEADER
FAULTS = web.AppKey("faults", FaultPlan)


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
    faults = FaultPlan()
    app = web.Application(
        middlewares=[auth_middleware(config.api_keys), faults.middleware()], client_max_size=config.max_body
    )
    app[CONTEXT] = ctx
    app[FAULTS] = faults
    rest = image_routes(ctx) + video_routes(ctx)
    if config.routes in ("successor", "both"):
        # The successor gateway (nickna/Conduit) serves the same media routes under /v1/conduit/.
        successor = [web.route(r.method, r.path.replace("/v1/", "/v1/conduit/", 1), r.handler) for r in rest]
        rest = successor if config.routes == "successor" else rest + successor
    app.add_routes(rest + hubs.routes() + misc_routes(ctx) + faults.routes())
    if config.bench:
        app.add_routes(bench_routes(hubs))

    async def lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
        runner.resume_unfinished(base_url)
        yield
        await hubs.close()
        await runner.close()
        store.close()
        if temp is not None:
            temp.cleanup()

    async def label(request: web.Request, response: web.StreamResponse) -> None:
        # Says "I am the local simulator" so clients can label themselves; a real gateway sends no such header.
        response.headers[SIMULATOR_HEADER] = "conduit-widget"

    app.on_response_prepare.append(label)
    app.cleanup_ctx.append(lifecycle)
    return app
