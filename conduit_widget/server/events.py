"""Hub events for a task, as the profile's server sends them.

Each function returns ``[(target, arguments), ...]``, possibly empty: the JS client docs have no "started" event,
and no real version sends ``*Cancelled`` (an image cancel, and on the Gateway a video cancel, comes as a progress
event with status "cancelled"; 7c3fd76a sends nothing for a video cancel). Payloads are the anonymous objects of
``ImageGenerationNotificationService`` and the video event handlers, camelCase; the JS client docs' events are
positional ``(id, value)``.
"""

from __future__ import annotations

from typing import Any

from conduit_widget import protocol
from conduit_widget.server.profiles import Profile
from conduit_widget.server.store import TaskRecord, utcnow
from conduit_widget.server.views import dotnet_time, image_urls, poster_url, video_url

HubEvent = tuple[str, list[Any]]
ESTIMATED_SECONDS = 60  # what every real version says a video will take


def started(profile: Profile, record: TaskRecord, estimated_seconds: float) -> list[HubEvent]:
    if record.kind != "video" or not profile.object_events:
        return []
    payload = {
        "taskId": record.id,
        "provider": "pending",  # the orchestrator announces the start before it has picked a provider
        "startedAt": dotnet_time(record.started_at),
        "estimatedSeconds": round(estimated_seconds) if profile.video_details else ESTIMATED_SECONDS,
    }
    return [(protocol.VIDEO_STARTED, [payload])]


def progress(
    profile: Profile, record: TaskRecord, *, stage: str, done: int | None, total: int | None
) -> list[HubEvent]:
    """`done`/`total` count images for an image task and frames for a video task (None: not said)."""
    out: list[HubEvent] = []
    if profile.object_events:
        out.append(_progress_object(profile, record, stage, record.progress, record.message, done, total))
    if profile.seed_events:
        target = protocol.SEED_TASK_PROGRESS if record.kind == "image" else protocol.SEED_REQUEST_PROGRESS
        out.append((target, [record.id, record.progress]))
    return out


def _progress_object(
    profile: Profile,
    record: TaskRecord,
    stage: str,
    percent: int,
    message: str | None,
    done: int | None,
    total: int | None,
) -> HubEvent:
    now = dotnet_time(utcnow())
    if record.kind == "image":
        payload: dict[str, Any] = {
            "taskId": record.id,
            "progressPercentage": percent,
            "status": stage,
            "imagesCompleted": done or 0,
            "totalImages": total or 0,
            "message": message,
            "timestamp": now,
        }
        return (protocol.IMAGE_PROGRESS, [payload])
    payload = {
        "taskId": record.id,
        "status": stage,
        profile.video_progress_key: percent,
        "message": message,
        "framesCompleted": done,
        "totalFrames": total,
        "timestamp": now,
    }
    return (protocol.VIDEO_PROGRESS, [payload])


def completed(profile: Profile, record: TaskRecord) -> list[HubEvent]:
    out: list[HubEvent] = []
    info = record.media_info
    finished = dotnet_time(record.completed_at)
    seconds = info.get("generation_seconds")
    if profile.object_events:
        if record.kind == "image":
            payload: dict[str, Any] = {
                "taskId": record.id,
                "imageUrls": image_urls(profile, record, record.base_url),
                "durationSeconds": seconds,
                "cost": 0,
                "completedAt": finished,
            }
            out.append((protocol.IMAGE_COMPLETED, [payload]))
        else:
            details = profile.video_details
            payload = {
                "taskId": record.id,
                "status": protocol.COMPLETED,
                "videoUrl": video_url(profile, record, record.base_url),
                "previewUrl": poster_url(profile, record, record.base_url),
                # The Gateway's handler passes the generation time as `duration`; 7c3fd76a's orchestrator fills none.
                "duration": (seconds if profile.json == "gateway" else info.get("duration")) if details else 0,
                "resolution": record.params["size"] if details else "",
                "fileSize": info.get("file_size") if details else 0,
                "cost": 0,
                "provider": "local" if details else "",
                "model": record.model if details else "",
                "completedAt": finished,
                "generationDuration": seconds,
            }
            out.append((protocol.VIDEO_COMPLETED, [payload]))
    if profile.seed_events:
        metadata = {"model": record.model, "size": record.params["size"], "seed": record.params["seed"]}
        if record.kind == "image":
            urls = image_urls(profile, record, record.base_url)
            seed_result = {"image_url": urls[0] if urls else None, "image_urls": urls, "metadata": metadata}
            out.append((protocol.SEED_TASK_COMPLETED, [record.id, seed_result]))
        else:
            metadata.update(duration=info.get("duration"), preview_url=poster_url(profile, record, record.base_url))
            seed_result = {"video_url": video_url(profile, record, record.base_url), "metadata": metadata}
            out.append((protocol.SEED_REQUEST_COMPLETED, [record.id, seed_result]))
    return out


def failed(profile: Profile, record: TaskRecord, max_retries: int) -> list[HubEvent]:
    out: list[HubEvent] = []
    now = dotnet_time(utcnow())
    if profile.object_events:
        if record.kind == "image":
            payload: dict[str, Any] = {
                "taskId": record.id,
                "error": record.error,
                "isRetryable": record.is_retryable,
                "failedAt": now,
            }
            out.append((protocol.IMAGE_FAILED, [payload]))
        else:
            gateway = profile.json == "gateway"  # its base orchestrator reports no retry budget
            payload = {
                "taskId": record.id,
                "status": protocol.FAILED,
                "error": record.error,
                "errorCode": record.error_code,
                "isRetryable": record.is_retryable,
                "retryCount": 0 if gateway else record.retry_count,
                "maxRetries": 0 if gateway else max_retries,
                "nextRetryAt": None,
                "failedAt": now,
            }
            out.append((protocol.VIDEO_FAILED, [payload]))
    if profile.seed_events:
        target = protocol.SEED_TASK_FAILED if record.kind == "image" else protocol.SEED_REQUEST_FAILED
        out.append((target, [record.id, record.error]))
    return out


def cancelled(profile: Profile, record: TaskRecord) -> list[HubEvent]:
    """A cancel of a running task, where the profile's server announces it: as progress, status "cancelled"."""
    if record.kind not in profile.cancel_sends_progress or not profile.object_events:
        return []
    message = "Task cancelled by user request" if profile.json == "gateway" else "Task cancelled"
    done = 0 if record.kind == "image" else None
    return [_progress_object(profile, record, protocol.CANCELLED, 0, message, done, done)]
