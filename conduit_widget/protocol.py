"""Names on the wire that the local Conduit and the client must agree on.

This is the only module the server and the client share. It holds names, never behaviour: routes, hub methods,
event names and status strings, in both dialects a Conduit client meets:

- ``conduit``: what a real knnlabs/Conduit server sends (``ImageGeneration*`` / ``VideoGeneration*`` events, each
  with one camelCase object; ``SubscribeToTask`` on both hubs).
- ``seed``: what Conduit's JavaScript client documentation describes (positional ``TaskProgress`` / ``Task*`` on the
  image hub, ``Request*`` and ``SubscribeToRequest`` on the video hub).

Which server says what is in ``docs/compatibility.md``, each line with the source file it was read from.
"""

from __future__ import annotations

from typing import Final, Literal

Kind = Literal["image", "video"]
Status = Literal["pending", "processing", "completed", "failed", "cancelled", "timedout"]
Dialect = Literal["conduit", "seed"]

KEY_PREFIX: Final = "condt_"

# REST routes (knnlabs/Conduit ``ImagesController`` and ``VideosController``). The Gateway serves the media routes,
# the generic task routes and discovery under ``/v1/conduit/`` instead of ``/v1/``.
IMAGE_CREATE: Final = "/v1/images/generations/async"
IMAGE_STATUS: Final = "/v1/images/generations/{task_id}/status"
IMAGE_CANCEL: Final = "/v1/images/generations/{task_id}"
VIDEO_CREATE: Final = "/v1/videos/generations/async"
VIDEO_STATUS: Final = "/v1/videos/generations/tasks/{task_id}"
VIDEO_RETRY: Final = "/v1/videos/generations/tasks/{task_id}/retry"
VIDEO_CANCEL: Final = "/v1/videos/generations/{task_id}"
MEDIA_ROUTES: Final[dict[str, str]] = {
    "image_create": IMAGE_CREATE,
    "image_status": IMAGE_STATUS,
    "image_cancel": IMAGE_CANCEL,
    "video_create": VIDEO_CREATE,
    "video_status": VIDEO_STATUS,
    "video_retry": VIDEO_RETRY,
    "video_cancel": VIDEO_CANCEL,
}
GATEWAY_PREFIX: Final = "/v1/conduit"
TASK_STATUS: Final = "/v1/tasks/{task_id}"
TASK_CANCEL: Final = "/v1/tasks/{task_id}/cancel"
TASK_POLL: Final = "/v1/tasks/{task_id}/poll"
DISCOVERY_MODELS: Final = "/v1/discovery/models"
MODELS: Final = "/v1/models"  # the same path on every version

# A video's length: whole seconds in this range on every version (`int? Duration`, checked 1-60 by the server).
VIDEO_SECONDS: Final = (1, 60)

# SignalR hubs.
HUB_PATHS: Final[dict[Kind, str]] = {
    "image": "/hubs/image-generation",
    "video": "/hubs/video-generation",
}
TASKS_HUB: Final = "/hubs/tasks"
SUBSCRIBE: Final = "SubscribeToTask"
UNSUBSCRIBE: Final = "UnsubscribeFromTask"
SEED_SUBSCRIBE_VIDEO: Final = "SubscribeToRequest"
SEED_UNSUBSCRIBE_VIDEO: Final = "UnsubscribeFromRequest"

# Task status vocabulary (``TaskStateConstants.cs``); ``queued`` only appears in the image create response. In the
# order of TaskState's integer enum on ``/v1/tasks`` (Pending=0 ... TimedOut=5).
PENDING: Final = "pending"
PROCESSING: Final = "processing"
COMPLETED: Final = "completed"
FAILED: Final = "failed"
CANCELLED: Final = "cancelled"
TIMEDOUT: Final = "timedout"
STATUSES: Final[tuple[Status, ...]] = (PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, TIMEDOUT)
TERMINAL_STATUSES: Final[frozenset[str]] = frozenset({COMPLETED, FAILED, CANCELLED, TIMEDOUT})

# A size on the wire: width x height in pixels ("1024x1024"); the client also passes "auto" through.
SIZE_PATTERN: Final = r"^[1-9]\d{0,4}x[1-9]\d{0,4}$"

# Events, dialect "conduit": one camelCase object argument each. The *Cancelled events are defined by every version
# and sent by none: an image cancel comes as a progress event with status "cancelled".
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
# TaskHub's other events (``/hubs/tasks``, positional), which no version sends for media tasks.
TASK_STARTED: Final = "TaskStarted"
TASK_CANCELLED: Final = "TaskCancelled"
TASK_TIMED_OUT: Final = "TaskTimedOut"

# Hub error texts as an ASP.NET Core SignalR server words them.
UNAUTHORIZED_TASK: Final = "Unauthorized access to task"

# Sent by the local Conduit on every answer, so a client can say it is talking to a simulator.
SIMULATOR_HEADER: Final = "X-Conduit-Simulator"

# Models the local Conduit reserves for failure injection; a real gateway has none of them.
TEST_FAIL_MODEL: Final = "test-fail"
TEST_SLOW_MODEL: Final = "test-slow"
TEST_HANG_MODEL: Final = "test-hang"
