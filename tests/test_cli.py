"""The command line: `conduit-widget serve` and `conduit-widget demo`, run as a user would run them."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]


def _lines_until(process: subprocess.Popen[str], pattern: str, timeout: float) -> re.Match[str]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(seen)}")


@pytest.fixture
def run() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def _start(run: list[subprocess.Popen[str]], *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONDUIT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "conduit_widget.cli", *args],
        cwd=REPO,
        env={**environment, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    run.append(process)
    return process


def test_serve_prints_its_url_and_a_new_key_that_works(run):
    process = _start(run, "serve", "--port", "0", "--speed", "50")
    url = _lines_until(process, r"listening on (http://127\.0\.0\.1:\d+)", 30)[1]
    key = _lines_until(process, r"Virtual key: (condt_\S+)", 5)[1]
    assert httpx.get(url + "/v1/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert httpx.get(url + "/v1/models", headers={"Authorization": "Bearer condt_someoneelse"}).status_code == 401


@pytest.mark.parametrize(
    ("profile", "route", "hub_protocols"),
    [
        ("conduit-2025.08", "/v1/videos/generations/async", ["json"]),
        ("conduit-gateway", "/v1/conduit/videos/generations/async", ["json", "messagepack"]),
        ("js-client-docs", "/v1/videos/generations/async", ["json"]),
    ],
)
def test_serve_plays_the_profile_it_is_given(run, profile, route, hub_protocols):
    process = _start(run, "serve", "--port", "0", "--speed", "50", "--profile", profile)
    url = _lines_until(process, r"listening on (http://127\.0\.0\.1:\d+)", 30)[1]
    key = _lines_until(process, r"Virtual key: (condt_\S+)", 5)[1]
    headers = {"Authorization": f"Bearer {key}"}
    body = {"prompt": "waves", "model": "minimax-video", "duration": 4.0}
    refused = httpx.post(url + route, json=body, headers=headers)
    assert refused.status_code == 400  # a float duration, as every real one refuses it
    accepted = httpx.post(url + route, json={**body, "duration": 4, "size": "64x64"}, headers=headers)
    assert accepted.status_code == 202
    assert set(accepted.json()) & {"taskId", "task_id", "request_id"} == {
        {"conduit-2025.08": "taskId", "conduit-gateway": "task_id", "js-client-docs": "request_id"}[profile]
    }

    async def handshake(name: str) -> str:
        hub = f"{url}/hubs/image-generation?access_token={key}"
        async with aiohttp.ClientSession() as session, session.ws_connect(hub) as ws:
            await ws.send_str('{"protocol":"' + name + '","version":1}\x1e')
            return str((await ws.receive(timeout=5)).data)

    offered = [name for name in ("json", "messagepack") if '"error"' not in asyncio.run(handshake(name))]
    assert offered == hub_protocols


def test_serve_takes_the_key_from_the_environment_and_does_not_print_it(run):
    key = "condt_from_the_environment_123"
    process = _start(run, "serve", "--port", "0", env={"CONDUIT_API_KEY": key})
    url = _lines_until(process, r"listening on (http://\S+)", 30)[1]
    assert httpx.get(url + "/v1/models", headers={"X-API-Key": key}).status_code == 200
    process.terminate()
    output, _ = process.communicate(timeout=15)
    assert key not in output


def test_following_the_export_lines_serve_prints_is_enough_to_generate(run, tmp_path):
    process = _start(run, "serve", "--port", "0", "--speed", "50")
    exports = [_lines_until(process, r"^\s*export CONDUIT_BASE_URL=.*", 30)[0]]
    exports.append(_lines_until(process, r"^\s*export CONDUIT_API_KEY=condt_\S+  # .*not a secret.*", 5)[0])
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONDUIT_")}
    generate = f"{sys.executable} -m conduit_widget.cli generate 'a fox' --size 64x64"
    script = "\n".join([*exports, generate])  # as pasted into a shell, line by line
    result = subprocess.run(
        ["bash", "-c", script],
        env={**environment, "PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert [p.suffix for p in tmp_path.iterdir()] == [".png"]


@pytest.mark.parametrize("command", [[], ["generate"], ["serve"], ["demo"]])
def test_help_is_plain_text_and_every_command_says_what_it_does(command):
    result = subprocess.run(
        [sys.executable, "-m", "conduit_widget.cli", *command, "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert "``" not in result.stdout and ":class:" not in result.stdout
    usage, description = result.stdout.split("\n\n")[:2]
    assert usage.startswith("usage: conduit-widget")
    assert not description.lstrip().startswith(("positional arguments", "options")), result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--speed", "0"], "must be greater than 0"),
        (["serve", "--api-key", "sk-not-conduit"], "condt_"),
        (["serve", "--profile", "conduit-2027"], "invalid choice"),
    ],
)
def test_bad_options_are_named_without_a_traceback(args, message):
    result = subprocess.run(
        [sys.executable, "-m", "conduit_widget.cli", *args], capture_output=True, text=True, timeout=30, cwd=REPO
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_serves_the_quickstart_with_the_local_conduit_behind_it(run):
    process = _start(run, "demo", "--no-browser", "--lab-port", "0", "--speed", "50")
    conduit_url = _lines_until(process, r"Local Conduit: (http://\S+)", 120)[1]
    lab = _lines_until(process, r"Open this URL: (http://127\.0\.0\.1:(\d+))/lab/tree/(\S+)\?token=(\S+)", 10)
    assert lab[3] == "notebooks/quickstart.ipynb"
    contents = httpx.get(f"{lab[1]}/api/contents/{lab[3]}", params={"token": lab[4]}, timeout=30)
    assert contents.status_code == 200
    assert contents.json()["type"] == "notebook"
    assert httpx.get(conduit_url + "/health").text == "Healthy"


def test_stopping_the_demo_stops_the_server_and_jupyterlab_it_started(run):
    process = _start(run, "demo", "--no-browser", "--lab-port", "0")
    conduit_url = _lines_until(process, r"Local Conduit: (http://\S+)", 120)[1]
    lab_url = _lines_until(process, r"Open this URL: (http://127\.0\.0\.1:\d+)/", 10)[1]
    process.terminate()
    process.wait(30)
    for url in (conduit_url + "/health", lab_url + "/api/status"):
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=2)
