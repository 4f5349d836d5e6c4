"""The local Conduit a client starts when nothing is configured: one per event loop, shared and counted.

Fifty widgets in a notebook with no ``CONDUIT_*`` settings use one in-process server (and so one hub
connection per hub), started with the first and stopped with the last.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conduit_widget.server import LocalConduit

_servers: dict[int, tuple[LocalConduit, int]] = {}
_urls: set[str] = set()


def _speed(requested: float | None) -> float:
    if requested is not None:
        return requested
    try:
        return float(os.environ.get("CONDUIT_LOCAL_SPEED", "1"))
    except ValueError:
        return 1.0


async def acquire(speed: float | None = None) -> LocalConduit:
    from conduit_widget.server import LocalConduit  # only clients that need it pay for the server

    loop = id(asyncio.get_running_loop())
    entry = _servers.get(loop)
    if entry is None:
        server = await LocalConduit(speed=_speed(speed)).start()
        _urls.add(server.base_url)
        entry = (server, 0)
    server, refs = entry
    _servers[loop] = (server, refs + 1)
    return server


async def release() -> None:
    loop = id(asyncio.get_running_loop())
    entry = _servers.get(loop)
    if entry is None:
        return
    server, refs = entry
    if refs > 1:
        _servers[loop] = (server, refs - 1)
        return
    del _servers[loop]
    _urls.discard(server.base_url)
    await server.stop()


def is_local(base_url: str | None) -> bool:
    return base_url in _urls
