"""The real-time client: REST over httpx, hubs over a supervised pysignalr, one state machine per task.

How a hub event reaches a notebook, each step handing on to the next and never back:
`signalr.LinkClient` receives a WebSocket frame and `hub_frames` reads it once (its framing is `conduit_widget.wire`):
each event invocation becomes a ``(target, arguments)`` call, completions and closes go to pysignalr. The frame's
`realtime.HubLink` turns each call into a `TaskEvent` with `dialects.parse_hub_event`, whichever dialect the server
speaks, and hands it to what is subscribed to that task id: the `follower.Follower` of each client following it.
`Follower.receive` decides what the event means for the task (read the media a completion lacked, make a failure
again, end it); status reads from `rest.RestClient` enter there too. It hands the event to `Task.apply`, whose state
machine (`state.TaskState`) makes an update only of news, for the task's ``async for`` readers, its `on_update`
listeners and, once it ends, `wait()`; the follower then tells the client's `on(...)` listeners. A
`GenerationWidget` listens with `on_update`: its `Coalescer` sends the latest progress to the browser at most ten
times a second as trait changes, and the ending with its media at once.
"""

from conduit_widget.client.client import ConduitClient
from conduit_widget.client.errors import (
    APIError,
    AuthError,
    ConduitError,
    ConduitWarning,
    ConfigurationError,
    ConflictError,
    DeadlineExceededError,
    ForbiddenError,
    HubError,
    InsufficientBalanceError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    ServerError,
    UnsafeUrlError,
    ValidationError,
)
from conduit_widget.client.errors import (
    PermissionError as PermissionError,  # the 0.x name, not in __all__ (see errors.py)
)
from conduit_widget.client.errors import (
    TimeoutError as TimeoutError,  # the 0.x name, not in __all__
)
from conduit_widget.client.models import ConnectionEvent, TaskResult, TaskUpdate
from conduit_widget.client.policies import Backoff, Keepalive
from conduit_widget.client.sync import generate_image, generate_video
from conduit_widget.client.task import Task

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
    "HubError",
    "InsufficientBalanceError",
    "Keepalive",
    "NetworkError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "Task",
    "TaskResult",
    "TaskUpdate",
    "UnsafeUrlError",
    "ValidationError",
    "generate_image",
    "generate_video",
]
