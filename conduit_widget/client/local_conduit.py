"""The local Conduit a client starts when nothing is configured: one per event loop, shared and counted.

Fifty widgets in a notebook with no ``CONDUIT_*`` settings use one in-process server (and so one hub
connection per hub), started with the first and stopped with the last.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from conduit_widget.client.errors import ConfigurationError
from conduit_widget.client.per_loop import PerLoop

if TYPE_CHECKING:
    from conduit_widget.server import LocalConduit

_servers: PerLoop[tuple[LocalConduit, int]] = PerLoop()  # the server, and how many clients use it
_urls: set[str] = set()


def _speed(requested: float | None) -> float:
    if requested is not None:
        return requested
    try:
        return float(os.environ.get("CONDUIT_LOCAL_SPEED", "1"))
    except ValueError:
        return 1.0


NOT_CONFIGURED: Final = (
    "No Conduit configured: set CONDUIT_BASE_URL and CONDUIT_API_KEY for a gateway, "
    "or `pip install 'conduit-widget[local]'` for the local simulator"
)
NEEDS_EXTRA: Final = "The local Conduit needs the `local` extra: `pip install 'conduit-widget[local]'`"
_EXTRA: Final = ("av", "PIL")  # the `local` extra's modules (pyproject.toml)


def server_class(why: str = NOT_CONFIGURED) -> type[LocalConduit]:
    """The local Conduit's class, loaded now (aiohttp's server and the media stack come with it); a
    `ConfigurationError` saying `why` and what is missing when the `local` extra is not installed."""
    try:
        from conduit_widget.server import LocalConduit
    except ModuleNotFoundError as exc:
        if exc.name not in _EXTRA:
            raise
        raise ConfigurationError(f"{why} (no module {exc.name!r})") from None
    return LocalConduit


async def acquire(speed: float | None = None) -> LocalConduit:
    entry = _servers.get()
    if entry is None:
        # Only clients that need the server pay for it.
        server = await server_class()(speed=_speed(speed)).start()
        _urls.add(server.base_url)
        entry = (server, 0)
    server, refs = entry
    _servers.set((server, refs + 1))
    return server


async def release() -> None:
    entry = _servers.get()
    if entry is None:
        return
    server, refs = entry
    if refs > 1:
        _servers.set((server, refs - 1))
        return
    _servers.pop()
    _urls.discard(server.base_url)
    await server.stop()


def is_local(base_url: str | None) -> bool:
    return base_url in _urls
