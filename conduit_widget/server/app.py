"""Assembling one local Conduit: the store, the hubs, the runner and the routes in an aiohttp app."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from conduit_widget import protocol
from conduit_widget.server.auth import RateLimiter, auth_middleware
from conduit_widget.server.config import ServerConfig
from conduit_widget.server.connections import ConnectionGuard
from conduit_widget.server.faults import FaultPlan
from conduit_widget.server.hub.hubs import Hubs
from conduit_widget.server.profiles import get_profile
from conduit_widget.server.rest_images import image_routes
from conduit_widget.server.rest_misc import misc_routes
from conduit_widget.server.rest_tasks import task_routes
from conduit_widget.server.rest_videos import video_routes
from conduit_widget.server.runner import TaskRunner
from conduit_widget.server.shared_state import ServerContext
from conduit_widget.server.store import TaskStore

CONTEXT = web.AppKey("context", ServerContext)
SIMULATOR_HEADER = protocol.SIMULATOR_HEADER
FAULTS = web.AppKey("faults", FaultPlan)
GUARD = web.AppKey("guard", ConnectionGuard)


@web.middleware
async def _unmapped(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A path no route maps, or a method it does not take: ASP.NET's empty 404 and 405, before any key is asked for
    (endpoint routing finds no endpoint, so no authorization runs)."""
    missing = request.match_info.http_exception
    if isinstance(missing, web.HTTPMethodNotAllowed):
        return web.Response(status=405, headers={"Allow": ", ".join(sorted(missing.allowed_methods))})
    if missing is not None:
        return web.Response(status=404)
    return await handler(request)


Extension = Callable[[ServerContext], Iterable[web.RouteDef]]


def build_app(config: ServerConfig, base_url: str, extensions: Iterable[Extension] = ()) -> web.Application:
    """The aiohttp application; tasks left unfinished in ``config.data_dir`` resume when it starts."""
    data_dir = config.data_dir
    temp: tempfile.TemporaryDirectory[str] | None = None
    if data_dir is None:
        temp = tempfile.TemporaryDirectory(prefix="conduit-local-")
        data_dir = Path(temp.name)
    store = TaskStore(data_dir / "tasks.sqlite3")
    profile = get_profile(config.profile)
    hubs = Hubs(config, profile, store.get)
    media_dir = data_dir / "media"
    runner = TaskRunner(config, profile, store, hubs, media_dir)
    ctx = ServerContext(config, profile, store, hubs, runner, media_dir, RateLimiter(config.rate_limit_per_minute))

    # Hub messages are capped separately; this caps REST bodies (aiohttp answers 413 past it).
    faults = FaultPlan()
    guard = ConnectionGuard(config.limits)  # its protocols are made where the server listens (LocalConduit.start)
    public = ("/health", profile.media_files_route + "/")  # media are fetched by <img> and <video>, without a key
    app = web.Application(
        middlewares=[guard.middleware(), _unmapped, auth_middleware(config.api_keys, public), faults.middleware()],
        client_max_size=config.max_body,
    )
    app[CONTEXT] = ctx
    app[FAULTS] = faults
    app[GUARD] = guard
    routes = image_routes(ctx) + video_routes(ctx) + hubs.routes() + misc_routes(ctx) + faults.routes()
    if profile.tasks_route is not None:
        routes += task_routes(ctx)
    for extension in extensions:  # routes a caller adds, made with the same context
        routes += extension(ctx)
    app.add_routes(routes)

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
