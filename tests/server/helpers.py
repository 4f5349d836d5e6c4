"""Small helpers the server tests share: an httpx client per key, and waiting for a task to end."""

from __future__ import annotations

import time
from typing import Any

import httpx

from conduit_widget.server import LocalConduit

TERMINAL = {"completed", "failed", "cancelled", "timedout"}


def client(server: LocalConduit, key: str | None = None, **headers: str) -> httpx.Client:
    auth = {"Authorization": f"Bearer {key or server.api_key}"}
    return httpx.Client(base_url=server.base_url, headers={**auth, **headers}, timeout=10)


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
