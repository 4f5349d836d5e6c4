"""The local Conduit: a Conduit-compatible server that renders real media, for demos and tests.

It shares nothing with the client but the names in ``conduit_widget.protocol``.
"""

from conduit_widget.server.config import ServerConfig
from conduit_widget.server.local import LocalConduit, generate_key

__all__ = ["LocalConduit", "ServerConfig", "generate_key"]
