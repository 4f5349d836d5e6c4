"""The local Conduit: a Conduit-compatible server that renders real media, for demos and tests.

It shares nothing with the client but the names in ``conduit_widget.protocol``. Its names are imported when first
used, so that reading a profile (`conduit_widget.server.profiles`) does not load the server and its media stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conduit_widget.server.config import ServerConfig
    from conduit_widget.server.local import LocalConduit, generate_key

__all__ = ["LocalConduit", "ServerConfig", "generate_key"]


def __getattr__(name: str) -> Any:
    if name == "ServerConfig":
        from conduit_widget.server.config import ServerConfig

        return ServerConfig
    if name in ("LocalConduit", "generate_key"):
        from conduit_widget.server import local

        return getattr(local, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
