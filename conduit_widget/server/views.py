"""REST response bodies, derived from a task record in the casing each real route uses."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from conduit_widget import protocol
from conduit_widget.server.store import TaskRecord, isoformat

MEDIA_ROUTE = "/v1/media/{task_id}/{name}"


# `base` is the origin URLs are made absolute with: the asking request's for REST bodies, the one the task
# was created through for hub events (which have no request of their own).


def media_url(record: TaskRecord, name: str, base: str) -> str:
    return base + MEDIA_ROUTE.format(task_id=record.id, name=name)


def image_urls(record: TaskRecord, base: str) -> list[str]:
    return [media_url(record, name, base) for name in record.media]


def video_url(record: TaskRecord, base: str) -> str | None:
    return media_url(record, record.media[0], base) if record.media else None


def poster_url(record: TaskRecord, base: str) -> str | None:
    return media_url(record, record.poster, base) if record.poster else None


def image_created(record: TaskRecord, base: str) -> dict[str, Any]:
    """``AsyncTaskResponse``: snake_case, and the only place ``queued`` appears."""
    return {
        "task_id": record.id,
        "status": "queued",
        "check_status_url": base + protocol.IMAGE_STATUS.format(task_id=record.id),
        "created_at": isoformat(record.created_at),
        "estimated_completion_time": None,
    }


def image_status(record: TaskRecord, base: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "task_id": record.id,
        "status": record.status,
        "progress": record.progress,
        "created_at": isoformat(record.created_at),
        "updated_at": isoformat(record.updated_at),
    }
    if record.status == protocol.COMPLETED:
        # PascalCase inside images[]: Conduit serialises its ImageData with default options.
        body["result"] = {
            "images": [
                {"Url": url, "B64Json": None, "RevisedPrompt": None, "Metadata": _image_metadata(record)}
                for url in image_urls(record, base)
            ],
            "duration": record.media_info.get("generation_seconds"),
            "cost": 0,
            "provider": "local",
            "model": record.model,
        }
    if record.status == protocol.FAILED:
        body["error"] = record.error
    return body


def _image_metadata(record: TaskRecord) -> dict[str, Any]:
    return {"width": record.params["width"], "height": record.params["height"], "seed": record.params["seed"]}


def video_created(record: TaskRecord) -> dict[str, Any]:
    """camelCase ``taskId`` as Conduit sends it, plus the seed document's ``request_id``."""
    return {
        "taskId": record.id,
        "request_id": record.id,
        "status": protocol.PENDING,
        "createdAt": isoformat(record.created_at),
        "estimatedCompletionTime": isoformat(record.created_at + timedelta(seconds=60)),
        "checkStatusUrl": protocol.VIDEO_STATUS.format(task_id=record.id),
    }


def video_status(record: TaskRecord, base: str) -> dict[str, Any]:
    done = record.status == protocol.COMPLETED
    return {
        "taskId": record.id,
        "status": record.status,
        "progress": record.progress,
        "createdAt": isoformat(record.created_at),
        "updatedAt": isoformat(record.updated_at),
        "completedAt": isoformat(record.completed_at),
        "error": record.error,
        # Conduit stores the result as a JSON *string*, PascalCase, written by its completion handler.
        "result": json.dumps(_video_result(record, base)) if done else None,
        "videoResponse": _video_response(record, base) if done else None,
    }


def _video_result(record: TaskRecord, base: str) -> dict[str, Any]:
    info = record.media_info
    return {
        "VideoUrl": video_url(record, base),
        "PreviewUrl": poster_url(record, base),
        "Duration": info.get("duration"),
        "Resolution": record.params["size"],
        "FileSize": info.get("file_size"),
        "Cost": 0,
        "Provider": "local",
        "Model": record.model,
        "CompletedAt": isoformat(record.completed_at),
    }


def _video_response(record: TaskRecord, base: str) -> dict[str, Any]:
    info = record.media_info
    return {
        "created": int(record.created_at.timestamp()),
        "data": [
            {
                "url": video_url(record, base),
                "b64_json": None,
                "metadata": {
                    "width": record.params["width"],
                    "height": record.params["height"],
                    "duration": info.get("duration"),
                    "fps": record.params["fps"],
                    "codec": info.get("codec"),
                    "audio_codec": None,
                    "file_size_bytes": info.get("file_size"),
                    "bitrate": None,
                    "mime_type": info.get("mime_type"),
                    "format": "mp4",
                },
                "revised_prompt": None,
            }
        ],
        "model": record.model,
        "usage": {
            "videos_generated": 1,
            "total_duration_seconds": info.get("duration"),
            "estimated_cost": 0,
        },
    }
