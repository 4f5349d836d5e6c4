"""The parameter line (`details`), the seed, the connection badge of a widget made later, and a run that keeps its
own copy of its inputs when they are edited while it runs."""

from __future__ import annotations

import ast
import asyncio

import pytest

from conduit_widget import GenerationWidget
from conduit_widget.client import ConfigurationError, seeds
from conduit_widget.details import code_for
from conduit_widget.run_inputs import RunInputs


def _call_arguments(code: str) -> tuple[list[object], dict[str, object]]:
    call = ast.parse(code, mode="eval").body
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "GenerationWidget"
    return [ast.literal_eval(a) for a in call.args], {k.arg: ast.literal_eval(k.value) for k in call.keywords}


async def test_details_after_a_run_name_the_model_used_the_real_resolution_the_task_and_its_timings(client):
    widget = GenerationWidget("a lighthouse", size="96x64", seed=7, client=client)  # model: the picker's "default"
    result = await widget.wait(20)
    details = widget.details
    assert widget.model == ""
    assert details["model"] == "dall-e-3"  # the model the request named, not "default"
    assert details["resolution"] == "96x64"
    assert details["task_id"] == result.task_id == widget.task_id
    assert details["prompt"] == "a lighthouse"
    assert 0 < details["total_seconds"] < 20
    if "ran_seconds" in details:
        assert details["queued_seconds"] + details["ran_seconds"] == pytest.approx(details["total_seconds"], abs=0.02)
    if seeds.reaches_provider("image", client.rest.routes) or "seed" in result.metadata:
        assert details["seed"] is not None and details["seed_note"] == ""
    else:  # the server could not have used it: no claim that it did
        assert details["seed"] is None
        assert details["seed_note"] == "seed not supported for images by this server"
    assert _call_arguments(details["code"]) == (
        ["a lighthouse"],
        {"model": "dall-e-3", "size": "96x64", **({"seed": details["seed"]} if details["seed"] is not None else {})},
    )


async def test_a_video_seed_is_used_on_every_server_and_its_resolution_read_from_the_media(client):
    widget = GenerationWidget("waves", kind="video", size="128x96", duration=1, seed=42, client=client)
    await widget.wait(30)
    assert widget.details["seed"] == 42
    assert widget.details["resolution"] == "128x96"
    assert _call_arguments(widget.details["code"])[1] == {
        "kind": "video",
        "model": "minimax-video",
        "size": "128x96",
        "duration": 1,
        "seed": 42,
    }


@pytest.mark.parametrize(
    "prompt",
    ['say "cheese"', "it's", "both ' and \"", "two\nlines", "back\\slash \\n", "tab\there", "ünïcödé 🦊", "'''"],
)
def test_copy_as_code_reads_back_as_the_same_prompt(prompt):
    code = code_for(RunInputs(prompt, "image", "", "", 2, 0.0, None), "dall-e-3", 5)
    assert "\n" not in code  # one line, whatever the prompt holds
    assert _call_arguments(code) == ([prompt], {"model": "dall-e-3", "n": 2, "seed": 5})


@pytest.mark.parametrize("seed", [-1, True, 1.5, "7", 2**31])
async def test_a_bad_seed_is_named_in_one_line(client, seed):
    with pytest.raises(ConfigurationError, match=r"^seed must be") as caught:
        GenerationWidget("x", seed=seed, client=client, auto_start=False)
    assert "\n" not in str(caught.value)


async def test_a_widget_made_after_the_connection_was_up_says_connected(client):
    first = GenerationWidget("first", size="64x64", client=client)
    await first.wait(20)
    assert first.connection == "connected"
    later = GenerationWidget("later", size="64x64", client=client, auto_start=False)
    for _ in range(100):  # its preparation runs on the loop: a few turns of it, far less than a second
        if later.connection != "connecting":
            break
        await asyncio.sleep(0.01)
    assert later.connection == "connected"
    first.close()
    later.close()


async def test_an_edit_during_a_run_relabels_nothing_of_that_run(client, tmp_path):
    widget = GenerationWidget("the run's prompt", size="64x64", model="test-slow", client=client)
    await asyncio.sleep(0.05)
    assert widget.status not in ("completed", "failed"), "the run ended before the edit: nothing was tested"
    widget.prompt = "the next prompt"  # what the browser's prompt box or a cell does while the run goes on
    widget.size = "128x128"
    await widget.wait(20)
    assert widget.details["prompt"] == "the run's prompt"
    assert widget.details["resolution"] == "64x64"
    assert _call_arguments(widget.details["code"])[0] == ["the run's prompt"]
    assert "the run&#x27;s prompt" in widget.static_copy["text/html"] or "the run's prompt" in str(widget.static_copy)
    assert "next prompt" not in str(widget.static_copy)
    files = await widget.save(tmp_path)
    assert [f.name.startswith("the-run-s-prompt") for f in files] == [True]
    assert widget.prompt == "the next prompt"  # the edit itself stands: it is the next run's


@pytest.mark.parametrize("data", [b"", b"\x00\x00\x00\x08moov", b"\x00\x00\x00\x01moov", b"\xff" * 64, b"ftyp" * 3])
def test_an_mp4_without_a_track_header_has_no_resolution(data):
    from conduit_widget.details import mp4_size

    assert mp4_size(data) is None
