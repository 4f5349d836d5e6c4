"""The video routes answer with camelCase bodies, a JSON-string result and ProblemDetails errors."""

from __future__ import annotations

import io
import json

import av
import pytest

from tests.server.helpers import client, create_video, wait_video


def test_create_answers_202_with_camel_case_task_id_and_the_seeds_request_id(conduit):
    with client(conduit) as http:
        response = http.post(
            "/v1/videos/generations/async", json={"prompt": "waves", "model": "minimax-video", "size": "128x96"}
        )
        assert response.status_code == 202
        body = response.json()
        assert set(body) == {"taskId", "request_id", "status", "createdAt", "estimatedCompletionTime", "checkStatusUrl"}
        assert body["request_id"] == body["taskId"]
        assert body["status"] == "pending"
        assert body["checkStatusUrl"] == f"/v1/videos/generations/tasks/{body['taskId']}"
        http.delete(f"/v1/videos/generations/{body['taskId']}")


def test_a_video_completes_with_a_playable_clip_of_the_requested_length(conduit):
    with client(conduit) as http:
        status = wait_video(http, create_video(http, duration=2, size="160x120", fps=12))
        assert status["status"] == "completed"
        assert status["progress"] == 100
        assert status["error"] is None
        result = json.loads(status["result"])  # a JSON string, as Conduit stores it
        assert set(result) >= {"VideoUrl", "PreviewUrl", "Duration", "Resolution", "FileSize"}
        assert result["Resolution"] == "160x120"
        data = status["videoResponse"]["data"][0]
        assert data["url"] == result["VideoUrl"]
        assert data["metadata"]["mime_type"] == "video/mp4"
        clip = http.get(result["VideoUrl"])
        assert clip.headers["content-type"] == "video/mp4"
        assert len(clip.content) == result["FileSize"] == data["metadata"]["file_size_bytes"]
        with av.open(io.BytesIO(clip.content)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (160, 120)
            assert container.duration / av.time_base == pytest.approx(2.0, abs=1 / 12)
        assert http.get(result["PreviewUrl"]).headers["content-type"] == "image/png"


def test_video_media_answers_range_requests_so_players_can_seek(conduit):
    with client(conduit) as http:
        url = json.loads(wait_video(http, create_video(http))["result"])["VideoUrl"]
        part = http.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert len(part.content) == 100


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"model": "minimax-video"}, "Prompt is required"),
        ({"prompt": "waves"}, "Model is required"),
        ({"prompt": "waves", "model": "dall-e-3"}, "dall-e-3"),
        ({"prompt": "waves", "model": "minimax-video", "size": "131x97"}, "even"),
        ({"prompt": "waves", "model": "minimax-video", "duration": 0}, "duration"),
        ({"prompt": "waves", "model": "minimax-video", "duration": "long"}, "duration"),
        ({"prompt": "waves", "model": "minimax-video", "n": 2}, "one video"),
    ],
)
def test_bad_requests_get_problem_details_naming_what_was_wrong(conduit, body, needle):
    with client(conduit) as http:
        response = http.post("/v1/videos/generations/async", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400
    assert problem["title"] == "Invalid Request"
    assert needle in problem["detail"]


def test_unknown_or_foreign_task_is_404_problem(conduit, other_key):
    with client(conduit) as mine, client(conduit, other_key) as theirs:
        task_id = create_video(mine, model="test-hang")
        for http, tid in ((mine, "00000000-0000-0000-0000-000000000000"), (theirs, task_id)):
            response = http.get(f"/v1/videos/generations/tasks/{tid}")
            assert response.status_code == 404
            assert response.json()["title"] == "Task Not Found"
            assert http.delete(f"/v1/videos/generations/{tid}").status_code == 404
        assert mine.delete(f"/v1/videos/generations/{task_id}").status_code == 204


def test_cancel_is_204_then_409_once_finished(conduit):
    with client(conduit) as http:
        task_id = create_video(http, model="test-hang")
        response = http.delete(f"/v1/videos/generations/{task_id}")
        assert response.status_code == 204
        assert response.content == b""
        assert http.get(f"/v1/videos/generations/tasks/{task_id}").json()["status"] == "cancelled"
        again = http.delete(f"/v1/videos/generations/{task_id}")
        assert again.status_code == 409
        assert again.json()["title"] == "Cannot Cancel Task"


def test_a_failed_retryable_task_can_be_retried_until_the_limit(conduit):
    with client(conduit) as http:
        task_id = create_video(http, model="test-fail")
        assert wait_video(http, task_id)["status"] == "failed"
        for attempt in range(3):
            retried = http.post(f"/v1/videos/generations/tasks/{task_id}/retry")
            assert retried.status_code == 200, retried.text
            assert retried.json()["status"] == "pending"
            assert wait_video(http, task_id)["status"] == "failed", f"attempt {attempt}"
        refused = http.post(f"/v1/videos/generations/tasks/{task_id}/retry")
        assert refused.status_code == 400
        assert refused.json()["title"] == "Max Retries Exceeded"


def test_retry_of_a_completed_task_is_an_invalid_state(conduit):
    with client(conduit) as http:
        task_id = create_video(http)
        wait_video(http, task_id)
        response = http.post(f"/v1/videos/generations/tasks/{task_id}/retry")
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Task State"
