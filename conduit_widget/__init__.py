"""conduit-widget: watch Conduit image and video generation live in Jupyter.

``GenerationWidget`` and ``Gallery`` show generations live in a notebook; ``ConduitClient`` creates tasks and
follows them; ``LocalConduit`` is the Conduit-compatible server that
runs when no gateway is configured. Errors are in ``conduit_widget.client.errors``.
"""

from typing import TYPE_CHECKING, Any

from conduit_widget._version import __version__
from conduit_widget.client import (
    APIError,
    AuthError,
    Backoff,
    ConduitClient,
    ConduitError,
    ConduitWarning,
    ConfigurationError,
    ConflictError,
    ConnectionEvent,
    DeadlineExceededError,
    ForbiddenError,
    HubError,
    InsufficientBalanceError,
    Keepalive,
    NetworkError,
    NotFoundError,
    RateLimitError,
    ServerError,
    Task,
    TaskResult,
    TaskUpdate,
    UnsafeUrlError,
    ValidationError,
    generate_image,
    generate_video,
)
from conduit_widget.client import (
    PermissionError as PermissionError,  # the 0.x name, not in __all__ (see errors.py)
)
from conduit_widget.client import (
    TimeoutError as TimeoutError,  # the 0.x name, not in __all__
)

if TYPE_CHECKING:
    from conduit_widget.gallery import Gallery
    from conduit_widget.server import LocalConduit
    from conduit_widget.widget import GenerationWidget


def __getattr__(name: str) -> Any:
    # The widgets load anywidget, ipywidgets and the built front end, and the local Conduit loads aiohttp's server
    # and its media stack (PyAV and Pillow, the `local` extra): only code that uses them pays for that, so a
    # gateway user's `import conduit_widget` loads neither the server nor the extra.
    if name == "LocalConduit":
        from conduit_widget.client import local_conduit

        return local_conduit.server_class(local_conduit.NEEDS_EXTRA)
    if name == "GenerationWidget":
        from conduit_widget.widget import GenerationWidget

        return GenerationWidget
    if name == "Gallery":
        from conduit_widget.gallery import Gallery

        return Gallery
    raise AttributeError(f"module 'conduit_widget' has no attribute {name!r}")


__all__ = [
    "APIError",
    "AuthError",
    "Backoff",
    "ConduitClient",
    "ConduitError",
    "ConduitWarning",
    "ConfigurationError",
    "ConflictError",
    "ConnectionEvent",
    "DeadlineExceededError",
    "ForbiddenError",
    "Gallery",
    "GenerationWidget",
    "HubError",
    "InsufficientBalanceError",
    "Keepalive",
    "LocalConduit",
    "NetworkError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "Task",
    "TaskResult",
    "TaskUpdate",
    "UnsafeUrlError",
    "ValidationError",
    "__version__",
    "generate_image",
    "generate_video",
]
