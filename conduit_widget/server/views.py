"""REST response bodies, derived from a task record in the shape and casing the profile's server uses.

- ``mvc`` (ConduitLLM.Http): image bodies snake_case (``AsyncTaskResponse``), video bodies camelCase with
  DateTimeOffset times, nulls written; a completed video's result is a JSON *string* (PascalCase), and
  ``videoResponse.data`` is always empty (the stored result never has a ``data`` member).
- ``gateway``: snake_case everywhere, nulls left out, a video ``result`` object beside the raw ``result_raw``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Final

from conduit_widget import protocol
from conduit_widget.server.profiles import Profile
from conduit_widget.server.store import MAX_RETRIES, TaskRecord

_TASK_STATES: Final[dict[str, int]] = {
    status: index for index, status in enumerate(protocol.STATUSES)
}  # TaskState ints


def dotnet_time(moment: datetime | None, *, offset: bool = False) -> str | None:
    """A UTC time as System.Text.Json writes it: a DateTime ends in Z, a DateTimeOffset in +00:00, and the
    fraction keeps only the digits it needs."""
    if moment is None:
        return None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{moment.microsecond:06d}".rstrip("0")
    return text + (f".{fraction}" if fraction else "") + ("+00:00" if offset else "Z")


def _without_nulls(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def _shaped(profile: Profile, body: dict[str, Any]) -> dict[str, Any]:
    """The Gateway's serializer leaves null members out (WhenWritingNull); MVC writes them."""
    return _without_nulls(body) if profile.json == "gateway" else body


# -- media URLs -----------------------------------------------------------------------------------------------------
# `base` is the origin URLs are made absolute with: the asking request's for REST bodies, the one the task was
# created through for hub events (which have no request of their own).


def media_url(profile: Profile, record: TaskRecord, name: str, base: str) -> str:
    return f"{base}{profile.media_files_route}/{record.id}/{name}"


def image_urls(profile: Profile, record: TaskRecord, base: str) -> list[str]:
    return [media_url(profile, record, name, base) for name in record.media]


def video_url(profile: Profile, record: TaskRecord, base: str) -> str | None:
    return media_url(profile, record, record.media[0], base) if record.media else None


def poster_url(profile: Profile, record: TaskRecord, base: str) -> str | None:
    if not profile.video_details or not record.poster:
        return None  # 7c3fd76a's orchestrator never fills the preview
    return media_url(profile, record, record.poster, base)


# -- images -----------------------------------------------------------------------------------------------------------


def image_created(profile: Profile, record: TaskRecord, base: str) -> dict[str, Any]:
    """``AsyncTaskResponse``, the only place ``queued`` appears. Its status URL is the old route even on the Gateway,
    which never moved it (a real bug there: that route is not mapped)."""
    return _shaped(
        profile,
        {
            "task_id": record.id,
            "status": "queued",
            "check_status_url": base + protocol.IMAGE_STATUS.format(task_id=record.id),
            "created_at": dotnet_time(record.created_at),
            "estimated_completion_time": None,
        },
    )


def image_status(profile: Profile, record: TaskRecord, base: str) -> dict[str, Any]:
    done = record.status == protocol.COMPLETED
    progress = record.progress if profile.image_status_progress or done else 0
    return _shaped(
        profile,
        {
            "task_id": record.id,
            "status": record.status,
            "progress": progress,
            "created_at": dotnet_time(record.created_at),
            "updated_at": dotnet_time(record.updated_at),
            "result": image_result(profile, record, base) if done else None,
            # Only a failed task shows its error here; a cancelled one keeps it to itself.
            "error": record.error if record.status == protocol.FAILED else None,
        },
    )


def image_result(profile: Profile, record: TaskRecord, base: str) -> dict[str, Any]:
    urls = image_urls(profile, record, base)
    seconds = record.media_info.get("generation_seconds")
    if profile.json == "gateway":  # ImageGenerationCompletedHandler's JsonObject, camelCase
        images: list[dict[str, Any]] = [{"url": url, "revisedPrompt": None} for url in urls]
        return {
            "images": images,
            "imageCount": len(urls),
            "provider": "local",
            "model": record.model,
            "duration": seconds,
            "cost": 0,
        }
    # PascalCase inside images[]: ImageData is serialised with default options.
    return {
        "images": [
            {
                "Url": url,
                "B64Json": None,
                "RevisedPrompt": None,
                "Metadata": {"provider": "local", "model": record.model, "index": index},
            }
            for index, url in enumerate(urls)
        ],
        "duration": seconds,
        "cost": 0,
        "provider": "local",
        "model": record.model,
    }


# -- videos -----------------------------------------------------------------------------------------------------------


def video_created(profile: Profile, record: TaskRecord) -> dict[str, Any]:
    ids = dict.fromkeys(profile.video_create_ids, record.id)
    estimate = record.created_at + timedelta(seconds=60)
    if profile.json == "gateway":
        return {
            **ids,
            "status": protocol.PENDING,
            "created_at": dotnet_time(record.created_at),
            "estimated_completion_time": dotnet_time(estimate),
            "check_status_url": profile.routes["video_status"].format(task_id=record.id),
        }
    return {
        **ids,
        "status": protocol.PENDING,
        "createdAt": dotnet_time(record.created_at, offset=True),
        "estimatedCompletionTime": dotnet_time(estimate, offset=True),
        "checkStatusUrl": profile.routes["video_status"].format(task_id=record.id),
    }


def video_status(profile: Profile, record: TaskRecord, base: str, *, error: str | None = None) -> dict[str, Any]:
    """`error` overrides the record's (a retry's answer says "Retry n/m scheduled")."""
    stored = stored_video_result(profile, record, base)
    done = record.status == protocol.COMPLETED
    if profile.json == "gateway":
        return _without_nulls(
            {
                "task_id": record.id,
                "status": record.status,
                "progress": record.progress,
                "created_at": dotnet_time(record.created_at),
                "updated_at": dotnet_time(record.updated_at),
                "completed_at": dotnet_time(record.completed_at),
                "error": error or record.error,
                "result_raw": json.dumps(stored) if stored is not None else None,
                "result": stored if done else None,
            }
        )
    return {
        "taskId": record.id,
        "status": record.status,
        "progress": record.progress,
        "createdAt": dotnet_time(record.created_at, offset=True),
        "updatedAt": dotnet_time(record.updated_at, offset=True),
        "completedAt": dotnet_time(record.completed_at, offset=True),
        "error": error or record.error,
        "result": json.dumps(stored) if stored is not None else None,
        # The stored PascalCase result read back case-insensitively as a VideoGenerationResponse: only `model` (from
        # `Model`) matches, so `data` is always empty and `created` 0.
        "videoResponse": {"created": 0, "data": [], "model": stored["Model"], "usage": None}
        if done and stored
        else None,
    }


def stored_video_result(profile: Profile, record: TaskRecord, base: str) -> dict[str, Any] | None:
    """What the server keeps as a video task's result: its completion, or (7c3fd76a) its failure."""
    info = record.media_info
    if record.status == protocol.COMPLETED:
        if profile.json == "gateway":  # VideoGenerationCompletedHandler: a VideoGenerationResponse, nulls left out
            return {
                "created": int(record.completed_at.timestamp()) if record.completed_at else 0,
                "data": [
                    {
                        "url": video_url(profile, record, base),
                        "metadata": {
                            "width": record.params["width"],
                            "height": record.params["height"],
                            "duration": info.get("duration"),
                            "fps": 0,  # never filled by the handler, and not nullable
                            "file_size_bytes": info.get("file_size"),
                        },
                    }
                ],
                "model": record.model,
                "usage": {"videos_generated": 1, "total_duration_seconds": info.get("duration")},
            }
        details = profile.video_details
        return {
            "VideoUrl": video_url(profile, record, base),
            "PreviewUrl": poster_url(profile, record, base),
            "Duration": info.get("duration") if details else 0,
            "Resolution": record.params["size"] if details else "",
            "FileSize": info.get("file_size") if details else 0,
            "Cost": 0,
            "Provider": "local" if details else "",
            "Model": record.model if details else "",
            "CompletedAt": dotnet_time(record.completed_at),
        }
    if record.status == protocol.FAILED and profile.json == "mvc":
        return {
            "Error": record.error,
            "ErrorCode": record.error_code,
            "Provider": None,
            "IsRetryable": record.is_retryable,
            "FailedAt": dotnet_time(record.completed_at),
        }
    return None


# -- generic tasks ----------------------------------------------------------------------------------------------------


def task_status(profile: Profile, record: TaskRecord, base: str) -> dict[str, Any]:
    """``AsyncTaskStatus`` as the generic task routes return it: the state as an int (MVC) or a snake_case word."""
    if record.kind == "image":
        result = image_result(profile, record, base) if record.status == protocol.COMPLETED else None
    else:
        result = stored_video_result(profile, record, base)
    metadata = {
        "virtualKeyId": int(record.owner[:6], 16),  # a key id, never the key (7c3fd76a writes the raw key here too)
        "model": record.model,
        "prompt": record.prompt,
        "correlationId": None,
        "payload": None,
        "videoId": None,
        "webhookUrl": None,
        "webhookHeaders": None,
        "priority": 0,
    }
    body = {
        "task_id": record.id,
        "task_type": f"{record.kind}_generation",
        "state": _TASK_STATES[record.status] if profile.json == "mvc" else _task_state_word(record.status),
        "created_at": dotnet_time(record.created_at),
        "updated_at": dotnet_time(record.updated_at),
        "completed_at": dotnet_time(record.completed_at),
        "result": result,
        "error": record.error,
        "metadata": metadata,
        "progress": record.progress,
        "progress_message": record.message,
        "retry_count": record.retry_count,
        "max_retries": MAX_RETRIES,
        "is_retryable": record.is_retryable or record.status != protocol.FAILED,
        "next_retry_at": None,
    }
    if profile.json == "gateway":
        return _without_nulls(body)
    return {_camel(key): value for key, value in body.items()}


def _task_state_word(status: str) -> str:
    return "timed_out" if status == protocol.TIMEDOUT else status  # the Gateway's snake_case enum


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
