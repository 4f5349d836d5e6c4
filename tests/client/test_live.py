"""The client against the local Conduit as each real server it plays, in each hub protocol: real tasks, end to end,
without being told which server it talks to."""

from __future__ import annotations

import asyncio
import io
import time
import warnings

import httpx
import pytest
from PIL import Image

from conduit_widget import ConduitClient, TaskUpdate
from conduit_widget.client import ConduitWarning
from conduit_widget.server import LocalConduit
from conduit_widget.server.profiles import get_profile
from tests.conftest import distinct_steps

PROTOCOLS = ["json", "messagepack"]


@pytest.mark.parametrize("hub_protocol", PROTOCOLS)
async def test_an_image_task_rises_monotonically_to_a_completed_result(conduit, hub_protocol):
    async with ConduitClient(conduit.base_url, conduit.api_key, hub_protocol=hub_protocol) as client:
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
    assert len(set(progress)) >= distinct_steps(conduit, images=2), "too few distinct progress values arrived"
    assert [u.done for u in updates].count(True) == 1
    assert any(u.source == "hub" for u in updates), "the hub said nothing: only polling worked"
    assert [p.size for p in pictures] == [(96, 64), (96, 64)]


@pytest.mark.parametrize("hub_protocol", PROTOCOLS)
async def test_a_video_task_completes_with_its_clip_and_poster(conduit, hub_protocol):
    async with ConduitClient(conduit.base_url, conduit.api_key, hub_protocol=hub_protocol) as client:
        task = await client.generate_video("waves at dusk", size="96x64", duration=1)
        result = await task.wait(20)
        assert result.ok
        assert result.video_url is not None
        assert result.video_url.endswith(".mp4")
        assert (await client.rest.download(result.video_url))[4:8] == b"ftyp"
        if get_profile(conduit.config.profile).video_details:
            assert result.preview_url is not None
            assert (await client.rest.download(result.preview_url))[:8] == b"\x89PNG\r\n\x1a\n"
        else:  # 7c3fd76a's orchestrator never fills in a preview
            assert result.preview_url is None


@pytest.mark.parametrize("kind", ["image", "video"])
async def test_a_failing_task_ends_failed_with_the_servers_reason(conduit, kind):
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        create = client.generate_image if kind == "image" else client.generate_video
        task = await create("doomed", model="test-fail", size="64x64")
        result = await task.wait(10)
    assert result.status == "failed"
    assert not result.ok
    assert "test-fail" in (result.error or "")


@pytest.mark.parametrize("kind", ["image", "video"])
async def test_cancel_ends_the_task_cancelled_on_the_client_and_the_server(conduit, kind):
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        create = client.generate_image if kind == "image" else client.generate_video
        task = await create("forever", model="test-hang", size="64x64")
        result = await task.cancel()
        assert result.status == "cancelled"
        status = await client.rest.status(kind, task.id)
    assert status["status"] == "cancelled"


async def test_following_a_task_created_elsewhere(conduit):
    async with ConduitClient(conduit.base_url, conduit.api_key) as first:
        created = await first.generate_image("made here", size="64x64", model="test-slow")
        async with ConduitClient(conduit.base_url, conduit.api_key) as second:
            followed = second.task(created.id, kind="image")
            result = await followed.wait(10)
    assert result.ok
    assert result.image_urls == (await created.wait(10)).image_urls


async def test_client_events_fire_for_progress_and_completion(conduit):
    seen: dict[str, int] = {"progress": 0, "completed": 0, "connected": 0}
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        for name in seen:
            client.on(name, lambda value, name=name: seen.__setitem__(name, seen[name] + 1))
        task = await client.generate_image("events", size="64x64")
        await task.wait(10)
    assert seen["progress"] >= distinct_steps(conduit) - 1  # the ending is a completion, not progress
    assert seen["completed"] == 1
    assert seen["connected"] <= 1  # a link another test already opened is shared, not reconnected


async def test_polling_transport_needs_no_hub(conduit):
    async with ConduitClient(conduit.base_url, conduit.api_key, transport="polling", poll_interval=0.05) as client:
        task = await client.generate_image("polled", size="64x64", model="test-slow")
        updates = [u async for u in task]
    assert updates[-1].status == "completed"
    assert {u.source for u in updates} <= {"poll", "client"}
    assert client._follower is None or not client._follower.links, "a polling client opened a hub connection"


async def test_a_gateway_with_its_routes_under_v1_conduit_is_detected():
    async with (
        LocalConduit(speed=100, profile="conduit-gateway") as server,
        ConduitClient(server.base_url, server.api_key) as client,
    ):
        task = await client.generate_image("new routes", size="64x64")
        result = await task.wait(10)
        assert client.rest.routes == "successor"
    assert result.ok


async def test_a_task_followed_before_any_create_finds_the_gateways_routes_too():
    async with LocalConduit(speed=100, profile="conduit-gateway") as server:
        async with ConduitClient(server.base_url, server.api_key) as first:
            created = await first.generate_video("made elsewhere", size="64x64", duration=1)
            await created.wait(20)
        async with ConduitClient(server.base_url, server.api_key) as second:
            result = await second.task(created.id, kind="video").wait(10)
    assert result.ok and result.video_url is not None and result.video_url.endswith(".mp4")


async def test_the_client_finds_the_video_hubs_subscribe_method_by_itself():
    async with (
        LocalConduit(speed=100, profile="js-client-docs") as server,
        ConduitClient(server.base_url, server.api_key, watchdog_interval=60) as client,
    ):
        task = await client.generate_video("seed hub", size="64x64", duration=1, model="test-slow")
        updates = [u async for u in task]
        assert client._follower.links["video"]._subscribe_method == "SubscribeToRequest"
    assert updates[-1].status == "completed"
    assert sum(u.source == "hub" for u in updates) >= 3, "events did not come over the hub"


# -- what each real server does differently, met without being told -------------------------------------------------


async def test_messagepack_refused_by_a_json_only_conduit_falls_back_to_json_once_and_stays_live():
    async with LocalConduit(speed=100, profile="conduit-2025.08") as server:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with ConduitClient(server.base_url, server.api_key, hub_protocol="messagepack") as client:
                started = time.monotonic()
                task = await client.generate_image("a fox", size="64x64", n=2, model="test-slow")
                first_hub_progress = None
                async for update in task:
                    if update.source == "hub" and first_hub_progress is None:
                        first_hub_progress = time.monotonic() - started
                result = await task.wait(10)
                video = await client.generate_video("waves", size="64x64", duration=1)
                assert (await video.wait(20)).ok
        host = server.base_url.split("://")[1]
    assert result.ok
    assert first_hub_progress is not None and first_hub_progress < 5, "no live progress over the hub"
    # One warning for the gateway, though both its hubs (image and video) refused.
    (fallback,) = [str(w.message) for w in caught if issubclass(w.category, ConduitWarning)]
    assert fallback == (
        f"the Conduit at {host} does not offer MessagePack on its hubs (The protocol 'messagepack' is not "
        "supported.); using JSON"
    )


@pytest.mark.parametrize("transport", ["auto", "polling"])
async def test_an_image_cancel_announced_as_progress_ends_the_task_cancelled_within_two_seconds(transport):
    async with (
        LocalConduit(speed=100, profile="conduit-2025.08") as server,
        ConduitClient(server.base_url, server.api_key, transport=transport, poll_interval=0.2) as client,
    ):
        task = await client.generate_image("forever", model="test-hang", size="64x64")
        while task.status == "pending" and transport == "auto":
            await asyncio.sleep(0.02)
        asked = time.monotonic()
        # As another tab or a colleague would: the cancel goes to the server, not through this handle.
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {server.api_key}"}) as http:
            response = await http.delete(server.base_url + f"/v1/images/generations/{task.id}")
        assert response.status_code == 200
        result = await task.wait(2)
        assert time.monotonic() - asked < 2
    assert result.status == "cancelled"
    assert task.update.source == ("hub" if transport == "auto" else "poll")


@pytest.mark.parametrize(
    ("transport", "hub_protocol"), [("auto", "json"), ("auto", "messagepack"), ("polling", "json")]
)
@pytest.mark.parametrize("kind", ["image", "video"])
async def test_a_gateway_task_completes_over_the_hub_and_by_polling_with_its_urls(transport, hub_protocol, kind):
    # Over MessagePack the Gateway LZ4-compresses every event of 256 bytes or more: the completions among them.
    async with (
        LocalConduit(speed=100, profile="conduit-gateway") as server,
        ConduitClient(
            server.base_url, server.api_key, transport=transport, hub_protocol=hub_protocol, poll_interval=0.1
        ) as client,
    ):
        if kind == "image":
            task = await client.generate_image("a harbour", size="64x64", n=2)
        else:
            task = await client.generate_video("a harbour", size="64x64", duration=1)
        updates = [u async for u in task]
        result = await task.wait(20)
        media = [await client.rest.download(url) for url in result.urls]
    assert result.ok
    assert updates[-1].source == ("hub" if transport == "auto" else "poll")
    if kind == "image":
        assert len(result.image_urls) == 2 and all(m.startswith(b"\x89PNG") for m in media)
    else:
        assert result.video_url is not None and media[0][4:8] == b"ftyp"
    assert all("/v1/conduit/media/" in url for url in result.urls)


async def test_model_kinds_come_from_discovery_not_from_names_or_a_type(conduit):
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        images = await client.generation_models("image")
        videos = await client.generation_models("video")
        listed = {m["id"] for m in await client.models()}
    assert set(images) == {"local-image", "dall-e-3", "dall-e-2", "gpt-image-1"}
    assert set(videos) == {"local-video", "minimax-video"}
    assert "gpt-4o-mini" in listed  # a chat model the gateway lists, and neither kind offers


async def test_a_video_asked_for_as_4_point_0_seconds_goes_out_as_4_and_completes_on_7c3fd76a():
    # `int? Duration`: the JSON `4.0` a float-typed client would send is a 400 there (tests/server/test_rest_videos.py).
    async with (
        LocalConduit(speed=100, profile="conduit-2025.08") as server,
        ConduitClient(server.base_url, server.api_key) as client,
    ):
        task = await client.generate_video("waves", size="64x64", duration=4.0, fps=6)
        result = await task.wait(30)
        (record,) = [r for r in server.tasks() if r.id == task.id]
        clip = await client.rest.download(result.video_url or "")
    assert result.ok
    assert record.params["duration"] == 4 and isinstance(record.params["duration"], int)
    assert clip[4:8] == b"ftyp"
