"""The image routes, as each real server answers them: fields, casing, codes, OpenAI-shaped errors, and the
binding refusals of ASP.NET in front of them (docs/compatibility.md)."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.server.conftest import profile_of
from tests.server.helpers import Api, client

UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$")


def test_create_answers_202_with_a_queued_snake_case_task(served):
    with Api(served) as api:
        response = api.post_create("image")
    assert response.status_code == 202
    body = response.json()
    gateway = profile_of(served).json == "gateway"
    # AsyncTaskResponse; the Gateway leaves out the null estimate, and still points at the route it no longer maps.
    assert set(body) == {"task_id", "status", "check_status_url", "created_at"} | (
        set() if gateway else {"estimated_completion_time"}
    )
    assert re.fullmatch(r"task_[0-9a-f]{32}", body["task_id"])
    assert body["status"] == "queued"
    assert body["check_status_url"] == f"{served.base_url}/v1/images/generations/{body['task_id']}/status"
    assert UTC.match(body["created_at"])


def test_a_task_runs_to_completion_with_absolute_image_urls(served):
    gateway = profile_of(served).json == "gateway"
    with Api(served) as api:
        task_id = api.create("image", size="256x128", n=2)
        status = api.wait("image", task_id)
        assert status["status"] == "completed"
        assert status["progress"] == 100
        assert status.get("error") is None
        images = status["result"]["images"]
        assert len(images) == 2
        # 7c3fd76a serialises ImageData with default options (PascalCase); the Gateway writes a camelCase object.
        url_key = "url" if gateway else "Url"
        assert set(images[0]) == (
            {"url", "revisedPrompt"} if gateway else {"Url", "B64Json", "RevisedPrompt", "Metadata"}
        )
        pictures = []
        for image in images:
            assert image[url_key].startswith(served.base_url + profile_of(served).media_files_route + "/")
            media = api.http.get(image[url_key], headers={"Authorization": ""})  # media need no key
            assert media.status_code == 200
            assert media.headers["content-type"] == "image/png"
            pictures.append(Image.open(io.BytesIO(media.content)))
        assert [p.size for p in pictures] == [(256, 128), (256, 128)]
        assert pictures[0].tobytes() != pictures[1].tobytes()


def test_status_while_running_has_no_result_and_says_progress_only_where_the_server_stores_it(served):
    with Api(served) as api:
        task_id = api.create("image", model="test-hang")
        running = api.status("image", task_id).json()
        while running["status"] == "pending" or running["progress"] == 0:
            running = api.status("image", task_id).json()
            if not profile_of(served).image_status_progress and running["status"] == "processing":
                break
        api.cancel("image", task_id)
    assert running["status"] == "processing"
    assert running.get("result") is None and running.get("error") is None
    if profile_of(served).image_status_progress:
        assert 0 < running["progress"] < 100
    else:  # 7c3fd76a and the Gateway store no image progress: 0 until it is done
        assert running["progress"] == 0


def test_a_failing_model_reports_its_error(served):
    with Api(served) as api:
        status = api.wait("image", api.create("image", model="test-fail"))
    assert status["status"] == "failed"
    assert "test-fail" in status["error"]
    assert status.get("result") is None


def test_a_model_that_makes_no_images_is_an_unsupported_model(served):
    with Api(served) as api:
        for model in ("stable-nonsense", "minimax-video", "gpt-4o-mini"):
            response = api.post_create("image", model=model)
            assert response.status_code == 400
            error = response.json()["error"]
            assert error["message"] == f"Model {model} does not support image generation"
            assert (error["param"], error["code"], error["type"]) == (
                "model",
                "unsupported_model",
                "invalid_request_error",
            )


@pytest.mark.parametrize(
    ("members", "key", "clr"),
    [
        ({"n": "two"}, "$.n", "System.Int32"),
        ({"n": 2.0}, "$.n", "System.Int32"),
        ({"n": None}, "$.n", "System.Int32"),  # `int n`: not nullable
        ({"prompt": 42}, "$.prompt", "System.String"),
        ({"size": 1024}, "$.size", "System.String"),
    ],
)
def test_a_member_of_the_wrong_json_type_is_refused_while_binding(served, members, key, clr):
    with Api(served) as api:
        response = api.post_create("image", **members)
    assert response.status_code == 400
    if profile_of(served).json == "gateway":
        assert response.json()["error"]["code"] == "invalid_request_body"
        return
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["title"] == "One or more validation errors occurred."
    assert body["errors"]["request"] == ["The request field is required."]
    assert body["errors"][key][0].startswith(f"The JSON value could not be converted to {clr}. Path: {key} |")


def test_a_missing_or_blank_prompt_is_refused(served):
    gateway = profile_of(served).json == "gateway"
    with Api(served) as api:
        absent = api.post_create("image", body={"model": "dall-e-3"})
        blank = api.post_create("image", prompt="  ")
    assert absent.status_code == blank.status_code == 400
    if gateway:  # `required string Prompt`: a binding failure; a blank one reaches the handler's own check
        assert absent.json()["error"]["code"] == "invalid_request_body"
        assert blank.json()["error"] == {
            "message": "Prompt is required",
            "type": "invalid_request_error",
            "param": "prompt",
            "code": "missing_parameter",
        }
    else:  # MVC refuses both before the controller's own "Prompt is required" is ever reached
        assert absent.json()["errors"]["$"][0].startswith(
            "JSON deserialization for type 'ConduitLLM.Core.Models.ImageGenerationRequest' was missing required "
            "properties"
        )
        assert blank.json()["errors"] == {"Prompt": ["The Prompt field is required."]}


def test_a_missing_model_is_refused_except_on_the_gateway_which_takes_dall_e_2(served):
    with Api(served) as api:
        response = api.post_create("image", body={"prompt": "a fox", "size": "64x64"})
        if profile_of(served).image_default_model is not None:
            assert response.status_code == 202
            task_id = response.json()["task_id"]
            assert api.wait("image", task_id)["result"]["model"] == "dall-e-2"
            return
    assert response.status_code == 400
    assert "'model'" in response.json()["errors"]["$"][0]


def test_what_real_servers_accept_is_accepted(served):
    """Not kinder, but not stricter either: numbers in strings, any spelling's case, members it does not know."""
    with Api(served) as api:
        response = api.post_create(
            "image", body={"PROMPT": "a fox", "model": "dall-e-3", "n": "2", "size": "64x64", "unknown": [1, {"x": 2}]}
        )
        assert response.status_code == 202, response.text
        status = api.wait("image", response.json()["task_id"])
    assert len(status["result"]["images"]) == 2


@pytest.mark.parametrize("content", [b"{nope", b"[1,2]", b'{"prompt": NaN, "model": "dall-e-3"}', b""])
def test_a_body_that_is_not_a_json_object_is_refused(served, content):
    with Api(served) as api:
        response = api.http.post(
            api.path("image_create"), content=content, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    if profile_of(served).json == "gateway":
        assert response.json()["error"]["message"] == "The request body could not be read"
    else:
        body = response.json()
        assert body["title"] == "One or more validation errors occurred." and body["errors"]


def test_a_body_that_is_not_json_by_its_content_type_is_415(served):
    with Api(served) as api:
        response = api.http.post(
            api.path("image_create"),
            content=b'{"prompt":"a","model":"dall-e-3"}',
            headers={"Content-Type": "text/plain"},
        )
    assert response.status_code == 415


@pytest.mark.security("oversized request bodies are refused")
def test_an_oversized_body_is_refused_with_413(served):
    with Api(served) as api:
        response = api.post_create("image", prompt="x" * 2_000_000)
    assert response.status_code == 413


def test_the_local_models_name_their_own_limits(served):
    with Api(served) as api:
        for members, param in (({"size": "huge"}, "size"), ({"size": "9000x10"}, "size"), ({"n": 11}, "n")):
            response = api.post_create("image", **members)
            assert response.status_code == 400
            assert response.json()["error"]["param"] == param


def test_unknown_task_is_404_not_found(served):
    with Api(served) as api:
        response = api.status("image", "task_" + "0" * 32)
    assert response.status_code == 404
    expected = {"message": "Task not found", "type": "invalid_request_error", "param": "task_id", "code": "not_found"}
    assert response.json()["error"] == expected


@pytest.mark.security("another key's tasks are refused (REST)")
def test_another_keys_task_is_404_for_status_and_cancel(served, other_key):
    with Api(served) as mine, Api(served, other_key) as theirs:
        task_id = mine.create("image", model="test-hang")
        assert theirs.status("image", task_id).status_code == 404
        assert theirs.cancel("image", task_id).status_code == 404
        assert mine.status("image", task_id).json()["status"] != "cancelled"
        mine.cancel("image", task_id)


def test_cancel_is_requested_then_refused_once_the_task_has_ended(served):
    with Api(served) as api:
        task_id = api.create("image", model="test-hang")
        response = api.cancel("image", task_id)
        assert response.status_code == 200
        assert response.json() == {"message": "Task cancellation requested", "task_id": task_id}
        status = api.status("image", task_id).json()
        assert status["status"] == "cancelled"
        assert status.get("error") is None  # only a failed task shows its error on this route
        again = api.cancel("image", task_id)
        assert again.status_code == 400
        assert again.json()["error"]["message"] == "Task has already completed"
        assert again.json()["error"]["code"] == "invalid_operation"


def test_the_old_routes_are_gone_from_the_gateway_and_the_new_ones_absent_elsewhere(served):
    gateway = profile_of(served).json == "gateway"
    with client(served) as http:
        old = http.post("/v1/images/generations/async", json={"prompt": "a", "model": "dall-e-3"})
        new = http.post("/v1/conduit/images/generations/async", json={"prompt": "a", "model": "dall-e-3"})
    missing = old if gateway else new
    assert (missing.status_code, missing.content) == (404, b"")  # ASP.NET's answer for a route it does not map
