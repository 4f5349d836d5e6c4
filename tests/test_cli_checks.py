"""`conduit-widget generate` checks what it can before it spends anything, and loses nothing it was given after.

A generation may be paid for on a real gateway: a path it cannot save to, or a model the gateway does not offer, is
refused before the create request; a save that fails after the generation still names the task and its media.
The server is a few recording aiohttp routes (tests/test_cli_hostile.py's), the CLI a real process.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.test_cli_hostile import _answers_a_picture, _generate, _serve


def _recording(models: list[dict[str, Any]] | None, discovery: bool) -> Any:
    """A Conduit that lists `models` (None: its list fails), has model discovery or not, and records every request;
    a create gets a picture at once."""

    def behaviour(request: web.Request, seen: dict[str, Any]) -> web.StreamResponse:
        seen.setdefault("requests", []).append(f"{request.method} {request.path}")
        if request.path in ("/v1/models", "/v1/discovery/models"):
            if models is None:
                return web.json_response({"error": {"message": "down for maintenance"}}, status=503)
            if request.path == "/v1/discovery/models" and not discovery:
                return web.Response(status=404)  # as ASP.NET answers a route it does not map: empty
            return web.json_response({"data": models})
        return _answers_a_picture(request, seen)

    return behaviour


DISCOVERED = [
    {"id": "dall-e-3", "capabilities": {"image_generation": True}},
    {"id": "minimax-video", "capabilities": {"video_generation": True}},
]


async def test_an_out_in_a_missing_folder_exits_2_within_2_s_before_any_request(tmp_path):
    seen: dict[str, Any] = {}
    behaviour = _recording(DISCOVERED, discovery=True)
    async with _serve(lambda request, _: behaviour(request, seen)) as base_url:
        started = time.monotonic()
        code, _, stderr = await _generate(base_url, tmp_path, "--out", "/no/such/dir/x.png")
        took = time.monotonic() - started
    assert code == 2, stderr
    assert stderr.decode().splitlines() == [
        "conduit-widget: error: cannot save to '/no/such/dir/x.png': no such folder '/no/such/dir'"
    ]
    assert took < 2.0, f"{took:.2f} s"
    assert seen.get("requests") is None, seen  # no create, not even a model list: nothing was asked of the server
    assert not await asyncio.to_thread(Path("/no").exists)  # a file's folder is never made up (root could have)


async def test_an_out_ending_in_a_slash_is_made_but_one_under_a_file_is_refused_first(tmp_path):
    (tmp_path / "taken").write_text("a file")
    seen: dict[str, Any] = {}
    behaviour = _recording(DISCOVERED, discovery=True)
    async with _serve(lambda request, _: behaviour(request, seen)) as base_url:
        code, _, stderr = await _generate(base_url, tmp_path, "--out", "taken/deeper/")
        assert code == 2, stderr
        assert "a file is in the way" in stderr.decode()
        assert seen.get("requests") is None, seen
        code, _, stderr = await _generate(base_url, tmp_path, "--out", "new/dir/")
    assert code == 0, stderr
    assert [p.parent.name for p in (tmp_path / "new" / "dir").iterdir()] == ["dir"]


@pytest.mark.parametrize(
    ("models", "discovery", "model", "refused"),
    [
        (DISCOVERED, True, "dall-e-9", "'dall-e-9' is not an image model here; it offers: dall-e-3"),
        (DISCOVERED, True, "minimax-video", "'minimax-video' is not an image model here; it offers: dall-e-3"),
        ([{"id": "dall-e-3"}], False, "house-style", None),  # a plain list may leave out what a gateway takes
        (None, True, "dall-e-9", None),  # no list to read: not held back
    ],
    ids=["unknown", "wrong-kind", "no-discovery", "no-list"],
)
async def test_a_model_the_server_does_not_offer_is_refused_before_the_create(
    tmp_path, models, discovery, model, refused
):
    seen: dict[str, Any] = {}
    behaviour = _recording(models, discovery)
    async with _serve(lambda request, _: behaviour(request, seen)) as base_url:
        code, _, stderr = await _generate(base_url, tmp_path, "--model", model)
    posts = [r for r in seen["requests"] if r.startswith("POST") and r.endswith("/async")]  # creates
    if refused is None:
        assert code == 0, stderr
        assert len(posts) == 1
    else:
        assert code == 2
        (line,) = stderr.decode().splitlines()
        assert line.startswith("conduit-widget: error: ") and refused in line, line
        assert posts == []


async def test_a_save_that_fails_after_the_generation_names_the_task_and_its_media(tmp_path):
    too_long = "x" * 300 + ".png"  # its folder exists: only writing the file finds the name too long
    async with _serve(_answers_a_picture) as base_url:
        code, stdout, stderr = await _generate(base_url, tmp_path, "--out", too_long)
        lines = stderr.decode().splitlines()
        assert code == 2, lines
        assert lines[-2].startswith("The image task task_0123abcd completed, but its media were not saved: "), lines
        assert "too long" in lines[-2]
        url = lines[-1].strip()
        assert url == f"{base_url}/media/picture.png"
        async with httpx.AsyncClient() as http:  # async: the server answers on this very loop
            assert (await http.get(url)).status_code == 200  # what was printed is where the media are
    assert stdout == b""
    assert list(tmp_path.iterdir()) == []
