"""LocalConduit as Python code starts it: on a running loop, in the background of one, in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time

import httpx
import pytest

from conduit_widget import LocalConduit
from tests.server.test_hub_pysignalr import connect, create


async def test_async_with_serves_on_the_running_loop_and_frees_the_port():
    async with LocalConduit(speed=100) as server, httpx.AsyncClient() as http:
        url = server.base_url
        assert (await http.get(url + "/health")).status_code == 200
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.TransportError):
            await http.get(url + "/health", timeout=1)


async def test_start_background_gives_a_url_at_once_and_requests_wait_for_the_server():
    server = LocalConduit(speed=100)
    starting = server.start_background()  # what a widget's constructor does: it cannot await
    url = server.base_url  # known before the server has started
    assert not starting.done()
    async with httpx.AsyncClient() as http:
        assert (await http.get(url + "/health")).status_code == 200
    await starting
    await server.stop()


def test_base_url_before_start_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not been started"):
        _ = LocalConduit().base_url


def test_repr_names_the_server_but_not_its_key():
    with LocalConduit(speed=100) as server:
        assert server.base_url in repr(server)
        assert server.api_key not in repr(server)


def test_drop_connections_route_needs_a_key_and_counts_what_it_cut(conduit):
    route = conduit.base_url + "/_local/drop-connections"
    assert httpx.post(route).status_code == 401
    response = httpx.post(route, headers={"Authorization": f"Bearer {conduit.api_key}"})
    assert response.status_code == 200
    assert response.json()["dropped"] >= 0


@pytest.mark.parametrize(
    ("profile", "expected", "absent"),
    [
        ("conduit-2025.08", "ImageGenerationCompleted", "TaskCompleted"),
        ("js-client-docs", "TaskCompleted", "ImageGenerationCompleted"),
    ],
)
async def test_a_profile_sends_only_its_own_servers_events(profile, expected, absent):
    async with LocalConduit(speed=100, profile=profile) as server, connect(server, "image", "json") as peer:
        task_id = await create(server, "image")
        await peer.invoke("SubscribeToTask", task_id)
        await asyncio.wait_for(peer.terminal_or_named(expected), 10)
        assert not peer.named(absent)


def test_injected_faults_answer_as_programmed_then_are_used_up(conduit):
    headers = {"Authorization": f"Bearer {conduit.api_key}"}
    conduit.inject_fault("/v1/models", status=503, headers={"Retry-After": "2"}, count=2)
    for _ in range(2):
        refused = httpx.get(conduit.base_url + "/v1/models", headers=headers)
        assert (refused.status_code, refused.headers["Retry-After"]) == (503, "2")
    assert httpx.get(conduit.base_url + "/v1/models", headers=headers).status_code == 200


def test_a_reset_after_fault_creates_the_task_but_never_answers(conduit):
    headers = {"Authorization": f"Bearer {conduit.api_key}"}
    conduit.inject_fault("/v1/images/generations/async", mode="reset_after", method="POST")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            conduit.base_url + "/v1/images/generations/async",
            json={"prompt": "a fox", "model": "dall-e-3"},
            headers=headers,
        )


@pytest.mark.parametrize("client_gives_up", [True, False], ids=["client-gave-up", "client-waiting"])
def test_a_hang_leaves_nothing_pending_when_the_server_stops(caplog, client_gives_up):
    """A request held by a hang ends with its client, or with the server: nothing is left to be destroyed
    pending when the thread's loop is collected ("Task was destroyed but it is pending!" at the end of a run)."""
    with LocalConduit(speed=100) as server:
        server.inject_fault("/v1/models", mode="hang")
        timeout = 0.3 if client_gives_up else 10
        url, key = server.base_url + "/v1/models", server.api_key
        held = threading.Thread(target=_get_quietly, args=(url, key, timeout))
        held.start()
        if client_gives_up:
            held.join(10)
        while not server.faults_taken():
            time.sleep(0.01)
    held.join(10)
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gc.collect()
    assert "destroyed but it is pending" not in caplog.text
    assert not held.is_alive()  # it gave up, or the server hung up on it


def _get_quietly(url: str, key: str, timeout: float) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout)


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("speed", "fast"),
        ("speed", 0),
        ("speed", float("nan")),
        ("speed", float("inf")),
        ("port", -1),
        ("port", "80"),
        ("port", 70000),
        ("port", True),
        ("host", 5),
        ("host", ""),
        ("keepalive_interval", -1),
        ("client_timeout", "x"),
        ("profile", "conduit-2026"),
        ("profile", None),
        ("rate_limit_per_minute", 0),
        ("rate_limit_per_minute", 1.5),
        ("data_dir", 5),
    ],
)
def test_a_wrong_setting_is_named_before_anything_starts(argument, value):
    name = "rate limit" if argument == "rate_limit_per_minute" else argument
    with pytest.raises(ValueError, match=name):
        LocalConduit(**{argument: value})
