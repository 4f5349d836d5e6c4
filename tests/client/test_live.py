"""The client against the local Conduit in each event dialect and hub protocol: real tasks, end to end."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from conduit_widget import ConduitClient, TaskUpdate

PROTOCOLS = ["json", "messagepack"]


@pytest.mark.parametrize("hub_protocol", PROTOCOLS)
async def test_an_image_task_rises_monotonically_to_a_completed_result(dialect_server, hub_protocol):
    async with ConduitClient(dialect_server.base_url, dialect_server.api_key, hub_protocol=hub_protocol) as client:
        task = await client.generate_image("a fox in snow", size="96x64", n=2, model="test-slow")
        updates: list[TaskUpdate] = [update async for update in task]
        result = await task.wait(10)
        pictures = [Image.open(io.BytesIO(await client.rest.download(url))) for url in result.image_urls]

    assert result.ok
    assert result.status == "completed"
    assert len(result.image_urls) == 2
    progress = [u.progress for u in updates]
    assert progress == sorted(progress), "progress went backwards"
    assert progress[-1] == 100
    assert len(set(progress)) >= 5, "too few distinct progress values arrived"
    assert [u.done for u in updates].count(True) == 1
    assert any(u.source == "hub" for u in updates), "the hub said nothing: only polling worked"
    assert [p.size for p in pictures] == [(96, 64), (96, 64)]


@pytest.mark.parametrize("hub_protocol", PROTOCOLS)
async def test_a_video_task_completes_with_its_clip_and_poster(dialect_server, hub_protocol):
    async with ConduitClient(dialect_server.base_url, dialect_server.api_key, hub_protocol=hub_protocol) as client:
        task = await client.generate_video("waves at dusk", size="96x64", duration=1)
        result = await task.wait(20)
        assert result.ok
        assert result.video_url is not None
        assert result.video_url.endswith(".mp4")
        assert (await client.rest.download(result.video_url))[4:8] == b"ftyp"
        assert result.preview_url is not None
        assert (await client.rest.download(result.preview_url))[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kind", ["image", "video"])
async def test_a_failing_task_ends_failed_with_the_servers_reason(dialect_server, kind):
    async with ConduitClient(dialect_server.base_url, dialect_server.api_key) as client:
        create = client.generate_image if kind == "image" else client.generate_video
        task = await create("doomed", model="test-fail", size="64x64")
        result = await task.wait(10)
    assert result.status == "failed"
    assert not result.ok
    assert "test-fail" in (result.error or "")


@pytest.mark.parametrize("kind", ["image", "video"])
async def test_cancel_ends_the_task_cancelled_on_the_client_and_the_server(dialect_server, kind):
    async with ConduitClient(dialect_server.base_url, dialect_server.api_key) as client:
        create = client.generate_image if kind == "image" else client.generate_video
        task = await create("forever", model="test-hang", size="64x64")
        result = await task.cancel()
        assert result.status == "cancelled"
        status = await client.rest.status(kind, task.id)
    assert status["status"] == "cancelled"


async def test_following_a_task_created_elsewhere(dialect_server):
    async with ConduitClient(dialect_server.base_url, dialect_server.api_key) as first:
        created = await first.generate_image("made here", size="64x64", model="test-slow")
        async with ConduitClient(dialect_server.base_url, dialect_server.api_key) as second:
            followed = second.task(created.id, kind="image")
            result = await followed.wait(10)
    assert result.ok
    assert result.image_urls == (await created.wait(10)).image_urls


async def test_client_events_fire_for_progress_and_completion(dialect_server):
    seen: dict[str, int] = {"progress": 0, "completed": 0, "connected": 0}
    async with ConduitClient(dialect_server.base_url, dialect_server.api_key) as client:
        for name in seen:
            client.on(name, lambda value, name=name: seen.__setitem__(name, seen[name] + 1))
        task = await client.generate_image("events", size="64x64")
        await task.wait(10)
    assert seen["progress"] >= 5
    assert seen["completed"] == 1
    assert seen["connected"] <= 1  # a link another test already opened is shared, not reconnected


async def test_polling_transport_needs_no_hub(conduit):
    async with ConduitClient(conduit.base_url, conduit.api_key, transport="polling", poll_interval=0.05) as client:
        task = await client.generate_image("polled", size="64x64", model="test-slow")
        updates = [u async for u in task]
    assert updates[-1].status == "completed"
    assert {u.source for u in updates} <= {"poll", "client"}
    assert not client._links, "a polling client opened a hub connection"


async def test_a_gateway_with_successor_routes_is_detected():
    from conduit_widget.server import LocalConduit

    async with (
        LocalConduit(speed=100, routes="successor") as server,
        ConduitClient(server.base_url, server.api_key) as client,
    ):
        task = await client.generate_image("new routes", size="64x64")
        result = await task.wait(10)
        assert client.rest.routes == "successor"
    assert result.ok


async def test_the_client_finds_the_video_hubs_subscribe_method_by_itself():
    from conduit_widget.server import LocalConduit

    async with (
        LocalConduit(speed=100, events="seed") as server,
        ConduitClient(server.base_url, server.api_key, watchdog_interval=60) as client,
    ):
        task = await client.generate_video("seed hub", size="64x64", duration=1, model="test-slow")
        updates = [u async for u in task]
        assert client._links["video"]._subscribe_method == "SubscribeToRequest"
    assert updates[-1].status == "completed"
    assert sum(u.source == "hub" for u in updates) >= 3, "events did not come over the hub"
