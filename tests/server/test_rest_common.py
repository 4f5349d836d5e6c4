"""Auth, models, media, limits: what every route of the local Conduit shares."""

from __future__ import annotations

import logging

import httpx
import pytest

from conduit_widget.server import LocalConduit
from tests.server.conftest import profile_of
from tests.server.helpers import Api, client, create_image, wait_image

PROTECTED = [
    ("POST", "/v1/images/generations/async"),
    ("GET", "/v1/images/generations/x/status"),
    ("DELETE", "/v1/images/generations/x"),
    ("POST", "/v1/videos/generations/async"),
    ("GET", "/v1/videos/generations/tasks/x"),
    ("DELETE", "/v1/videos/generations/x"),
    ("GET", "/v1/models"),
    ("POST", "/hubs/image-generation/negotiate"),
    ("POST", "/hubs/video-generation/negotiate"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer condt_not-a-real-key"}, {"X-API-Key": "nope"}])
@pytest.mark.security("a missing or wrong key is refused (REST)")
def test_a_missing_or_wrong_key_gets_401_with_an_empty_body(conduit, method, path, headers):
    response = httpx.request(method, conduit.base_url + path, headers=headers, json={})
    assert response.status_code == 401
    assert response.content == b""


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"headers": {"Authorization": "Bearer {key}"}}, 200),
        ({"headers": {"Authorization": "bearer {key}"}}, 200),
        ({"headers": {"X-API-Key": "{key}"}}, 200),
        ({"params": {"api_key": "{key}"}}, 401),  # query keys count on hub paths only, as on Conduit
    ],
)
def test_keys_are_read_where_conduit_reads_them(conduit, where, expected):
    kwargs = {part: {k: v.format(key=conduit.api_key) for k, v in values.items()} for part, values in where.items()}
    assert httpx.get(conduit.base_url + "/v1/models", **kwargs).status_code == expected


@pytest.mark.parametrize("param", ["access_token", "api_key"])
def test_hub_paths_take_the_key_from_the_query(conduit, param):
    response = httpx.post(f"{conduit.base_url}/hubs/image-generation/negotiate", params={param: conduit.api_key})
    assert response.status_code == 200


def test_models_lists_ids_only_as_every_version_does(served):
    with client(served) as http:
        body = http.get("/v1/models").json()
    assert list(body) == ["data", "object"]
    assert body["object"] == "list"
    assert all(set(m) == {"id", "object"} and m["object"] == "model" for m in body["data"])
    ids = {m["id"] for m in body["data"]}
    assert ids == {"local-image", "local-video", "dall-e-3", "dall-e-2", "gpt-image-1", "minimax-video", "gpt-4o-mini"}


def test_discovery_says_what_each_model_makes(served):
    gateway = profile_of(served).json == "gateway"
    with client(served) as http:
        everything = http.get(f"{profile_of(served).discovery_route}/models").json()
        videos = http.get(f"{profile_of(served).discovery_route}/models", params={"capability": "video-generation"})
    assert everything["count"] == len(everything["data"]) == 7

    def makes(model, kind):
        return model["capabilities"][f"{kind}_generation"] if gateway else model[f"supports_{kind}_generation"]

    by_id = {m["id"]: m for m in everything["data"]}
    assert makes(by_id["dall-e-3"], "image") and not makes(by_id["dall-e-3"], "video")
    assert makes(by_id["minimax-video"], "video") and not makes(by_id["minimax-video"], "image")
    assert not makes(by_id["gpt-4o-mini"], "image") and not makes(by_id["gpt-4o-mini"], "video")
    assert all(isinstance(m["parameters"], str) for m in everything["data"])  # JSON text in a string
    assert {m["id"] for m in videos.json()["data"]} == {"local-video", "minimax-video"}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/media/../tasks.sqlite3",
        "/v1/media/%2e%2e/tasks.sqlite3",
        "/v1/media/task_00000000000000000000000000000000/..%2f..%2ftasks.sqlite3",
        "/v1/media/task_00000000000000000000000000000000/image-0.png",
        "/v1/media/not-a-task/image-0.png",
    ],
)
@pytest.mark.security("media paths outside a task's files are refused")
def test_media_paths_outside_a_tasks_files_are_404(conduit, path):
    response = httpx.get(conduit.base_url + path)
    # httpx folds "/media/../x" to "/v1/x", which then lacks a key (401); the rest reach the media route.
    assert response.status_code in (401, 404)
    assert b"SQLite" not in response.content


def test_health_needs_no_key_and_answers_in_plain_text(conduit):
    response = httpx.get(conduit.base_url + "/health")
    assert (response.status_code, response.text) == (200, "Healthy")
    assert response.headers["content-type"].startswith("text/plain")


def test_an_unmapped_route_is_an_empty_404_before_any_key_is_asked_for(conduit):
    assert (httpx.get(conduit.base_url + "/v2/nothing").status_code, httpx.get(conduit.base_url + "/").content) == (
        404,
        b"",
    )
    wrong_method = httpx.put(conduit.base_url + "/v1/models")
    assert (wrong_method.status_code, wrong_method.content) == (405, b"")
    assert "GET" in wrong_method.headers["Allow"]


@pytest.mark.parametrize("profile", ["conduit-2025.08", "conduit-gateway"])
def test_rate_limit_answers_429_with_retry_after_per_key(profile):
    with LocalConduit(speed=100, rate_limit_per_minute=2, profile=profile) as server, Api(server) as api:
        for _ in range(2):
            api.create("image")
        refused = api.post_create("image")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    if profile == "conduit-gateway":
        assert refused.json()["error"]["type"] == "rate_limit_error"
    else:  # ConduitLLM.Http's SecurityMiddleware
        assert refused.json() == {"error": "Rate limit exceeded for path /v1/images/generations/async", "code": 429}
        assert refused.headers["X-RateLimit-Scope"] == "general"


@pytest.mark.security("the key is in no log line or repr of the local server")
def test_the_key_never_appears_in_the_servers_logs_or_repr(caplog):
    caplog.set_level(logging.DEBUG)
    with LocalConduit(speed=100) as server, client(server) as http:
        assert server.api_key not in repr(server)
        assert server.api_key not in repr(server.config)
        http.post(f"/hubs/image-generation/negotiate?access_token={server.api_key}")
        wait_image(http, create_image(http, size="64x64"))
        http.get("/v1/images/generations/nope/status")
    # httpx, the test's own client, logs the URL it was given; only the server's loggers are in question.
    server_records = [r for r in caplog.records if r.name.startswith(("conduit_widget", "aiohttp"))]
    assert any(r.name == "aiohttp.access" and "/negotiate" in r.getMessage() for r in server_records)
    assert all(server.api_key not in r.getMessage() for r in server_records)


@pytest.mark.security("the local server binds to loopback unless told otherwise")
def test_it_binds_to_loopback_by_default():
    with LocalConduit() as server:
        assert server.base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("key", ["sk-123456789", "condt_", "condt_ has spaces"])
def test_a_key_that_is_not_a_conduit_virtual_key_is_refused_up_front(key):
    with pytest.raises(ValueError, match="virtual key"):
        LocalConduit(api_key=key)
