"""Reading what a Conduit says, in any of the shapes it has been seen to say it.

Hub events come as the real server sends them (``ImageGeneration*``/``VideoGeneration*`` with one object),
as the seed document describes them (``TaskProgress(taskId, progress)``, ``Request*``), and keys arrive
in camelCase, PascalCase or snake_case. Status answers come from the image route (snake_case, PascalCase
``images[].Url``), the video route (camelCase, a JSON *string* ``result``, ``videoResponse``) or the
successor's snake_case task shape. Everything becomes a `TaskEvent`; anything unreadable becomes None,
never an exception, because one odd frame must not stop the stream.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

from conduit_widget import protocol
from conduit_widget.client.models import Source, TaskEvent, normalise_status
from conduit_widget.protocol import Kind, Status

log = logging.getLogger(__name__)

_ID_KEYS: Final = ("taskId", "task_id", "TaskId", "requestId", "request_id", "RequestId", "id")


def _get(obj: Mapping[str, Any], *keys: str) -> Any:
    # The first key is the spelling real servers use: on the hot path (thousands of progress events a
    # second) that one lookup is all it costs; the other spellings are tried only when it is absent.
    value = obj.get(keys[0])
    if value is not None:
        return value
    for key in keys[1:]:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too big for a float (a JSON answer may hold any integer)
        return None
    return number if math.isfinite(number) else None  # MessagePack carries NaN and the infinities


def _count(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number >= 0 else None


def _urls(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, str) and item:
                out.append(item)
            elif isinstance(item, Mapping) and _text(_get(item, "url", "Url", "URL")):
                out.append(_get(item, "url", "Url", "URL"))
        return tuple(out)
    return ()


def task_id_of(obj: Any) -> str | None:
    if isinstance(obj, Mapping):
        value = _get(obj, *_ID_KEYS)
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) and value != "" else None
    return None


# -- hub events -----------------------------------------------------------------------------------


def _progress_object(payload: Mapping[str, Any], task_id: str) -> TaskEvent:
    stage = _text(_get(payload, "status", "Status", "stage"))
    return TaskEvent(
        task_id=task_id,
        source="hub",
        status=_progress_status(stage),
        progress=_number(_get(payload, "progressPercentage", "progress", "Progress", "progress_percentage")),
        message=_text(_get(payload, "message", "Message")),
        stage=stage,
        eta_seconds=_number(_get(payload, "estimatedSecondsRemaining", "estimated_seconds_remaining", "eta")),
        images_completed=_count(_get(payload, "imagesCompleted", "images_completed")),
        images_total=_count(_get(payload, "totalImages", "total_images", "imagesTotal")),
        frames_completed=_count(_get(payload, "framesCompleted", "frames_completed")),
        frames_total=_count(_get(payload, "totalFrames", "total_frames")),
    )


def _progress_as_sent(payload: dict[str, Any], task_id: str) -> TaskEvent:
    """The hot path: the camelCase progress object exactly as Conduit sends it, read with one lookup a field
    and exact type checks (``type(x) is int`` is what a decoded frame holds, and cheaper than isinstance)."""
    get = payload.get
    progress = get("progressPercentage")
    if progress is None:
        progress = get("progress")
    stage = get("status")
    message = get("message")
    images_completed = get("imagesCompleted")
    images_total = get("totalImages")
    frames_completed = get("framesCompleted")
    frames_total = get("totalFrames")
    if type(stage) is str:
        status = _progress_status(stage)
        stage = stage or None
    else:
        status, stage = "processing", None
    # The tuple made directly, fields in order: the named tuple's __new__ is one Python call more per event.
    return _new_event(
        TaskEvent,
        (
            task_id,
            "hub",
            status,
            # `p - p == 0` is False for NaN and the infinities (MessagePack carries them), without a call.
            float(progress)
            if type(progress) is int or (type(progress) is float and progress - progress == 0)
            else None,
            message if type(message) is str and message else None,
            stage,
            None,
            images_completed if type(images_completed) is int and images_completed >= 0 else None,
            images_total if type(images_total) is int and images_total >= 0 else None,
            frames_completed if type(frames_completed) is int and frames_completed >= 0 else None,
            frames_total if type(frames_total) is int and frames_total >= 0 else None,
            *_NOT_IN_PROGRESS,
        ),
    )


_new_event = tuple.__new__
# What a progress event never says (media, errors, metadata): TaskEvent's own defaults for its later fields.
_NOT_IN_PROGRESS: Final = TaskEvent("", "hub")[TaskEvent._fields.index("image_urls") :]


_PROGRESS_TARGETS: Final = frozenset({protocol.IMAGE_PROGRESS, protocol.VIDEO_PROGRESS})


@functools.lru_cache(maxsize=64)  # a task's stage words repeat for every event, and few words exist
def _progress_status(stage: str | None) -> Status:
    # A progress event ends a task only as a cancel, which is how every real version announces one (an image cancel
    # is ImageGenerationProgress with status "cancelled"). Any other word, "completed" included (a progress event
    # carries no media), means "working on it".
    status = normalise_status(stage)
    return status if status in ("pending", "processing", "cancelled") else "processing"


def _completed_object(payload: Mapping[str, Any], task_id: str) -> TaskEvent:
    metadata = payload.get("metadata") if isinstance(payload.get("metadata"), Mapping) else {}
    image_urls = _urls(_get(payload, "imageUrls", "image_urls", "ImageUrls", "images"))
    if not image_urls:
        image_urls = _urls(_get(payload, "image_url", "imageUrl", "ImageUrl"))
    return TaskEvent(
        task_id=task_id,
        source="hub",
        status="completed",
        progress=100,
        image_urls=image_urls,
        video_url=_text(_get(payload, "videoUrl", "video_url", "VideoUrl")),
        preview_url=_text(_get(payload, "previewUrl", "preview_url", "PreviewUrl"))
        or _text(_get(dict(metadata or {}), "preview_url", "previewUrl")),
        metadata={**dict(metadata or {}), **_extra_metadata(payload)},
    )


_METADATA_KEYS: Final = frozenset(
    {"duration", "resolution", "fileSize", "cost", "provider", "model", "durationSeconds", "generationDuration"}
)


def _extra_metadata(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Known descriptive fields, camelCased whether they came camelCase or PascalCase."""
    out = {}
    for key, value in payload.items():
        camel = key[:1].lower() + key[1:] if isinstance(key, str) else ""
        if camel in _METADATA_KEYS and value not in (None, "", 0):
            out[camel] = value
    return out


def _failed_object(payload: Mapping[str, Any], task_id: str) -> TaskEvent:
    retryable = _get(payload, "isRetryable", "is_retryable", "IsRetryable")
    return TaskEvent(
        task_id=task_id,
        source="hub",
        status="failed",
        error=_text(_get(payload, "error", "Error", "message")) or "the task failed (the server gave no reason)",
        error_code=_text(_get(payload, "errorCode", "error_code")),
        is_retryable=retryable if isinstance(retryable, bool) else None,
    )


def _cancelled_object(payload: Mapping[str, Any], task_id: str) -> TaskEvent:
    return TaskEvent(task_id=task_id, source="hub", status="cancelled", message=_text(_get(payload, "reason")))


def _started_object(payload: Mapping[str, Any], task_id: str) -> TaskEvent:
    return TaskEvent(
        task_id=task_id,
        source="hub",
        status="processing",
        eta_seconds=_number(_get(payload, "estimatedSeconds", "estimated_seconds")),
    )


_OBJECT_EVENTS: Final[dict[str, Callable[[Mapping[str, Any], str], TaskEvent]]] = {
    protocol.IMAGE_PROGRESS: _progress_object,
    protocol.IMAGE_COMPLETED: _completed_object,
    protocol.IMAGE_FAILED: _failed_object,
    protocol.IMAGE_CANCELLED: _cancelled_object,
    protocol.VIDEO_STARTED: _started_object,
    protocol.VIDEO_PROGRESS: _progress_object,
    protocol.VIDEO_COMPLETED: _completed_object,
    protocol.VIDEO_FAILED: _failed_object,
    protocol.VIDEO_CANCELLED: _cancelled_object,
}


def _seed_event(target: str, task_id: str, value: Any, rest: list[Any]) -> TaskEvent | None:
    if target in (protocol.SEED_TASK_PROGRESS, protocol.SEED_REQUEST_PROGRESS):
        progress = _number(value)
        if progress is None:
            return None
        message = _text(rest[0]) if rest else None  # TaskHub's TaskProgress(taskId, progress, message)
        return TaskEvent(task_id=task_id, source="hub", status="processing", progress=progress, message=message)
    if target in (protocol.SEED_TASK_COMPLETED, protocol.SEED_REQUEST_COMPLETED):
        return _completed_object(value if isinstance(value, Mapping) else {}, task_id)
    if target in (protocol.SEED_TASK_FAILED, protocol.SEED_REQUEST_FAILED):
        payload: dict[str, Any] = dict(value) if isinstance(value, Mapping) else {"error": value}
        if rest and isinstance(rest[0], bool):  # TaskHub's TaskFailed(taskId, error, isRetryable)
            payload["isRetryable"] = rest[0]
        return _failed_object(payload, task_id)
    if target == "TaskCancelled":
        return TaskEvent(task_id=task_id, source="hub", status="cancelled", message=_text(value))
    if target == "TaskTimedOut":
        return TaskEvent(task_id=task_id, source="hub", status="timedout", error="the task timed out on the server")
    return None


SEED_TARGETS: Final = (
    protocol.SEED_TASK_PROGRESS,
    protocol.SEED_TASK_COMPLETED,
    protocol.SEED_TASK_FAILED,
    protocol.SEED_REQUEST_PROGRESS,
    protocol.SEED_REQUEST_COMPLETED,
    protocol.SEED_REQUEST_FAILED,
    "TaskCancelled",
    "TaskTimedOut",
)
EVENT_TARGETS: Final = (*_OBJECT_EVENTS, *SEED_TARGETS)


def parse_hub_event(target: str, arguments: Any) -> TaskEvent | None:
    """A hub invocation as a TaskEvent, or None if it is not a task event this client can read."""
    if type(arguments) is not list or not arguments:
        return None
    first = arguments[0]
    if target in _PROGRESS_TARGETS and type(first) is dict:
        # The hot path: a progress object with its id under the name Conduit uses.
        task_id = first.get("taskId")
        if type(task_id) is str and task_id and ("progressPercentage" in first or "progress" in first):
            return _progress_as_sent(first, task_id)
    try:
        if target in _OBJECT_EVENTS:
            if not isinstance(first, Mapping):
                return None
            task_id = task_id_of(first)
            return _OBJECT_EVENTS[target](first, task_id) if task_id else None
        if target in SEED_TARGETS:
            if not isinstance(first, str) or not first or len(arguments) < 2:
                return None
            return _seed_event(target, first, arguments[1], arguments[2:])
    except Exception as exc:  # a shape nobody has sent before; one odd event must not stop the stream
        log.debug("ignoring unreadable %s event: %s: %s", target, type(exc).__name__, exc)
    return None


# -- REST answers ---------------------------------------------------------------------------------


def created_task_id(body: Any) -> str | None:
    """The task id in a create answer: image ``task_id``, video ``taskId``, the seed's ``request_id``."""
    return task_id_of(body)


def parse_status(body: Any, kind: Kind, *, source: Source = "poll") -> TaskEvent | None:
    """A status answer (image, video or successor route) as a TaskEvent; None if it cannot be read."""
    try:
        return _parse_status(body, kind, source)
    except Exception as exc:  # a shape nobody has sent before: the next poll or hub event will do
        log.debug("ignoring an unreadable status answer: %s: %s", type(exc).__name__, exc)
        return None


def _parse_status(body: Any, kind: Kind, source: Source) -> TaskEvent | None:
    if not isinstance(body, Mapping):
        return None
    task_id = task_id_of(body)
    status = normalise_status(_get(body, "status", "Status", "state"))
    if task_id is None or status is None:
        return None
    progress = _number(_get(body, "progress", "Progress", "progressPercentage"))
    error = _error_text(_get(body, "error", "Error"))
    fields: dict[str, Any] = {}
    if status == "completed":
        fields = _result_fields(body, kind)
    elif status == "failed":
        retryable = _get(body, "isRetryable", "is_retryable")
        if retryable is None:  # 7c3fd76a's video route keeps it in the failure it stores as `result`
            retryable = _get(_result_object(body), "IsRetryable", "isRetryable")
        fields = {
            "error": error or "the task failed (the server gave no reason)",
            "is_retryable": retryable if isinstance(retryable, bool) else None,
        }
    elif status in ("cancelled", "timedout"):
        fields = {"error": error}
    return TaskEvent(
        task_id=task_id,
        source=source,
        status=status,
        progress=100.0 if status == "completed" else progress,
        message=_text(_get(body, "progressMessage", "message")),
        **fields,
    )


def _error_text(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return _text(_get(value, "message", "Message"))
    return _text(value)


def _result_fields(body: Mapping[str, Any], kind: Kind) -> dict[str, Any]:
    """Media and details of a completed task, from whichever result shape the route used:

    - 7c3fd76a's images: ``result.images[].Url`` (PascalCase); the Gateway's: ``result.images[].url``;
    - 7c3fd76a's videos: ``result`` is a JSON *string* with ``VideoUrl`` (``videoResponse.data`` stays empty);
    - the Gateway's videos: ``result`` is an object, ``data[0].url`` with ``metadata`` (and ``result_raw`` beside it).
    """
    result = _result_object(body)
    video_response = _get(body, "videoResponse", "video_response")
    response_data = video_response.get("data") if isinstance(video_response, Mapping) else None
    data = _get(result, "data", "Data")
    first = _first_mapping(data) or _first_mapping(response_data)
    metadata = first.get("metadata") if isinstance(first.get("metadata"), Mapping) else {}
    fields: dict[str, Any] = {"metadata": {**dict(metadata or {}), **_extra_metadata(result)}}
    if kind == "video":
        fields["video_url"] = _text(_get(result, "VideoUrl", "videoUrl", "video_url")) or _text(first.get("url"))
        fields["preview_url"] = _text(_get(result, "PreviewUrl", "previewUrl", "preview_url"))
        return fields
    image_urls = _urls(_get(result, "images", "Images", "imageUrls", "image_urls", "data"))
    fields["image_urls"] = image_urls or _urls(_get(result, "image_url", "imageUrl", "ImageUrl"))
    return fields


def _result_object(body: Mapping[str, Any]) -> Mapping[str, Any]:
    result = _get(body, "result", "Result")
    if isinstance(result, str):  # 7c3fd76a's video route stores its result as a JSON string
        try:
            result = json.loads(result)
        except (ValueError, RecursionError):
            result = None
    return result if isinstance(result, Mapping) else {}


def _first_mapping(value: Any) -> Mapping[str, Any]:
    return value[0] if isinstance(value, list) and value and isinstance(value[0], Mapping) else {}
