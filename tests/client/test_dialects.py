"""Reading every shape Conduit has been seen to send: both hub dialects, every status route."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conduit_widget.client.dialects import (
    EVENT_TARGETS,
    created_task_id,
    parse_hub_event,
    parse_status,
)
from conduit_widget.client.model_kinds import discovered_kinds, named_kinds
from conduit_widget.client.models import normalise_status

T = "2f1c7c1e-0000-4000-8000-000000000001"


def test_real_image_progress_from_the_reference():
    event = parse_hub_event(
        "ImageGenerationProgress",
        [
            {
                "taskId": T,
                "progressPercentage": 50,
                "status": "storing",
                "imagesCompleted": 1,
                "totalImages": 2,
                "message": "Processed 1 of 2 images",
                "timestamp": "2025-08-28T10:00:00Z",
            }
        ],
    )
    assert event is not None
    assert (event.task_id, event.status, event.progress, event.stage) == (T, "processing", 50, "storing")
    assert (event.images_completed, event.images_total, event.message) == (1, 2, "Processed 1 of 2 images")


def test_real_video_progress_uses_the_progress_key():
    event = parse_hub_event(
        "VideoGenerationProgress",
        [
            {
                "taskId": T,
                "status": "encoding",
                "progress": 70,
                "message": "Encoding",
                "framesCompleted": 9,
                "totalFrames": 10,
            }
        ],
    )
    assert event is not None
    assert (event.progress, event.frames_completed, event.frames_total) == (70, 9, 10)


def test_completions_in_both_dialects_carry_their_urls():
    real = parse_hub_event(
        "ImageGenerationCompleted", [{"taskId": T, "imageUrls": ["https://a/1.png", "https://a/2.png"]}]
    )
    seed = parse_hub_event("TaskCompleted", [T, {"image_url": "https://a/1.png", "metadata": {"seed": 3}}])
    video = parse_hub_event(
        "VideoGenerationCompleted", [{"taskId": T, "videoUrl": "https://a/v.mp4", "previewUrl": "https://a/p.png"}]
    )
    seed_video = parse_hub_event("RequestCompleted", [T, {"video_url": "https://a/v.mp4"}])
    assert real is not None and real.image_urls == ("https://a/1.png", "https://a/2.png")
    assert seed is not None and seed.image_urls == ("https://a/1.png",)
    assert seed.metadata == {"seed": 3}
    assert video is not None and (video.video_url, video.preview_url) == ("https://a/v.mp4", "https://a/p.png")
    assert seed_video is not None and seed_video.video_url == "https://a/v.mp4"
    assert {e.status for e in (real, seed, video, seed_video)} == {"completed"}


def test_failures_in_both_dialects():
    real = parse_hub_event(
        "VideoGenerationFailed", [{"taskId": T, "error": "no GPU", "errorCode": "E1", "isRetryable": True}]
    )
    seed = parse_hub_event("TaskFailed", [T, "no GPU"])
    hub = parse_hub_event("TaskFailed", [T, "no GPU", False])  # TaskHub's positional form
    assert real is not None and (real.error, real.error_code, real.is_retryable) == ("no GPU", "E1", True)
    assert seed is not None and (seed.error, seed.is_retryable) == ("no GPU", None)
    assert hub is not None and hub.is_retryable is False


def test_seed_progress_is_positional_and_pascal_case_ids_are_read():
    seed = parse_hub_event("RequestProgress", [T, 42])
    pascal = parse_hub_event("ImageGenerationProgress", [{"TaskId": T, "Progress": 7}])
    assert seed is not None and (seed.task_id, seed.progress) == (T, 42)
    assert pascal is not None and (pascal.task_id, pascal.progress) == (T, 7)


@pytest.mark.parametrize(
    ("target", "arguments"),
    [
        ("ImageGenerationProgress", []),
        ("ImageGenerationProgress", ["not an object"]),
        ("ImageGenerationProgress", [{"progressPercentage": 5}]),  # no task id
        ("TaskProgress", [T]),
        ("TaskProgress", [T, "fifty"]),
        ("TaskProgress", [42, 50]),
        ("SomethingElse", [{"taskId": T}]),
        ("TaskCompleted", None),
    ],
)
def test_unreadable_events_are_ignored_not_raised(target, arguments):
    assert parse_hub_event(target, arguments) is None


@given(
    target=st.sampled_from(EVENT_TARGETS),
    arguments=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=20,
    ),
)
def test_no_payload_makes_the_reader_raise(target, arguments):
    parse_hub_event(target, arguments)  # anything at all: an event or None, never an exception


def test_image_status_with_pascal_case_images():
    body = {
        "task_id": T,
        "status": "completed",
        "progress": 100,
        "result": {"images": [{"Url": "https://a/1.png", "B64Json": None}], "model": "dall-e-3"},
    }
    event = parse_status(body, "image")
    assert event is not None
    assert (event.status, event.image_urls) == ("completed", ("https://a/1.png",))
    assert event.metadata == {"model": "dall-e-3"}


def test_video_status_with_a_json_string_result_and_video_response():
    body = {
        "taskId": T,
        "status": "completed",
        "progress": 100,
        "result": json.dumps({"VideoUrl": "https://a/v.mp4", "PreviewUrl": "https://a/p.png", "Duration": 4.0}),
        "videoResponse": {"data": [{"url": "https://a/v.mp4", "metadata": {"width": 640, "height": 360}}]},
    }
    event = parse_status(body, "video")
    assert event is not None
    assert (event.video_url, event.preview_url) == ("https://a/v.mp4", "https://a/p.png")
    assert event.metadata["duration"] == 4.0
    assert event.metadata["width"] == 640


def test_video_status_with_only_a_video_response():
    body = {"taskId": T, "status": "completed", "result": None, "videoResponse": {"data": [{"url": "https://a/v.mp4"}]}}
    event = parse_status(body, "video")
    assert event is not None
    assert event.video_url == "https://a/v.mp4"


def test_a_gateway_video_status_with_a_typed_result_has_its_video_not_an_image():
    # VideosEndpoints.cs: snake_case, a VideoGenerationResponse as `result`, its raw text beside it.
    result = {
        "created": 1,
        "data": [{"url": "https://a/v.mp4", "metadata": {"width": 640, "height": 360, "duration": 4.0, "fps": 0}}],
        "model": "minimax-video",
        "usage": {"videos_generated": 1, "total_duration_seconds": 4.0},
    }
    body = {"task_id": T, "status": "completed", "progress": 100, "result": result, "result_raw": json.dumps(result)}
    event = parse_status(body, "video")
    assert event is not None
    assert (event.video_url, event.image_urls) == ("https://a/v.mp4", ())
    assert event.metadata["width"] == 640


def test_a_gateway_image_status_has_its_camel_case_urls():
    body = {
        "task_id": T,
        "status": "completed",
        "result": {"images": [{"url": "https://a/1.png", "revisedPrompt": None}]},
    }
    event = parse_status(body, "image")
    assert event is not None
    assert event.image_urls == ("https://a/1.png",)


def test_a_cancel_announced_as_progress_ends_the_task_cancelled():
    # ImageGenerationOrchestrator: a cancel is ImageGenerationProgress with status "cancelled" (no *Cancelled event).
    payload = {"taskId": T, "progressPercentage": 0, "status": "cancelled", "imagesCompleted": 0, "totalImages": 0}
    event = parse_hub_event("ImageGenerationProgress", [{**payload, "message": "Task cancelled"}])
    assert event is not None
    assert (event.status, event.message) == ("cancelled", "Task cancelled")
    # Any other word, "completed" included, is work going on: a progress event carries no media.
    assert parse_hub_event("ImageGenerationProgress", [{**payload, "status": "completed"}]).status == "processing"


def test_model_kinds_come_from_discovery_in_either_shape_or_else_from_names():
    assert discovered_kinds({"id": "m", "supports_image_generation": True}) == {"image"}
    assert discovered_kinds({"id": "m", "capabilities": {"video_generation": True, "image_generation": False}}) == {
        "video"
    }
    assert discovered_kinds({"id": "gpt-4o", "supports_chat": True, "type": "image"}) == set()  # no `type` is trusted
    assert named_kinds("dall-e-3") == {"image"} and named_kinds("minimax-video") == {"video"}
    assert named_kinds("gpt-4o-mini") == set()


def test_failed_status_carries_the_error_in_any_shape():
    plain = parse_status({"task_id": T, "status": "failed", "error": "boom"}, "image")
    nested = parse_status({"taskId": T, "status": "Failed", "error": {"message": "boom"}}, "video")
    assert plain is not None and plain.error == "boom"
    assert nested is not None and (nested.status, nested.error) == ("failed", "boom")


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("queued", "pending"),
        ("Pending", "pending"),
        ("Running", "processing"),
        ("in-progress", "processing"),
        ("storing", "processing"),
        ("Completed", "completed"),
        ("succeeded", "completed"),
        ("canceled", "cancelled"),
        ("TimedOut", "timedout"),
        (3, "failed"),
        ("exploded", None),
        (True, None),
        (None, None),
    ],
)
def test_status_words_fold_into_six(word, status):
    assert normalise_status(word) == status


@pytest.mark.parametrize(
    ("body", "task_id"),
    [({"task_id": T}, T), ({"taskId": T}, T), ({"request_id": T}, T), ({"TaskId": T}, T), ({}, None), ([], None)],
)
def test_create_answers_name_their_task_in_any_casing(body, task_id):
    assert created_task_id(body) == task_id
