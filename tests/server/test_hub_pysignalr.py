"""The hubs, driven by pysignalr (the SignalR client the kernel side uses), in both hub protocols."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pysignalr.client import SignalRClient
from pysignalr.exceptions import AuthorizationError
from pysignalr.messages import CompletionMessage
from pysignalr.protocol.json import JSONProtocol
from pysignalr.protocol.messagepack import MessagepackProtocol

from conduit_widget import protocol
from conduit_widget.server import LocalConduit

PROTOCOLS = {"json": JSONProtocol, "messagepack": MessagepackProtocol}
EVENTS = [
    protocol.IMAGE_PROGRESS,
    protocol.IMAGE_COMPLETED,
    protocol.IMAGE_FAILED,
    protocol.VIDEO_STARTED,
    protocol.VIDEO_PROGRESS,
    protocol.VIDEO_COMPLETED,
    protocol.VIDEO_FAILED,
    protocol.SEED_TASK_PROGRESS,
    protocol.SEED_TASK_COMPLETED,
    protocol.SEED_TASK_FAILED,
    protocol.SEED_REQUEST_PROGRESS,
    protocol.SEED_REQUEST_COMPLETED,
    protocol.SEED_REQUEST_FAILED,
]
SEED_TERMINAL_EVENTS = {
    protocol.SEED_TASK_COMPLETED,
    protocol.SEED_TASK_FAILED,
    protocol.SEED_REQUEST_COMPLETED,
    protocol.SEED_REQUEST_FAILED,
}
TERMINAL_EVENTS = {
    protocol.IMAGE_COMPLETED,
    protocol.IMAGE_FAILED,
    protocol.VIDEO_COMPLETED,
    protocol.VIDEO_FAILED,
}


class Peer:
    """A pysignalr client that records every event and can invoke and wait for the completion."""

    def __init__(self, client: SignalRClient) -> None:
        self.client = client
        self.events: list[tuple[str, list[Any]]] = []
        self.terminal = asyncio.Event()
        self.opened = asyncio.Event()
        self.first_event = asyncio.Event()

    async def invoke(self, method: str, *args: Any) -> CompletionMessage:
        done: asyncio.Future[CompletionMessage] = asyncio.get_running_loop().create_future()

        async def on_completion(message: CompletionMessage) -> None:
            done.set_result(message)

        await self.client.send(method, list(args), on_invocation=on_completion)
        return await asyncio.wait_for(done, 5)

    def named(self, target: str) -> list[list[Any]]:
        return [args for name, args in self.events if name == target]

    async def terminal_or_named(self, target: str) -> None:
        """Until the task ends (either dialect's last event) or `target` arrives."""
        while not self.named(target) and not self.terminal.is_set():
            await asyncio.wait_for(self.first_event.wait(), 10)
            self.first_event.clear()


@contextlib.asynccontextmanager
async def connect(server: LocalConduit, kind: str, proto: str, key: str | None = None) -> AsyncIterator[Peer]:
    client = SignalRClient(
        server.base_url + protocol.HUB_PATHS[kind],  # type: ignore[index]
        protocol=PROTOCOLS[proto](),
        headers={"Authorization": f"Bearer {key or server.api_key}"},
    )
    peer = Peer(client)

    async def on_open() -> None:
        peer.opened.set()

    async def on_error(message: CompletionMessage) -> None:
        pass  # errors are read from the completion each test waits for

    client.on_open(on_open)
    client.on_error(on_error)
    for name in EVENTS:

        async def record(args: list[Any], name: str = name) -> None:
            peer.events.append((name, args))
            peer.first_event.set()
            if name in TERMINAL_EVENTS or name in SEED_TERMINAL_EVENTS:
                peer.terminal.set()

        client.on(name, record)
    runner = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(peer.opened.wait(), 5)
        yield peer
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


async def create(server: LocalConduit, kind: str, key: str | None = None, **body: Any) -> str:
    headers = {"Authorization": f"Bearer {key or server.api_key}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
        if kind == "image":
            payload = {"prompt": "a fox in snow", "model": "dall-e-3", "size": "96x64", **body}
            response = await http.post(protocol.IMAGE_CREATE, json=payload)
            return str(response.raise_for_status().json()["task_id"])
        payload = {"prompt": "waves", "model": "minimax-video", "size": "96x64", "duration": 1, **body}
        response = await http.post(protocol.VIDEO_CREATE, json=payload)
        answer = response.raise_for_status().json()
        return str(answer.get("taskId") or answer["request_id"])  # the JS client docs name it request_id


@pytest.mark.parametrize("proto", ["json", "messagepack"])
async def test_image_progress_then_completion_in_both_dialects(conduit, proto):
    async with connect(conduit, "image", proto) as peer:
        task_id = await create(conduit, "image", n=2)
        completion = await peer.invoke(protocol.SUBSCRIBE, task_id)
        assert completion.error is None
        await asyncio.wait_for(peer.terminal.wait(), 10)
        await asyncio.sleep(0.05)  # the seed event follows the conduit one in the same frame

        progress = [args[0] for args in peer.named(protocol.IMAGE_PROGRESS)]
        assert len(progress) >= 10
        assert all(p["taskId"] == task_id for p in progress)
        percents = [p["progressPercentage"] for p in progress]
        assert percents == sorted(percents)
        assert max(percents) < 100
        assert {p["status"] for p in progress} == {"processing", "storing"}
        assert progress[-1]["imagesCompleted"] == progress[-1]["totalImages"] == 2
        assert all(p["message"] for p in progress)

        (done,) = [args[0] for args in peer.named(protocol.IMAGE_COMPLETED)]
        assert set(done) == {"taskId", "imageUrls", "durationSeconds", "cost", "completedAt"}
        assert len(done["imageUrls"]) == 2

        seed_progress = peer.named(protocol.SEED_TASK_PROGRESS)
        assert [args[0] for args in seed_progress] == [task_id] * len(seed_progress)
        assert [args[1] for args in seed_progress] == percents
        ((seed_id, seed_result),) = peer.named(protocol.SEED_TASK_COMPLETED)
        assert seed_id == task_id
        assert seed_result["image_url"] == done["imageUrls"][0]
        assert "model" in seed_result["metadata"]


@pytest.mark.parametrize("proto", ["json", "messagepack"])
async def test_video_started_progress_completion(conduit, proto):
    async with connect(conduit, "video", proto) as peer:
        task_id = await create(conduit, "video")
        assert (await peer.invoke(protocol.SUBSCRIBE, task_id)).error is None
        await asyncio.wait_for(peer.terminal.wait(), 20)
        await asyncio.sleep(0.05)
        progress = [args[0] for args in peer.named(protocol.VIDEO_PROGRESS)]
        assert {"initializing", "processing_frames", "encoding", "finalizing"} <= {p["status"] for p in progress}
        assert progress[-1]["framesCompleted"] == progress[-1]["totalFrames"] == 24
        (done,) = [args[0] for args in peer.named(protocol.VIDEO_COMPLETED)]
        assert done["videoUrl"].endswith(".mp4")
        assert done["previewUrl"].endswith(".png")
        assert done["duration"] == pytest.approx(1.0)
        ((_, seed_result),) = peer.named(protocol.SEED_REQUEST_COMPLETED)
        assert seed_result["video_url"] == done["videoUrl"]


async def test_the_seeds_subscribe_to_request_works_on_the_video_hub(conduit):
    async with connect(conduit, "video", "json") as peer:
        task_id = await create(conduit, "video")
        assert (await peer.invoke(protocol.SEED_SUBSCRIBE_VIDEO, task_id)).error is None
        await asyncio.wait_for(peer.terminal.wait(), 20)
        await asyncio.sleep(0.05)
        assert peer.named(protocol.SEED_REQUEST_PROGRESS)
        assert peer.named(protocol.SEED_REQUEST_COMPLETED)


@pytest.mark.parametrize("proto", ["json", "messagepack"])
async def test_a_failing_task_reports_a_retryable_failure(conduit, proto):
    async with connect(conduit, "image", proto) as peer:
        task_id = await create(conduit, "image", model="test-fail")
        await peer.invoke(protocol.SUBSCRIBE, task_id)
        await asyncio.wait_for(peer.terminal.wait(), 10)
        await asyncio.sleep(0.05)
        (failed,) = [args[0] for args in peer.named(protocol.IMAGE_FAILED)]
        assert failed["isRetryable"] is True
        assert "test-fail" in failed["error"]
        assert peer.named(protocol.SEED_TASK_FAILED) == [[task_id, failed["error"]]]


@pytest.mark.parametrize("proto", ["json", "messagepack"])
@pytest.mark.security("another key's tasks are refused (hub)")
async def test_another_keys_task_is_unauthorized_and_sends_nothing(conduit, other_key, proto):
    theirs = await create(conduit, "image", key=other_key)
    async with connect(conduit, "image", proto) as peer:
        completion = await peer.invoke(protocol.SUBSCRIBE, theirs)
        assert completion.error == (
            "An unexpected error occurred invoking 'SubscribeToTask' on the server. "
            "HubException: Unauthorized access to task"
        )
        mine = await create(conduit, "image")
        assert (await peer.invoke(protocol.SUBSCRIBE, mine)).error is None  # still usable
        await asyncio.wait_for(peer.terminal.wait(), 10)
        assert {args[0]["taskId"] for args in peer.named(protocol.IMAGE_PROGRESS)} == {mine}


async def test_an_image_task_followed_on_the_video_hub_says_nothing_there(conduit):
    # No version checks a task's kind on subscribe; its events go to the hub of its own kind.
    task_id = await create(conduit, "image")
    async with connect(conduit, "video", "json") as peer:
        assert (await peer.invoke(protocol.SUBSCRIBE, task_id)).error is None
        await asyncio.sleep(0.5)
        assert not peer.events


async def test_unsubscribe_stops_the_events(conduit):
    async with connect(conduit, "image", "json") as peer:
        task_id = await create(conduit, "image", model="test-slow")
        await peer.invoke(protocol.SUBSCRIBE, task_id)
        await asyncio.wait_for(peer.first_event.wait(), 5)
        await peer.invoke(protocol.UNSUBSCRIBE, task_id)
        seen = len(peer.events)
        await asyncio.sleep(0.5)  # test-slow keeps emitting for seconds
        assert len(peer.events) == seen


@pytest.mark.security("a missing or wrong key is refused (hub)")
@pytest.mark.parametrize("headers", [{"Authorization": "Bearer condt_wrongwrongwrong"}, {}], ids=["wrong", "missing"])
async def test_a_bad_key_is_refused_at_negotiate(conduit, headers):
    client = SignalRClient(conduit.base_url + "/hubs/image-generation", headers=headers)
    client.on_error(lambda message: asyncio.sleep(0))
    with pytest.raises(AuthorizationError):
        await asyncio.wait_for(client.run(), 5)


async def test_dropping_connections_cuts_every_live_hub_connection(conduit):
    async with connect(conduit, "image", "json") as peer:
        closed = asyncio.Event()

        async def on_close() -> None:
            closed.set()

        peer.client.on_close(on_close)
        assert conduit.drop_connections() >= 1
        await asyncio.wait_for(closed.wait(), 5)


async def test_the_js_client_docs_video_hub_knows_only_the_docs_method_names():
    async with LocalConduit(speed=100, profile="js-client-docs") as server, connect(server, "video", "json") as peer:
        task_id = await create(server, "video")
        assert "Method does not exist" in (await peer.invoke(protocol.SUBSCRIBE, task_id)).error
        assert (await peer.invoke(protocol.SEED_SUBSCRIBE_VIDEO, task_id)).error is None
