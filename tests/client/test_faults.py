"""The client when things go wrong: killed servers, cut connections, refusals, silence.

Every scenario ends with each task in a terminal state, reached once.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import socket
from collections import Counter

import httpx
import pytest

from conduit_widget import (
    AuthError,
    Backoff,
    ConduitClient,
    DeadlineExceededError,
    InsufficientBalanceError,
    NetworkError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from conduit_widget.client.dialects import parse_status
from conduit_widget.server import LocalConduit, generate_key
from conduit_widget.server.app import CONTEXT, FAULTS
from tests.conftest import route
from tests.processes import free_port, kill, serve

FAST = {"backoff": Backoff(initial=0.05, maximum=0.5), "poll_interval": 0.2, "connect_timeout": 1.0}


def terminal_counter(client: ConduitClient) -> Counter[str]:
    seen: Counter[str] = Counter()
    for name in ("completed", "failed", "cancelled", "timedout"):
        client.on(name, lambda result: seen.update([result.task_id]))
    return seen


async def test_a_server_killed_mid_task_and_restarted_on_its_data_dir(tmp_path):
    key, port = generate_key(), free_port()
    server = serve(port, key, tmp_path)
    try:
        async with ConduitClient(f"http://127.0.0.1:{port}", key, **FAST) as client:
            ends = terminal_counter(client)
            tasks = [await client.generate_image(f"fox {i}", size="64x64", model="test-slow") for i in range(5)]
            tasks.append(await client.generate_video("waves", size="64x64", duration=1, model="test-slow"))
            await asyncio.sleep(0.2)
            assert not all(t.done for t in tasks), "the tasks finished before the kill: nothing was tested"
            kill(server)
            await asyncio.sleep(1.0)
            server = serve(port, key, tmp_path)
            results = [await t.wait(30) for t in tasks]
    finally:
        kill(server)
    assert [r.status for r in results] == ["completed"] * 6
    assert ends == Counter({t.id: 1 for t in tasks}), "a task ended twice, or never"


async def test_twenty_cuts_in_a_row_leave_the_client_connected():
    async with LocalConduit(speed=100) as server, ConduitClient(server.base_url, server.api_key, **FAST) as client:
        reconnected = asyncio.Event()
        count = Counter()

        def on_reconnected(event):
            count["reconnected"] += 1
            reconnected.set()

        client.on("reconnected", on_reconnected)
        client.on("disconnected", lambda event: count.update(["disconnected"]))
        first = await client.generate_image("warm-up", size="64x64")
        await first.wait(10)
        for _ in range(20):
            reconnected.clear()
            assert server.drop_connections() == 1
            await asyncio.wait_for(reconnected.wait(), 10)
        task = await client.generate_image("after twenty cuts", size="64x64", model="test-slow")
        updates = [u async for u in task]
        assert client.stats()["links"]["image"]["state"] == "connected"
    assert count == Counter({"reconnected": 20})
    assert updates[-1].status == "completed"
    assert any(u.source == "hub" for u in updates)


async def test_cuts_during_a_task_lose_nothing():
    async with LocalConduit(speed=20) as server, ConduitClient(server.base_url, server.api_key, **FAST) as client:
        ends = terminal_counter(client)
        tasks = [await client.generate_image(f"cat {i}", size="64x64") for i in range(10)]
        for _ in range(5):
            await asyncio.sleep(0.1)
            server.drop_connections()
        results = [await t.wait(20) for t in tasks]
    assert {r.status for r in results} == {"completed"}
    assert set(ends.values()) == {1}
    assert len(ends) == 10


async def test_a_server_down_at_start_is_waited_for(tmp_path):
    key, port = generate_key(), free_port()
    url = f"http://127.0.0.1:{port}"
    server = serve(port, key, tmp_path)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
        created = await http.post(
            url + "/v1/images/generations/async", json={"prompt": "x", "model": "test-slow", "size": "64x64"}
        )
    kill(server)
    try:
        async with ConduitClient(url, key, **FAST) as client:
            reconnecting = asyncio.Event()
            client.on("reconnecting", lambda event: reconnecting.set())
            task = client.task(created.json()["task_id"])
            await asyncio.wait_for(reconnecting.wait(), 5)
            assert not task.done
            server = serve(port, key, tmp_path)
            result = await task.wait(30)
            assert client.stats()["links"]["image"]["state"] == "connected"
    finally:
        kill(server)
    assert result.ok


async def test_a_create_sent_while_the_server_is_still_starting_goes_through(tmp_path):
    key, port = generate_key(), free_port()
    processes = []

    async def start_later():
        await asyncio.sleep(0.6)
        processes.append(await asyncio.to_thread(serve, port, key, tmp_path))

    starter = asyncio.create_task(start_later())
    try:
        async with ConduitClient(f"http://127.0.0.1:{port}", key, **FAST) as client:
            task = await client.generate_image("patient", size="64x64")  # refused at first: safe to retry
            result = await task.wait(20)
    finally:
        await starter
        for process in processes:
            kill(process)
    assert result.ok


async def test_a_task_that_finished_before_anyone_subscribed_still_completes(conduit):
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {conduit.api_key}"}) as http:
        created = await http.post(
            conduit.base_url + route(conduit, "image_create"),
            json={"prompt": "quick", "model": "dall-e-3", "size": "64x64"},
        )
        task_id = created.json()["task_id"]
        while (await http.get(conduit.base_url + route(conduit, "image_status", task_id))).json()[
            "status"
        ] != "completed":
            await asyncio.sleep(0.02)
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        result = await client.task(task_id).wait(10)
    assert result.ok
    assert len(result.image_urls) == 1


async def test_a_wrong_key_is_an_auth_error_that_says_so(conduit):
    async with ConduitClient(conduit.base_url, "condt_not_the_right_key") as client:
        with pytest.raises(AuthError) as caught:
            await client.generate_image("nope")
    assert caught.value.status == 401
    assert "401" in str(caught.value)
    assert "key" in str(caught.value)


async def test_402_is_insufficient_balance_with_the_servers_message(conduit):
    conduit.inject_fault(
        route(conduit, "image_create"),
        status=402,
        body={"error": "Insufficient balance", "message": "Balance is 0.00; top up to continue", "statusCode": 402},
    )
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        with pytest.raises(InsufficientBalanceError, match="top up to continue"):
            await client.generate_image("costly")


async def test_an_unknown_task_is_not_found_and_ends_failed(conduit):
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.rest.status("image", "00000000-0000-0000-0000-000000000000")
        assert caught.value.status == 404
        result = await client.task("00000000-0000-0000-0000-000000000000").wait(5)
    assert result.status == "failed"
    assert "404" in (result.error or "")


async def test_429_with_retry_after_is_waited_out_then_the_create_goes_through(conduit):
    conduit.inject_fault(route(conduit, "image_create"), status=429, headers={"Retry-After": "1"}, method="POST")
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        started = asyncio.get_running_loop().time()
        task = await client.generate_image("rate limited once", size="64x64")
        waited = asyncio.get_running_loop().time() - started
        assert (await task.wait(10)).ok
    assert waited >= 1.0


async def test_429_asking_for_too_long_raises_rate_limit_error_with_retry_after(conduit):
    conduit.inject_fault(route(conduit, "image_create"), status=429, headers={"Retry-After": "120"}, method="POST")
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.generate_image("rate limited for long")
    assert caught.value.retry_after == 120
    assert "retry after 120 s" in str(caught.value)


def _task_count(server: LocalConduit) -> int:
    return len(server._runner.app[CONTEXT].store._records)


async def test_a_500_on_create_is_a_server_error_and_is_not_sent_twice(conduit):
    faults = conduit._runner.app[FAULTS].faults
    body = {"error": {"message": "provider exploded", "type": "server_error", "param": None, "code": "internal_error"}}
    conduit.inject_fault(route(conduit, "image_create"), status=500, body=body, method="POST", count=5)
    try:
        async with ConduitClient(conduit.base_url, conduit.api_key) as client:
            with pytest.raises(ServerError, match="provider exploded"):
                await client.generate_image("boom")
        assert [f.count for f in faults] == [4], "the client sent the create more than once"
    finally:
        faults.clear()


async def test_a_create_that_reached_the_server_is_not_repeated_after_a_reset(conduit):
    before = _task_count(conduit)
    conduit.inject_fault(route(conduit, "image_create"), mode="reset_after", method="POST")
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        with pytest.raises(NetworkError, match="not sent again"):
            await client.generate_image("once only", size="64x64")
    assert _task_count(conduit) == before + 1


async def test_a_status_500_is_retried_and_then_reported(conduit):
    async with ConduitClient(conduit.base_url, conduit.api_key, max_retries=2) as client:
        conduit.inject_fault(route(conduit, "image_cancel"), status=503, method="GET", count=3)
        with pytest.raises(ServerError, match="503"):
            await client.rest.status("image", "00000000-0000-0000-0000-000000000000")


async def test_a_hung_server_gives_a_timeout_error_naming_what_it_waited_for():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts connections, never answers
    try:
        port = listener.getsockname()[1]
        async with ConduitClient(
            f"http://127.0.0.1:{port}", "condt_hung_server_key", timeout=0.5, max_retries=1
        ) as client:
            with pytest.raises(DeadlineExceededError, match="no answer") as caught:
                await client.generate_image("into the void")
            assert isinstance(caught.value, builtins.TimeoutError)
            with pytest.raises(DeadlineExceededError, match="status"):
                await client.rest.status("image", "some-task")
    finally:
        listener.close()


async def test_wait_timeout_names_the_task_and_cancels_nothing(conduit):
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        task = await client.generate_image("slow", model="test-hang", size="64x64")
        with pytest.raises(DeadlineExceededError, match=task.id) as caught:
            await task.wait(0.2)
        assert caught.value.task_id == task.id
        assert "not cancelled" in str(caught.value)
        assert (await client.rest.status("image", task.id))["status"] != "cancelled"
        await task.cancel()


async def test_the_watchdog_polls_a_task_the_hub_has_gone_quiet_about(conduit):
    async with ConduitClient(conduit.base_url, conduit.api_key, watchdog_interval=0.3) as client:
        task = await client.generate_image("lost events", size="64x64", model="test-slow")
        client._follower.links["image"].unsubscribe(
            task.id, client._follower.receive
        )  # as if every hub event were lost
        result = await task.wait(15)
    assert result.ok
    assert task.update.source == "poll"


async def test_retry_failed_makes_a_retryable_failure_again_then_gives_up(conduit):
    async with ConduitClient(conduit.base_url, conduit.api_key, retry_failed=2) as client:
        image = await client.generate_image("keeps failing", model="test-fail", size="64x64")
        video = await client.generate_video("keeps failing", model="test-fail", size="64x64", duration=1)
        image_result, video_result = await image.wait(20), await video.wait(20)
    assert image_result.status == video_result.status == "failed"
    if conduit.config.profile == "js-client-docs":
        # Its TaskFailed(taskId, error) and the image status route say nothing of a retry: none is made.
        assert image.attempts == [image.id]
    else:
        assert len(image.attempts) == 3, "an image retry is a new task on the server"
        assert len(set(image.attempts)) == 3
        assert image_result.task_id == image.attempts[-1]
    assert video.attempts == [video.id], "a video retry reuses its task id"
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        final = parse_status(await client.rest.status("video", video.id), "video")
    assert final is not None and (final.status, final.video_url) == ("failed", None)


async def test_a_total_timeout_bounds_a_call_and_its_retries(conduit):
    conduit.inject_fault(
        route(conduit, "image_cancel"), status=503, headers={"Retry-After": "5"}, method="GET", count=3
    )
    try:
        async with ConduitClient(conduit.base_url, conduit.api_key, total_timeout=1.0) as client:
            started = asyncio.get_running_loop().time()
            with pytest.raises(DeadlineExceededError, match="retries included"):
                await client.rest.status("image", "00000000-0000-0000-0000-000000000000")
            assert asyncio.get_running_loop().time() - started < 2.0
    finally:
        conduit._runner.app[FAULTS].faults.clear()


async def test_after_giving_up_on_the_hub_the_client_says_so_and_polls_to_the_end(tmp_path):
    key, port = generate_key(), free_port()
    server = serve(port, key, tmp_path)
    try:
        async with ConduitClient(f"http://127.0.0.1:{port}", key, max_reconnect_attempts=2, **FAST) as client:
            gave_up = asyncio.Event()
            client.on("disconnected", lambda event: gave_up.set())
            task = await client.generate_image("outlives the hub", size="64x64", model="test-slow")
            kill(server)
            await asyncio.wait_for(gave_up.wait(), 15)
            assert client.connection_state("image") == "disconnected"
            server = serve(port, key, tmp_path)
            result = await task.wait(30)
            assert client.connection_state("image") == "disconnected", "it reconnected after saying it gave up"
    finally:
        kill(server)
    assert result.ok
    assert task.update.source == "poll"


async def test_a_hub_refusing_the_key_is_one_auth_error_event(conduit):
    errors: list[Exception] = []
    async with ConduitClient(conduit.base_url, "condt_wrong_key_for_hub", **FAST) as client:
        client.on("error", errors.append)
        client._follower._link("image")
        for _ in range(100):
            if errors:
                break
            await asyncio.sleep(0.05)
        assert client.connection_state("image") == "disconnected"
    assert len(errors) == 1
    assert isinstance(errors[0], AuthError)
    assert "401" in str(errors[0])


async def test_a_create_that_waited_too_long_for_a_free_connection_is_sent_again(conduit):
    """httpx's PoolTimeout means the request never left this process: a create is safe to send again. The pool
    is real (one connection), held by a status read the server never answers."""
    from conduit_widget.client.policies import RetryPolicy
    from conduit_widget.client.rest import RestClient
    from conduit_widget.client.secret import Secret

    before = _task_count(conduit)
    rest = RestClient(
        conduit.base_url,
        Secret(conduit.api_key),
        timeout=httpx.Timeout(1.0, pool=0.2),
        retry=RetryPolicy(max_retries=6),
        transport=httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=1)),
    )
    try:
        conduit.inject_fault(route(conduit, "image_cancel"), mode="hang", method="GET")
        holder = asyncio.ensure_future(rest.status("image", "00000000-0000-0000-0000-000000000000"))
        await asyncio.sleep(0.1)  # the read now holds the only connection, for its 1 s read timeout
        created = await rest.create("image", {"prompt": "waited", "model": "dall-e-3", "size": "64x64"})
        holder.cancel()
        with contextlib.suppress(BaseException):
            await holder  # its read timed out, then found no such task: not what this test is about
    finally:
        await rest.aclose()
    assert created
    assert _task_count(conduit) == before + 1
