"""A server restarted on the same data dir answers for every earlier task; unfinished ones resume."""

from __future__ import annotations

import httpx

from conduit_widget.server import LocalConduit, generate_key
from tests.processes import free_port, kill, serve
from tests.server.helpers import client, create_image, create_video, wait_image, wait_video


def test_a_graceful_restart_keeps_finished_tasks_and_resumes_unfinished_ones(tmp_path):
    key = generate_key()
    with LocalConduit(speed=100, api_key=key, data_dir=tmp_path) as first, client(first) as http:
        done = create_image(http, size="64x64")
        image_before = wait_image(http, done)
        png_before = http.get(image_before["result"]["images"][0]["Url"]).content
        video = create_video(http)
        wait_video(http, video)
        failed = create_image(http, model="test-fail")
        wait_image(http, failed)
        cancelled = create_image(http, model="test-hang")
        http.delete(f"/v1/images/generations/{cancelled}")
        unfinished = create_image(http, model="test-slow", size="64x64")
        assert http.get(f"/v1/images/generations/{unfinished}/status").json()["status"] != "completed"

    with LocalConduit(speed=100, api_key=key, data_dir=tmp_path) as second, client(second) as http:
        image_after = http.get(f"/v1/images/generations/{done}/status").json()
        assert image_after["status"] == "completed"
        url_after = image_after["result"]["images"][0]["Url"]
        assert url_after.startswith(second.base_url)  # the new server's origin, not the old one's
        assert http.get(url_after).content == png_before
        assert http.get(f"/v1/videos/generations/tasks/{video}").json()["status"] == "completed"
        assert http.get(f"/v1/images/generations/{failed}/status").json()["status"] == "failed"
        assert http.get(f"/v1/images/generations/{cancelled}/status").json()["status"] == "cancelled"
        assert wait_image(http, unfinished)["status"] == "completed"


def test_a_killed_server_loses_nothing_completed_and_resumes_the_rest(tmp_path):
    key, port = generate_key(), free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    server = serve(port, key, tmp_path)
    try:
        with httpx.Client(base_url=base, headers=headers) as http:
            done = [create_image(http, size="64x64", prompt=f"fox {i}") for i in range(5)]
            for task_id in done:
                assert wait_image(http, task_id)["status"] == "completed"
            running = create_image(http, model="test-slow", size="64x64")
    finally:
        kill(server)
    server = serve(port, key, tmp_path)
    try:
        with httpx.Client(base_url=base, headers=headers) as http:
            for task_id in done:
                status = http.get(f"/v1/images/generations/{task_id}/status").json()
                assert status["status"] == "completed"
                assert http.get(status["result"]["images"][0]["Url"]).headers["content-type"] == "image/png"
            assert wait_image(http, running)["status"] == "completed"
    finally:
        server.terminate()
        server.wait()
