"""The generic task routes Conduit's Node SDK uses, as 7c3fd76a (``/v1/tasks``) and the Gateway
(``/v1/conduit/tasks``) answer them."""

from __future__ import annotations

import pytest

from tests.server.conftest import profile_of
from tests.server.helpers import Api

_STATE_NUMBERS = {"pending": 0, "processing": 1, "completed": 2, "failed": 3, "cancelled": 4, "timedout": 5}


def _route(server, task_id: str, action: str = "") -> str:
    return f"{profile_of(server).tasks_route}/{task_id}{action}"


def test_a_task_is_read_with_its_state_as_each_version_writes_it(served):
    gateway = profile_of(served).json == "gateway"
    with Api(served) as api:
        task_id = api.create("image")
        api.wait("image", task_id)
        body = api.http.get(_route(served, task_id)).json()
    if gateway:  # snake_case, the state a snake_case word
        assert (body["task_id"], body["task_type"], body["state"]) == (task_id, "image_generation", "completed")
        assert body["result"]["images"][0]["url"]
    else:  # camelCase, the state TaskState's number
        assert (body["taskId"], body["taskType"], body["state"]) == (task_id, "image_generation", 2)
        assert body["result"]["images"][0]["Url"]
        assert body["metadata"]["prompt"] == "a fox"
    assert "condt_" not in str(body)  # 7c3fd76a puts the creator's key in a video's metadata: not here


def test_an_unknown_task_is_204_on_7c3fd76a_and_404_on_the_gateway(served):
    with Api(served) as api:
        response = api.http.get(_route(served, "task_" + "0" * 32))
    if profile_of(served).json == "gateway":
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found_error"
    else:  # Ok(null): MVC writes no body at all
        assert (response.status_code, response.content) == (204, b"")


def test_cancel_records_the_task_cancelled_whatever_its_state(served):
    with Api(served) as api:
        task_id = api.create("image", model="test-hang")
        while api.status("image", task_id).json()["status"] == "pending":
            pass  # running: a cancel recorded earlier would be overwritten by its start, as on 7c3fd76a
        assert api.http.post(_route(served, task_id, "/cancel")).status_code == 204
        body = api.http.get(_route(served, task_id)).json()
        assert body["state"] in ("cancelled", 4)
        assert body["error"] == "Task was cancelled"
        unknown = api.http.post(_route(served, "task_" + "1" * 32, "/cancel"))
    assert unknown.status_code == 404
    if profile_of(served).json == "mvc":
        assert unknown.json() == {
            "error": {"message": f"Task task_{'1' * 32} not found", "type": "not_found"},
            "details": None,
            "code": None,
        }


def test_poll_waits_for_the_end(served):
    with Api(served) as api:
        task_id = api.create("image", model="test-slow")
        body = api.http.get(_route(served, task_id, "/poll"), params={"timeout": 30, "interval": 1}).json()
    assert body["state"] in ("completed", 2)


@pytest.mark.parametrize("timeout", ["1", "0"])  # 0 is taken as 1, the least a poll waits
def test_a_poll_that_runs_out_of_time_times_the_task_out_or_answers_408(served, timeout):
    with Api(served) as api:
        task_id = api.create("image", model="test-hang")
        response = api.http.get(_route(served, task_id, "/poll"), params={"timeout": timeout, "interval": 1})
        api.cancel("image", task_id)
    if profile_of(served).json == "gateway":
        assert response.status_code == 408
        assert response.json()["error"]["message"] == "Task polling timed out"
    else:  # 7c3fd76a marks the task timed out, and says so with a 200
        assert response.status_code == 200
        assert (response.json()["state"], response.json()["error"]) == (_STATE_NUMBERS["timedout"], "Task timed out")
