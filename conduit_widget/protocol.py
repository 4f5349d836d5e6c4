"""Names on the wire that the local Conduit and the client must agree on.

This is the only module the server and the client share. It holds names, never behaviour: routes,
hub methods, event names and status strings, in both dialects a Conduit client meets:

- ``conduit``: what a real knnlabs/Conduit server sends (``ImageGeneration*`` / ``VideoGeneration*``
  events, each with one camelCase object; ``SubscribeToTask`` on both hubs).
- ``seed``: what Conduit's JavaScript client documentation describes (positional ``TaskProgress`` /
  ``Task*`` on the image hub, ``Request*`` and ``SubscribeToRequest`` on the video hub).

See ``shared/reference/conduit-server-protocol.md`` for where each name comes from.
"""

from __future__ import annotations

from typing import Final, Literal

Kind = Literal["image", "video"]
Dialect = Literal["conduit", "seed"]

KEY_PREFIX: Final = "condt_"

# REST routes (knnlabs/Conduit ``ImagesController`` and ``VideosController``).
IMAGE_CREATE: Final = "/v1/images/generations/async"
IMAGE_STATUS: Final = "/v1/images/generations/{task_id}/status"
IMAGE_CANCEL: Final = "/v1/images/generations/{task_id}"
VIDEO_CREATE: Final = "/v1/videos/generations/async"
VIDEO_STATUS: Final = "/v1/videos/generations/tasks/{task_id}"
VIDEO_RETRY: Final = "/v1/videos/generations/tasks/{task_id}/retry"
VIDEO_CANCEL: Final = "/v1/videos/generations/{task_id}"
MODELS: Final = "/v1/models"

# SignalR hubs.
HUB_PATHS: Final[dict[Kind, str]] = {
    "image": "/hubs/image-generation",
    "video": "/hubs/video-generation",
}
SUBSCRIBE: Final = "SubscribeToTask"
UNSUBSCRIBE: Final = "UnsubscribeFromTask"
SEED_SUBSCRIBE_VIDEO: Final = "SubscribeToRequest"
SEED_UNSUBSCRIBE_VIDEO: Final = "UnsubscribeFromRequest"

# Task status vocabulary (``TaskStateConstants.cs``); ``queued`` only appears in the image create response.
PENDING: Final = "pending"
PROCESSING: Final = "processing"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
CANCELLED: Final = "cancelled"
TIMEDOUT: Final = "timedout"
STATUSES: Final = (PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, TIMEDOUT)
TERMINAL_STATUSES: Final = frozenset({COMPLETED, FAILED, CANCELLED, TIMEDOUT})

# Events, dialect "conduit": one camelCase object argument each.
IMAGE_PROGRESS: Final = "ImageGenerationProgress"
IMAGE_COMPLETED: Final = "ImageGenerationCompleted"
IMAGE_FAILED: Final = "ImageGenerationFailed"
IMAGE_CANCELLED: Final = "ImageGenerationCancelled"
VIDEO_STARTED: Final = "VideoGenerationStarted"
VIDEO_PROGRESS: Final = "VideoGenerationProgress"
VIDEO_COMPLETED: Final = "VideoGenerationCompleted"
VIDEO_FAILED: Final = "VideoGenerationFailed"
VIDEO_CANCELLED: Final = "VideoGenerationCancelled"

# Events, dialect "seed": positional (id, value) arguments.
SEED_TASK_PROGRESS: Final = "TaskProgress"
SEED_TASK_COMPLETED: Final = "TaskCompleted"
SEED_TASK_FAILED: Final = "TaskFailed"
SEED_REQUEST_PROGRESS: Final = "RequestProgress"
SEED_REQUEST_COMPLETED: Final = "RequestCompleted"
SEED_REQUEST_FAILED: Final = "RequestFailed"

# Hub error texts as an ASP.NET Core SignalR server words them.
UNAUTHORIZED_TASK: Final = "Unauthorized access to task"

# Sent by the local Conduit on every answer, so a client can say it is talking to a simulator.
SIMULATOR_HEADER: Final = "X-Conduit-Simulator"

# Models the local Conduit reserves for failure injection; a real gateway has none of them.
TEST_FAIL_MODEL: Final = "test-fail"
TEST_SLOW_MODEL: Final = "test-slow"
TEST_HANG_MODEL: Final = "test-hang"
