"""Hub events for a task, in the dialects the server is set to speak.

Each function returns ``[(target, arguments), ...]``: nothing for a dialect that has no such event (the
seed has no "started" or "cancelled"), both dialects' events under ``--events both``.
"""

from __future__ import annotations

from typing import Any

from conduit_widget import protocol
from conduit_widget.server.config import Events
from conduit_widget.server.store import TaskRecord, isoformat, utcnow
from conduit_widget.server.views import image_urls, poster_url, video_url

HubEvent = tuple[str, list[Any]]


def _conduit(events: Events) -> bool:
    return events in ("conduit", "both")


def _seed(events: Events) -> bool:
    return events in ("seed", "both")


def started(record: TaskRecord, events: Events, estimated_seconds: float) -> list[HubEvent]:
    if record.kind != "video" or not _conduit(events):
        return []
    payload = {
        "taskId": record.id,
        "provider": "local",
        "startedAt": isoformat(record.started_at),
        "estimatedSeconds": round(estimated_seconds),
    }
    return [(protocol.VIDEO_STARTED, [payload])]


def progress(record: TaskRecord, events: Events, *, stage: str, done: int, total: int) -> list[HubEvent]:
    """`done`/`total` count images for an image task and frames for a video task."""
    out: list[HubEvent] = []
    now = isoformat(utcnow())
    if _conduit(events):
        if record.kind == "image":
            payload: dict[str, Any] = {
                "taskId": record.id,
                "progressPercentage": record.progress,
                "status": stage,
                "imagesCompleted": done,
                "totalImages": total,
                "message": record.message,
                "timestamp": now,
            }
            out.append((protocol.IMAGE_PROGRESS, [payload]))
        else:
            payload = {
                "taskId": record.id,
                "status": stage,
                "progress": record.progress,
                "message": record.message,
                "framesCompleted": done,
                "totalFrames": total,
                "timestamp": now,
            }
            out.append((protocol.VIDEO_PROGRESS, [payload]))
    if _seed(events):
        target = protocol.SEED_TASK_PROGRESS if record.kind == "image" else protocol.SEED_REQUEST_PROGRESS
        out.append((target, [record.id, record.progress]))
    return out


def completed(record: TaskRecord, events: Events) -> list[HubEvent]:
    out: list[HubEvent] = []
    info = record.media_info
    finished = isoformat(record.completed_at)
    if _conduit(events):
        if record.kind == "image":
            payload: dict[str, Any] = {
                "taskId": record.id,
                "imageUrls": image_urls(record, record.base_url),
                "durationSeconds": info.get("generation_seconds"),
                "cost": 0,
                "completedAt": finished,
            }
            out.append((protocol.IMAGE_COMPLETED, [payload]))
        else:
            payload = {
                "taskId": record.id,
                "status": protocol.COMPLETED,
                "videoUrl": video_url(record, record.base_url),
                "previewUrl": poster_url(record, record.base_url),
                "duration": info.get("duration"),
                "resolution": record.params["size"],
                "fileSize": info.get("file_size"),
                "cost": 0,
                "provider": "local",
                "model": record.model,
                "completedAt": finished,
                "generationDuration": info.get("generation_seconds"),
            }
            out.append((protocol.VIDEO_COMPLETED, [payload]))
    if _seed(events):
        metadata = {"model": record.model, "size": record.params["size"], "seed": record.params["seed"]}
        if record.kind == "image":
            urls = image_urls(record, record.base_url)
            seed_result = {"image_url": urls[0] if urls else None, "image_urls": urls, "metadata": metadata}
            out.append((protocol.SEED_TASK_COMPLETED, [record.id, seed_result]))
        else:
            metadata.update(duration=info.get("duration"), preview_url=poster_url(record, record.base_url))
            seed_result = {"video_url": video_url(record, record.base_url), "metadata": metadata}
            out.append((protocol.SEED_REQUEST_COMPLETED, [record.id, seed_result]))
    return out


def failed(record: TaskRecord, events: Events, max_retries: int) -> list[HubEvent]:
    out: list[HubEvent] = []
    now = isoformat(utcnow())
    if _conduit(events):
        if record.kind == "image":
            payload: dict[str, Any] = {
                "taskId": record.id,
                "error": record.error,
                "isRetryable": record.is_retryable,
                "failedAt": now,
            }
            out.append((protocol.IMAGE_FAILED, [payload]))
        else:
            payload = {
                "taskId": record.id,
                "status": protocol.FAILED,
                "error": record.error,
                "errorCode": record.error_code,
                "isRetryable": record.is_retryable,
                "retryCount": record.retry_count,
                "maxRetries": max_retries,
                "nextRetryAt": None,
                "failedAt": now,
            }
            out.append((protocol.VIDEO_FAILED, [payload]))
    if _seed(events):
        target = protocol.SEED_TASK_FAILED if record.kind == "image" else protocol.SEED_REQUEST_FAILED
        out.append((target, [record.id, record.error]))
    return out


def cancelled(record: TaskRecord, events: Events, reason: str) -> list[HubEvent]:
    # A real Conduit defines these events but never sends them; clients must also poll to see a cancel.
    if not _conduit(events):
        return []
    target = protocol.IMAGE_CANCELLED if record.kind == "image" else protocol.VIDEO_CANCELLED
    return [(target, [{"taskId": record.id, "reason": reason, "cancelledAt": isoformat(utcnow())}])]
