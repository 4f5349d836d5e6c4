"""GenerationWidget without a browser: the traits it sends, in what order, how often, and what never."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from PIL import Image

from conduit_widget import GenerationWidget
from conduit_widget.client.models import TaskEvent
from conduit_widget.server.profiles import get_profile
from tests.conftest import distinct_steps
from tests.widget.conftest import CommSpy


async def test_an_image_task_as_the_browser_sees_it(client, conduit):
    widget = GenerationWidget("a red fox in snow", size="96x64", n=2, model="test-slow", client=client)
    spy = CommSpy(widget)
    result = await widget.wait(20)

    assert result.ok
    progress = spy.values("progress")
    assert progress == sorted(progress), "progress went backwards on the wire"
    # The widget starts at 0, so that value never travels as a change: one fewer than the task itself shows.
    assert len(set(progress)) >= distinct_steps(conduit, images=2) - 1
    assert progress[-1] == 100
    statuses = spy.values("status")
    assert statuses[-1] == "completed"
    assert statuses.count("completed") == 1
    assert widget.image_urls == list(result.image_urls)
    assert widget.image_url == result.image_urls[0]
    # The local Conduit's URLs are on loopback, where a remote browser could not reach them: embedded, the full
    # bytes kept in the kernel (views get them by message) and the traits given their JPEG previews.
    assert widget._media.full.types == ["image/png", "image/png"]
    assert [Image.open(io.BytesIO(m)).size for m in widget._media.full.media] == [(96, 64), (96, 64)]
    assert widget.media_types == ["image/jpeg", "image/jpeg"] and widget.media_is_preview
    assert widget.backend == "local simulator"
    assert widget.connection == "connected"
    assert widget.error == ""
    final = spy.updates[-1][1]
    assert final["status"] == "completed"
    assert {"media", "image_urls", "progress"} <= set(final), "the ending's traits did not travel together"


async def test_a_video_task_ends_with_its_clip_and_poster(client, conduit):
    widget = GenerationWidget("waves", kind="video", size="96x64", duration=1, client=client)
    result = await widget.wait(20)
    assert result.ok
    assert widget.video_url.endswith(".mp4")
    full = widget._media.full  # the clip itself never is a trait: views get it by message
    assert full.types == ["video/mp4"] and widget.media == []
    assert full.media[0][4:8] == b"ftyp"
    if get_profile(conduit.config.profile).video_details:
        assert widget.preview_url.endswith(".png")
        assert full.poster.startswith(b"\x89PNG")
        assert bytes(widget.poster).startswith(b"\xff\xd8") and widget.poster_type == "image/jpeg"  # its preview
    else:  # 7c3fd76a never fills in a preview
        assert (widget.preview_url, bytes(widget.poster), full.poster) == ("", b"", b"")
    assert widget.progress == 100


async def test_a_burst_of_a_thousand_progress_events_reaches_the_browser_coalesced(client):
    widget = GenerationWidget("burst", model="test-hang", size="64x64", client=client)
    spy = CommSpy(widget)
    while widget.task is None:
        await asyncio.sleep(0.01)
    task = widget.task
    started = asyncio.get_running_loop().time()
    for i in range(1000):
        client._follower.receive(
            TaskEvent(task.id, "hub", status="processing", progress=50 + i * 49 / 1000, message=f"step {i}")
        )
        if i % 20 == 0:
            await asyncio.sleep(0.01)  # a burst spread over about half a second, as a hub would send it
    burst = asyncio.get_running_loop().time() - started
    await asyncio.sleep(0.15)
    during = [state for when, state in spy.updates if "progress" in state and when >= started]
    assert len(during) <= burst / 0.1 + 2, f"{len(during)} messages in {burst:.2f} s: not coalesced"
    assert all(len(state) > 1 for state in during), "progress and message went separately, not in one message"
    assert widget.progress == 98
    assert widget.message == "step 999", "the last progress was lost"
    client._follower.receive(TaskEvent(task.id, "hub", status="completed", image_urls=("http://127.0.0.1:1/x.png",)))
    await widget.wait(5)
    assert (widget.status, widget.progress) == ("completed", 100)


def _key_free(state: object, key: str) -> bool:
    return key not in json.dumps(state, default=lambda value: repr(value))


@pytest.mark.security("the key is in no widget state sent to the browser")
async def test_the_key_is_in_no_trait_and_no_repr(client, conduit):
    widget = GenerationWidget("secret", size="64x64", client=client)
    await widget.wait(10)
    assert _key_free(widget.get_state(), conduit.api_key)
    assert conduit.api_key not in repr(widget)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"prompt": "   "}, "Enter a prompt"),
        ({"prompt": "x", "n": 0}, "between 1 and 10"),
        ({"prompt": "x", "n": 11}, "between 1 and 10"),
        ({"prompt": "x", "size": "big"}, "1024x1024"),
        ({"prompt": "x", "kind": "audio"}, "'image' or 'video'"),
        ({"prompt": "x", "kind": "video", "duration": -1}, "duration"),
    ],
)
async def test_bad_input_is_named_in_the_widget_and_nothing_is_sent(client, conduit, arguments, message):
    from conduit_widget.server.app import CONTEXT

    before = len(conduit._runner.app[CONTEXT].store._records)
    widget = GenerationWidget(client=client, **arguments)
    await asyncio.sleep(0.1)
    assert widget.status == "invalid"
    assert message in widget.error
    assert widget.task is None
    assert len(conduit._runner.app[CONTEXT].store._records) == before


async def test_a_wrong_type_is_a_configuration_error_not_a_trait_error(client):
    from conduit_widget import ConfigurationError

    with pytest.raises(ConfigurationError, match="n"):
        GenerationWidget("x", n="three", client=client)  # type: ignore[arg-type]


async def test_the_editor_starts_closed_for_a_widget_made_with_a_prompt(client):
    made = {
        "with a prompt": GenerationWidget("a fox", client=client, auto_start=False),
        "without": GenerationWidget(client=client, auto_start=False),
        "with a prompt, editable": GenerationWidget("a fox", client=client, auto_start=False, editable=True),
        "without, not editable": GenerationWidget(client=client, auto_start=False, editable=False),
    }
    assert {name: w.editable for name, w in made.items()} == {
        "with a prompt": False,
        "without": True,
        "with a prompt, editable": True,
        "without, not editable": False,
    }
    for widget in made.values():
        widget.close()


async def test_a_server_refusal_shows_the_servers_message(client):
    widget = GenerationWidget("x", model="no-such-model", client=client)
    while widget.status == "pending":
        await asyncio.sleep(0.02)
    assert widget.status == "failed"
    assert "no-such-model" in widget.error
    assert widget.retryable is False


async def test_cancel_from_the_front_end(client):
    widget = GenerationWidget("forever", model="test-hang", size="64x64", client=client)
    while widget.task is None:
        await asyncio.sleep(0.01)
    widget._handle_custom_msg({"type": "cancel"}, [])
    result = await widget.wait(10)
    assert result.status == "cancelled"
    assert widget.status == "cancelled"


async def test_retry_from_the_front_end_makes_a_new_task(client, conduit):
    widget = GenerationWidget("doomed", model="test-fail", size="64x64", client=client)
    first = await widget.wait(10)
    assert first.status == "failed"
    # The JS client docs' TaskFailed(taskId, error) does not say whether trying again could help.
    assert widget.retryable is (conduit.config.profile != "js-client-docs")
    assert "test-fail" in widget.error
    widget._handle_custom_msg({"type": "retry"}, [])
    second = await widget.wait(10)
    assert second.task_id != first.task_id
    assert widget.task_id == second.task_id


@pytest.mark.security("unsafe media URLs never reach the browser")
async def test_an_unsafe_result_url_never_reaches_the_browser(client):
    widget = GenerationWidget("bad url", model="test-hang", size="64x64", client=client, embed_media=False)
    while widget.task is None:
        await asyncio.sleep(0.01)
    task = widget.task
    client._follower.receive(TaskEvent(task.id, "hub", status="completed", image_urls=("javascript:alert(1)",)))
    await widget.wait(5)
    assert widget.image_urls == []
    assert widget.image_url == ""
    assert "not allowed" in widget.error
    await client.rest.cancel("image", task.id)


async def test_save_writes_the_result(client, tmp_path):
    widget = GenerationWidget("save me", size="64x64", n=2, client=client)
    await widget.wait(10)
    files = await widget.save(tmp_path / "fox.png")
    assert [f.name for f in files] == ["fox-1.png", "fox-2.png"]
    assert all(Image.open(f).size == (64, 64) for f in files)


async def test_closing_a_widget_stops_following_its_task(client):
    widget = GenerationWidget("closing", model="test-hang", size="64x64", client=client)
    while widget.task is None:
        await asyncio.sleep(0.01)
    task = widget.task
    widget.close()
    assert client._follower.followed(task.id) is None
    assert task.id not in client._follower.links["image"]._sinks
    await client.rest.cancel("image", task.id)


async def test_the_model_picker_offers_each_kind_only_the_models_discovery_says_make_it(client):
    widget = GenerationWidget("a fox", auto_start=False, client=client)
    for _ in range(500):
        if widget.models:
            break
        await asyncio.sleep(0.01)
    by_kind = {kind: {m["id"] for m in widget.models if m["type"] == kind} for kind in ("image", "video")}
    # What /v1/models lists is ids only; the kinds come from discovery, which leaves the chat model out of both.
    assert by_kind == {
        "image": {"local-image", "dall-e-3", "dall-e-2", "gpt-image-1"},
        "video": {"local-video", "minimax-video"},
    }
    assert {m["type"] for m in widget.models} == {"image", "video"}
    widget.close()


async def test_a_widget_video_of_4_point_0_seconds_completes_on_7c3fd76a():
    from conduit_widget import ConduitClient
    from conduit_widget.server import LocalConduit

    async with (
        LocalConduit(speed=100, profile="conduit-2025.08") as server,
        ConduitClient(server.base_url, server.api_key) as client,
    ):
        widget = GenerationWidget("waves", kind="video", size="64x64", duration=4.0, client=client)
        result = await widget.wait(30)
        (record,) = [r for r in server.tasks() if r.id == result.task_id]
    assert result.ok and widget.video_url.endswith(".mp4")
    assert record.params["duration"] == 4
    widget.close()
