"""conduit-widget: watch Conduit image and video generation live in Jupyter.

``ConduitClient`` creates tasks and follows them live; ``LocalConduit`` is the Conduit-compatible server that
runs when no gateway is configured. Errors are in ``conduit_widget.client.errors``.
"""

from conduit_widget._version import __version__
from conduit_widget.client import (
    APIError,
    AuthError,
    Backoff,
    ConduitClient,
    ConduitError,
    ConfigurationError,
    ConflictError,
    ConnectionEvent,
    HubError,
    InsufficientBalanceError,
    NetworkError,
    NotFoundError,
    PermissionError,
    RateLimitError,
    ServerError,
    Task,
    TaskResult,
    TaskUpdate,
    TimeoutError,
    ValidationError,
    generate_image,
    generate_video,
)
from conduit_widget.server import LocalConduit

__all__ = [
    "APIError",
    "AuthError",
    "Backoff",
    "ConduitClient",
    "ConduitError",
    "ConfigurationError",
    "ConflictError",
    "ConnectionEvent",
    "HubError",
    "InsufficientBalanceError",
    "LocalConduit",
    "NetworkError",
    "NotFoundError",
    "PermissionError",
    "RateLimitError",
    "ServerError",
    "Task",
    "TaskResult",
    "TaskUpdate",
    "TimeoutError",
    "ValidationError",
    "__version__",
    "generate_image",
    "generate_video",
]
