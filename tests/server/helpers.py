"""Small helpers the server tests share: an httpx client per key, the profile's routes, waiting for a task to end."""

from __future__ import annotations

import time
from typing import Any

import httpx

from conduit_widget.protocol import Kind
from conduit_widget.server import LocalConduit
from conduit_widget.server.profiles import get_profile

TERMINAL = {"completed", "failed", "cancelled", "timedout"}
DEFAULTS: dict[Kind, dict[str, Any]] = {
    "image": {"prompt": "a fox", "model": "dall-e-3", "size": "64x64"},
    "video": {"prompt": "waves", "model": "minimax-video", "size": "128x96", "duration": 1},
}


def client(server: LocalConduit, key: str | None = None, **headers: str) -> httpx.Client:
    auth = {"Authorization": f"Bearer {key or server.api_key}"}
    return httpx.Client(base_url=server.base_url, headers={**auth, **headers}, timeout=10)


class Api:
    """The routes of the server's profile, over one client."""

    def __init__(self, server: LocalConduit, key: str | None = None) -> None:
        self.profile = get_profile(server.config.profile)
        self.http = client(server, key)

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def path(self, name: str, task_id: str = "") -> str:
        return self.profile.routes[name].format(task_id=task_id)

    def post_create(self, kind: Kind, body: Any = None, **members: Any) -> httpx.Response:
        return self.http.post(self.path(f"{kind}_create"), json={**DEFAULTS[kind], **members} if body is None else body)

    def create(self, kind: Kind, **members: Any) -> str:
        response = self.post_create(kind, **members)
        assert response.status_code == 202, response.text
        body = response.json()
        ids = {body[name] for name in ("task_id", "taskId", "request_id") if name in body}
        assert len(ids) == 1, body
        return ids.pop()

    def status(self, kind: Kind, task_id: str) -> httpx.Response:
        return self.http.get(self.path(f"{kind}_status", task_id))

    def cancel(self, kind: Kind, task_id: str) -> httpx.Response:
        return self.http.delete(self.path(f"{kind}_cancel", task_id))

    def wait(self, kind: Kind, task_id: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body: dict[str, Any] = self.status(kind, task_id).raise_for_status().json()
            if body["status"] in TERMINAL:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"{kind} task {task_id} still {body['status']} after {timeout} s")
            time.sleep(0.02)


# The default profile's routes, for tests that need no other.


def create_image(http: httpx.Client, **body: Any) -> str:
    response = http.post("/v1/images/generations/async", json={"prompt": "a fox", "model": "dall-e-3", **body})
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def create_video(http: httpx.Client, **body: Any) -> str:
    payload = {"prompt": "waves", "model": "minimax-video", "size": "128x96", "duration": 1, **body}
    response = http.post("/v1/videos/generations/async", json=payload)
    assert response.status_code == 202, response.text
    task_id: str = response.json()["taskId"]
    return task_id


def wait_image(http: httpx.Client, task_id: str, timeout: float = 20) -> dict[str, Any]:
    return _wait(http, f"/v1/images/generations/{task_id}/status", timeout)


def wait_video(http: httpx.Client, task_id: str, timeout: float = 30) -> dict[str, Any]:
    return _wait(http, f"/v1/videos/generations/tasks/{task_id}", timeout)


def _wait(http: httpx.Client, path: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = http.get(path).raise_for_status().json()
        if body["status"] in TERMINAL:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"task at {path} still {body['status']} after {timeout} s")
        time.sleep(0.02)
