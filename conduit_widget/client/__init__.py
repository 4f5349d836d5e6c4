"""The real-time client: REST over httpx, hubs over a supervised pysignalr, one state machine per task."""

from conduit_widget.client.client import ConduitClient
from conduit_widget.client.errors import (
    APIError,
    AuthError,
    ConduitError,
    ConduitWarning,
    ConfigurationError,
    ConflictError,
    HubError,
    InsufficientBalanceError,
    NetworkError,
    NotFoundError,
    PermissionError,
    RateLimitError,
    ServerError,
    TimeoutError,
    ValidationError,
)
from conduit_widget.client.models import TaskResult, TaskUpdate
from conduit_widget.client.policies import Backoff, Keepalive
from conduit_widget.client.realtime import ConnectionEvent
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
    "HubError",
    "InsufficientBalanceError",
    "Keepalive",
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
    "generate_image",
    "generate_video",
]
