"""The image routes answer with the real Conduit's fields, casing, codes and OpenAI-shaped errors."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.server.helpers import client, create_image, wait_image

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_create_answers_202_with_a_queued_snake_case_task(conduit):
    with client(conduit) as http:
        response = http.post("/v1/images/generations/async", json={"prompt": "a fox", "model": "dall-e-3"})
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"task_id", "status", "check_status_url", "created_at", "estimated_completion_time"}
    assert body["status"] == "queued"
    assert body["check_status_url"] == f"{conduit.base_url}/v1/images/generations/{body['task_id']}/status"
    assert ISO.match(body["created_at"])


def test_a_task_runs_to_completion_with_absolute_pascal_case_image_urls(conduit):
    with client(conduit) as http:
        task_id = create_image(http, size="256x128", n=2)
        status = wait_image(http, task_id)
        assert status["status"] == "completed"
        assert status["progress"] == 100
        assert "error" not in status
        images = status["result"]["images"]
        assert len(images) == 2
        assert set(images[0]) == {"Url", "B64Json", "RevisedPrompt", "Metadata"}
        pictures = []
        for image in images:
            assert image["Url"].startswith(conduit.base_url + "/v1/media/")
            media = http.get(image["Url"], headers={"Authorization": ""})  # media need no key
            assert media.status_code == 200
            assert media.headers["content-type"] == "image/png"
            pictures.append(Image.open(io.BytesIO(media.content)))
        assert [p.size for p in pictures] == [(256, 128), (256, 128)]
        assert pictures[0].tobytes() != pictures[1].tobytes()


def test_status_while_running_has_progress_and_no_result(conduit):
    with client(conduit) as http:
        task_id = create_image(http, model="test-hang")
        status = http.get(f"/v1/images/generations/{task_id}/status").json()
        assert status["status"] in {"pending", "processing"}
        assert "result" not in status and "error" not in status
        assert 0 <= status["progress"] < 100
        http.delete(f"/v1/images/generations/{task_id}")


def test_a_failing_model_reports_its_error(conduit):
    with client(conduit) as http:
        status = wait_image(http, create_image(http, model="test-fail"))
    assert status["status"] == "failed"
    assert "test-fail" in status["error"]
    assert "result" not in status


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"model": "dall-e-3"}, "prompt", "missing_parameter"),
        ({"prompt": "  ", "model": "dall-e-3"}, "prompt", "missing_parameter"),
        ({"prompt": "a fox"}, "model", "missing_parameter"),
        ({"prompt": "a fox", "model": "stable-nonsense"}, "model", "unsupported_model"),
        ({"prompt": "a fox", "model": "minimax-video"}, "model", "unsupported_model"),
        ({"prompt": "a fox", "model": "dall-e-3", "n": 0}, "n", "invalid_parameter"),
        ({"prompt": "a fox", "model": "dall-e-3", "n": "2"}, "n", "invalid_parameter"),
        ({"prompt": "a fox", "model": "dall-e-3", "size": "huge"}, "size", "invalid_parameter"),
        ({"prompt": "a fox", "model": "dall-e-3", "size": "9000x10"}, "size", "invalid_parameter"),
        ({"prompt": 42, "model": "dall-e-3"}, "prompt", "invalid_parameter"),
    ],
)
def test_bad_requests_get_openai_errors_naming_the_parameter(conduit, body, param, code):
    with client(conduit) as http:
        response = http.post("/v1/images/generations/async", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert error["message"]


def test_a_body_that_is_not_json_gets_a_validation_problem(conduit):
    with client(conduit) as http:
        response = http.post(
            "/v1/images/generations/async", content=b"{nope", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["title"] == "One or more validation errors occurred." and body["errors"]


@pytest.mark.security("oversized request bodies are refused")
def test_an_oversized_body_is_refused_with_413(conduit):
    with client(conduit) as http:
        response = http.post("/v1/images/generations/async", json={"prompt": "x" * 2_000_000, "model": "dall-e-3"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_unknown_task_is_404_not_found(conduit):
    with client(conduit) as http:
        response = http.get("/v1/images/generations/00000000-0000-0000-0000-000000000000/status")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "message": "Task not found",
        "type": "invalid_request_error",
        "param": "task_id",
        "code": "not_found",
    }


@pytest.mark.security("another key's tasks are refused (REST)")
def test_another_keys_task_is_404_for_status_and_cancel(conduit, other_key):
    with client(conduit) as mine, client(conduit, other_key) as theirs:
        task_id = create_image(mine, model="test-hang")
        assert theirs.get(f"/v1/images/generations/{task_id}/status").status_code == 404
        assert theirs.delete(f"/v1/images/generations/{task_id}").status_code == 404
        assert mine.get(f"/v1/images/generations/{task_id}/status").json()["status"] != "cancelled"
        mine.delete(f"/v1/images/generations/{task_id}")


def test_cancel_stops_a_running_task_and_refuses_a_second_time(conduit):
    with client(conduit) as http:
        task_id = create_image(http, model="test-hang")
        response = http.delete(f"/v1/images/generations/{task_id}")
        assert response.status_code == 200
        assert response.json() == {"message": "Task cancellation requested", "task_id": task_id}
        assert http.get(f"/v1/images/generations/{task_id}/status").json()["status"] == "cancelled"
        again = http.delete(f"/v1/images/generations/{task_id}")
        assert again.status_code == 400
        assert again.json()["error"]["code"] == "invalid_operation"
