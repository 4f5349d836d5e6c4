"""The video routes, as each real server answers them: 7c3fd76a's camelCase bodies, JSON-string result and
ProblemDetails; the Gateway's snake_case bodies, typed result and OpenAI errors (docs/compatibility.md)."""

from __future__ import annotations

import io
import json

import av
import pytest

from tests.server.conftest import profile_of
from tests.server.helpers import Api


def _gateway(server) -> bool:
    return profile_of(server).json == "gateway"


def test_create_answers_202_with_the_profiles_id_members(served):
    profile = profile_of(served)
    with Api(served) as api:
        response = api.post_create("video")
        assert response.status_code == 202
        body = response.json()
        times = (
            ("created_at", "estimated_completion_time")
            if _gateway(served)
            else ("createdAt", "estimatedCompletionTime")
        )
        url = "check_status_url" if _gateway(served) else "checkStatusUrl"
        assert set(body) == {*profile.video_create_ids, "status", *times, url}
        task_id = body[profile.video_create_ids[0]]
        assert all(body[name] == task_id for name in profile.video_create_ids)
        assert body["status"] == "pending"
        assert body[url] == api.path("video_status", task_id)  # relative, on every version
        if not _gateway(served):
            assert body["createdAt"].endswith("+00:00")  # a DateTimeOffset, not a DateTime
        api.cancel("video", task_id)


def test_a_float_duration_is_refused_as_a_real_server_refuses_it(served):
    with Api(served) as api:
        response = api.post_create("video", duration=4.0)
    assert response.status_code == 400
    if _gateway(served):
        assert response.json()["error"]["code"] == "invalid_request_body"
        return
    errors = response.json()["errors"]
    assert errors["$.duration"][0].startswith(
        "The JSON value could not be converted to System.Nullable`1[System.Int32]. Path: $.duration |"
    )


def test_a_duration_in_a_string_is_read_as_the_number_it_holds(served):
    with Api(served) as api:
        status = api.wait("video", api.create("video", duration="2", fps=12))
    assert status["status"] == "completed"


@pytest.mark.parametrize(
    ("members", "gateway_message"),
    [
        ({"duration": 0}, "Duration must be between 1 and 60 seconds"),
        ({"duration": 61}, "Duration must be between 1 and 60 seconds"),
        ({"fps": 121}, "FPS must be between 1 and 120"),
    ],
)
def test_durations_and_frame_rates_out_of_range_are_refused(served, members, gateway_message):
    with Api(served) as api:
        response = api.post_create("video", **members)
    assert response.status_code == 400
    if _gateway(served):
        assert response.json()["error"] == {
            "message": gateway_message,
            "type": "invalid_request_error",
            "code": "invalid_value",
        }
    else:  # one text for every reason on 7c3fd76a
        assert response.json() == {
            "title": "Invalid Request",
            "status": 400,
            "detail": "Invalid video generation request",
        }


def test_a_model_that_makes_no_videos_is_refused_at_once_or_fails_the_task(served):
    with Api(served) as api:
        response = api.post_create("video", model="dall-e-3")
        if _gateway(served):  # the Gateway checks no model at create; its orchestrator fails the task
            assert response.status_code == 202
            status = api.wait("video", response.json()["task_id"])
            assert status["status"] == "failed"
            assert status["error"].startswith("Model 'dall-e-3' is not configured or mapped to a provider")
            return
    assert response.status_code == 400
    assert response.json()["detail"] == "Invalid video generation request"


def test_a_video_completes_with_a_playable_clip_of_the_requested_length(served):
    with Api(served) as api:
        status = api.wait("video", api.create("video", duration=2, size="160x120", fps=12))
        assert status["status"] == "completed"
        assert status["progress"] == 100
        assert status.get("error") is None
        if _gateway(served):
            result = status["result"]
            assert json.loads(status["result_raw"]) == result
            (data,) = result["data"]
            url = data["url"]
            assert (data["metadata"]["width"], data["metadata"]["height"]) == (160, 120)
            assert data["metadata"]["fps"] == 0  # the handler never fills it
            size = data["metadata"]["file_size_bytes"]
        else:
            result = json.loads(status["result"])  # a JSON string, PascalCase, as the completion handler stores it
            assert set(result) == {
                "VideoUrl",
                "PreviewUrl",
                "Duration",
                "Resolution",
                "FileSize",
                "Cost",
                "Provider",
                "Model",
                "CompletedAt",
            }
            # Read back as a VideoGenerationResponse, only `Model` matches a member: `data` stays empty.
            assert status["videoResponse"] == {"created": 0, "data": [], "model": result["Model"], "usage": None}
            url, size = result["VideoUrl"], result["FileSize"]
            if profile_of(served).video_details:
                assert result["Resolution"] == "160x120"
                assert api.http.get(result["PreviewUrl"]).headers["content-type"] == "image/png"
            else:  # 7c3fd76a's orchestrator fills in only the URL and the times
                assert (result["PreviewUrl"], result["Duration"], result["Resolution"], size) == (None, 0, "", 0)
        clip = api.http.get(url)
        assert clip.headers["content-type"] == "video/mp4"
        if size:
            assert len(clip.content) == size
        with av.open(io.BytesIO(clip.content)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (160, 120)
            assert container.duration / av.time_base == pytest.approx(2.0, abs=1 / 12)


def test_video_media_answers_range_requests_so_players_can_seek(served):
    with Api(served) as api:
        status = api.wait("video", api.create("video"))
        url = status["result"]["data"][0]["url"] if _gateway(served) else json.loads(status["result"])["VideoUrl"]
        part = api.http.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert len(part.content) == 100


def test_the_local_models_name_their_own_limits(served):
    with Api(served) as api:
        for members, needle in (({"size": "131x97"}, "even"), ({"n": 2}, "one video"), ({"fps": 100}, "at most 60")):
            response = api.post_create("video", **members)
            assert response.status_code == 400
            body = response.json()
            assert needle in (body["error"]["message"] if _gateway(served) else body["detail"])


def test_unknown_or_foreign_task_is_404(served, other_key):
    with Api(served) as mine, Api(served, other_key) as theirs:
        task_id = mine.create("video", model="test-hang")
        for api, tid in ((mine, "task_" + "0" * 32), (theirs, task_id)):
            response = api.status("video", tid)
            assert response.status_code == 404
            if _gateway(served):
                assert response.json()["error"]["message"] == "The requested task was not found"
            else:
                assert response.json() == {
                    "title": "Task Not Found",
                    "status": 404,
                    "detail": "The requested task was not found",
                }
            assert api.cancel("video", tid).status_code == 404
        assert mine.cancel("video", task_id).status_code == 204


def test_cancel_is_204_then_204_again_and_409_once_finished(served):
    with Api(served) as api:
        task_id = api.create("video", model="test-hang")
        response = api.cancel("video", task_id)
        assert response.status_code == 204
        assert response.content == b""
        status = api.status("video", task_id).json()
        assert status["status"] == "cancelled"
        assert status["error"] == "Task was cancelled"  # the video route shows a cancelled task's error
        assert api.cancel("video", task_id).status_code == 204  # cancelling a cancelled task is no error
        done = api.create("video")
        api.wait("video", done)
        refused = api.cancel("video", done)
    assert refused.status_code == 409
    body = refused.json()
    message = "Task is already completed and cannot be cancelled"
    if _gateway(served):
        assert (body["error"]["message"], body["error"]["code"]) == (message, "invalid_operation")
    else:
        assert body == {"title": "Cannot Cancel Task", "status": 409, "detail": message}


def test_a_failed_retryable_task_can_be_retried_until_the_limit(served):
    with Api(served) as api:
        task_id = api.create("video", model="test-fail")
        assert api.wait("video", task_id)["status"] == "failed"
        retry = api.path("video_retry", task_id)
        for attempt in range(1, 4):
            retried = api.http.post(retry)
            assert retried.status_code == 200, retried.text
            assert retried.json()["status"] == "pending"
            assert retried.json()["error"] == f"Retry {attempt}/3 scheduled"
            assert api.wait("video", task_id)["status"] == "failed", f"attempt {attempt}"
        refused = api.http.post(retry)
    assert refused.status_code == 400
    detail = "Task has already been retried 3 times (max: 3)"
    body = refused.json()
    assert (body["error"]["message"] if _gateway(served) else (body["title"], body["detail"])) == (
        detail if _gateway(served) else ("Max Retries Exceeded", detail)
    )


def test_retry_of_a_completed_task_names_its_state(served):
    with Api(served) as api:
        task_id = api.create("video")
        api.wait("video", task_id)
        response = api.http.post(api.path("video_retry", task_id))
    assert response.status_code == 400
    detail = "Only failed tasks can be retried. Current state: Completed"
    body = response.json()
    assert (body["error"]["message"] if _gateway(served) else body["detail"]) == detail
