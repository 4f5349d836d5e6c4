"""`RestClient` on httpx.MockTransport: retries, what is never sent twice, error shapes, routes, downloads.

The server here is a function: each test says exactly what it answers, and counts what it was asked. The same
client against the local Conduit, and against proxies that cut and stall, is in test_faults.py and tests/faults/.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable

import httpx
import pytest

from conduit_widget.client.errors import (
    ConduitError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from conduit_widget.client.policies import Backoff, RetryPolicy
from conduit_widget.client.rest import RestClient
from conduit_widget.client.secret import Secret

KEY = "condt_resttestkey0123456789"
BASE = "https://conduit.example"
FAST = RetryPolicy(max_retries=3, backoff=Backoff(initial=0.001, maximum=0.002))
Handler = Callable[[httpx.Request], httpx.Response]


def rest(handler: Handler, **options: object) -> tuple[RestClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = RestClient(BASE, Secret(KEY), retry=FAST, transport=httpx.MockTransport(answer), **options)  # type: ignore[arg-type]
    return client, seen


def openai_error(status: int, message: str, **headers: str) -> httpx.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
    return httpx.Response(status, json=body, headers=headers)


async def test_a_status_read_answered_503_is_read_again() -> None:
    answers = iter([openai_error(503, "busy", **{"Retry-After": "0"}), httpx.Response(200, json={"status": "pending"})])
    client, seen = rest(lambda _: next(answers), routes="conduit")
    assert await client.status("image", "t1") == {"status": "pending"}
    assert [r.url.path for r in seen] == ["/v1/images/generations/t1/status"] * 2
    await client.aclose()


async def test_a_create_answered_500_is_not_sent_again_it_may_have_been_made() -> None:
    client, seen = rest(lambda _: openai_error(500, "boom"), routes="conduit")
    with pytest.raises(ServerError, match="boom"):
        await client.create("image", {"prompt": "p", "model": "m"})
    assert len(seen) == 1
    await client.aclose()


async def test_a_create_refused_with_429_is_sent_again_after_the_wait_asked_for() -> None:
    answers = iter([openai_error(429, "slow down", **{"Retry-After": "0"}), httpx.Response(200, json={"task_id": "t"})])
    client, seen = rest(lambda _: next(answers), routes="conduit")
    assert await client.create("image", {"prompt": "p", "model": "m"}) == {"task_id": "t"}
    assert len(seen) == 2 and json.loads(seen[0].content) == json.loads(seen[1].content)
    await client.aclose()


async def test_rate_limits_past_the_retries_are_a_rate_limit_error_with_its_wait() -> None:
    client, seen = rest(lambda _: openai_error(429, "slow down", **{"Retry-After": "0"}), routes="conduit")
    with pytest.raises(RateLimitError) as info:
        await client.status("video", "v1")
    assert info.value.retry_after == 0 and len(seen) == 1 + FAST.max_retries
    await client.aclose()


async def test_errors_are_typed_with_the_servers_message_and_no_key() -> None:
    client, _ = rest(lambda _: openai_error(403, f"key {KEY} may not see this"), routes="conduit")
    with pytest.raises(ForbiddenError) as info:
        await client.status("image", "t1")
    assert isinstance(info.value, builtins.PermissionError)
    assert "may not see this" in str(info.value) and KEY not in str(info.value)
    await client.aclose()


async def test_the_key_goes_in_the_authorization_header_and_nowhere_else() -> None:
    client, seen = rest(lambda _: httpx.Response(200, json={"task_id": "t"}), routes="conduit")
    await client.create("video", {"prompt": "p", "model": "m"})
    [request] = seen
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in str(request.url) and KEY.encode() not in request.content
    await client.aclose()


async def test_an_empty_404_finds_the_gateways_routes_and_a_task_404_does_not() -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/conduit/"):
            return httpx.Response(200, json={"status": "pending"})
        return httpx.Response(404)  # a route ASP.NET does not have: no body at all

    client, seen = rest(gateway)
    assert await client.status("image", "t1") == {"status": "pending"}
    assert client.routes == "successor"
    assert [r.url.path for r in seen] == [
        "/v1/images/generations/t1/status",
        "/v1/conduit/images/generations/t1/status",
    ]
    await client.aclose()

    client, seen = rest(lambda _: openai_error(404, "Task not found"))
    with pytest.raises(NotFoundError, match="Task not found"):
        await client.status("image", "t1")
    assert client.routes == "conduit" and len(seen) == 1
    await client.aclose()


async def test_a_task_id_is_one_path_segment_whatever_it_holds() -> None:
    client, seen = rest(lambda _: httpx.Response(200, json={}), routes="conduit")
    await client.status("video", "../../v1/models?x=#y")
    assert seen[0].url.raw_path.startswith(b"/v1/videos/generations/tasks/")
    assert seen[0].url.raw_path.count(b"/") == 5 and seen[0].url.query == b""
    await client.aclose()


async def test_media_elsewhere_are_fetched_without_the_key() -> None:
    client, seen = rest(lambda _: httpx.Response(200, content=b"png"), routes="conduit")
    client._plain = httpx.AsyncClient(transport=client._http._transport)  # the same mock, as a storage host
    assert await client.download("https://storage.example/m.png") == b"png"
    assert await client.download(BASE + "/v1/media/m.png") == b"png"
    assert "Authorization" not in seen[0].headers and seen[1].headers["Authorization"] == f"Bearer {KEY}"
    await client.aclose()


@pytest.mark.parametrize("declared", [True, False])
async def test_a_download_larger_than_a_result_may_be_is_refused_not_read_whole(declared: bool) -> None:
    limit = 8 << 20  # the rule, at a size a test can afford (the default is MAX_DOWNLOAD_BYTES)
    sent: list[int] = []

    async def endless() -> object:
        chunk = b"\0" * (1 << 20)
        while True:
            sent.append(len(chunk))
            yield chunk

    def answer(_: httpx.Request) -> httpx.Response:
        headers = {"Content-Length": str(limit + 1)} if declared else {}
        return httpx.Response(200, headers=headers, content=endless())  # type: ignore[arg-type]

    client, _ = rest(answer, routes="conduit")
    with pytest.raises(ConduitError, match="MiB"):
        await client.download(BASE + "/v1/media/huge.mp4", limit=limit)
    assert sum(sent) <= limit + 2 * (1 << 20)  # stopped at the limit, not at the end
    if declared:
        assert sum(sent) <= 1 << 20  # refused on the header, before reading
    await client.aclose()
