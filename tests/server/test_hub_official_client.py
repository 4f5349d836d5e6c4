"""Conformance of the local Conduit's hubs with the official SignalR JavaScript client.

Each test runs ``signalr_official_client.mjs`` under Node: ``@microsoft/signalr`` (with
``@microsoft/signalr-protocol-msgpack``) from ``js/node_modules``, connected to the session's LocalConduit.
The script prints one JSON line per observation and takes commands (invoke, stop) on stdin, so this side
creates tasks over REST only once the client is connected, and checks that each subscription landed
before its task ended. The matrix is protocol x negotiation x how the key travels.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conduit_widget import protocol
from conduit_widget.protocol import Kind
from conduit_widget.server import LocalConduit
from conduit_widget.server.profiles import get_profile
from tests.server.helpers import Api

REPO = Path(__file__).resolve().parents[2]
JS_DIR = REPO / "js"
SCRIPT = Path(__file__).with_name("signalr_official_client.mjs")
NODE = shutil.which("node")
BAD_KEY = "condt_wrongwrongwrong"
WAIT = 15.0  # seconds for any one expected observation; the script itself gives up after 20 s


@pytest.fixture(scope="module", autouse=True)
def _official_client_installed() -> None:
    # Never a skip: a machine without the official client would otherwise pass by testing nothing.
    if NODE is None:
        pytest.fail("node is not on PATH; install Node 20 (the README's requirements)")
    for package in ("@microsoft/signalr", "@microsoft/signalr-protocol-msgpack"):
        if not (JS_DIR / "node_modules" / package / "package.json").is_file():
            pytest.fail(f"{package} is not installed in js/node_modules; `make test` runs `npm ci` there")


EVENTS: dict[Kind, list[str]] = {
    "image": [
        protocol.IMAGE_PROGRESS,
        protocol.IMAGE_COMPLETED,
        protocol.IMAGE_FAILED,
        protocol.IMAGE_CANCELLED,
        protocol.SEED_TASK_PROGRESS,
        protocol.SEED_TASK_COMPLETED,
        protocol.SEED_TASK_FAILED,
    ],
    "video": [
        protocol.VIDEO_STARTED,
        protocol.VIDEO_PROGRESS,
        protocol.VIDEO_COMPLETED,
        protocol.VIDEO_FAILED,
        protocol.VIDEO_CANCELLED,
        protocol.SEED_REQUEST_PROGRESS,
        protocol.SEED_REQUEST_COMPLETED,
        protocol.SEED_REQUEST_FAILED,
    ],
}
SEED_EVENTS = frozenset(
    {
        protocol.SEED_TASK_PROGRESS,
        protocol.SEED_TASK_COMPLETED,
        protocol.SEED_TASK_FAILED,
        protocol.SEED_REQUEST_PROGRESS,
        protocol.SEED_REQUEST_COMPLETED,
        protocol.SEED_REQUEST_FAILED,
    }
)

Line = dict[str, Any]


# -- the Node side -------------------------------------------------------------------------------


class OfficialClient:
    """One ``node signalr_official_client.mjs`` process: its output lines in order, and commands to it."""

    def __init__(self, config: dict[str, Any]) -> None:
        assert NODE is not None
        self.config = config
        self.lines: list[Line] = []
        self._queue: queue.Queue[Line | None] = queue.Queue()
        self._stderr: list[str] = []
        self._ids = 0
        self.proc = subprocess.Popen(
            [NODE, str(SCRIPT), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env={**os.environ, "CONDUIT_JS_DIR": str(JS_DIR)},
        )
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self._queue.put(json.loads(raw))
            except json.JSONDecodeError:
                self._queue.put({"unparsed": raw.rstrip("\n")})
        self._queue.put(None)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        self._stderr.extend(self.proc.stderr)

    def transcript(self) -> str:
        shown = [json.dumps(line)[:300] for line in self.lines[-60:]]
        return "\nstdout:\n" + "\n".join(shown) + "\nstderr:\n" + "".join(self._stderr)[-3000:]

    def poll_for(self, predicate: Callable[[Line], bool], timeout: float = WAIT) -> Line | None:
        """The first line so far, or yet to come within `timeout`, that satisfies `predicate`."""
        for line in self.lines:
            if predicate(line):
                return line
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self._queue.put(None)  # keep reporting the end to later waits
                break
            self.lines.append(line)
            if predicate(line):
                return line
        return None

    def wait_for(self, predicate: Callable[[Line], bool], what: str, timeout: float = WAIT) -> Line:
        line = self.poll_for(predicate, timeout)
        if line is None:
            pytest.fail(f"the official client never reported {what}" + self.transcript())
        return line

    def send(self, command: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def invoke(self, method: str, *args: Any) -> Line:
        self._ids += 1
        ident = f"i{self._ids}"
        self.send({"op": "invoke", "id": ident, "method": method, "args": list(args)})
        return self.wait_for(lambda line: line.get("invoked") == ident, f"the result of {method}{args}")

    def started(self) -> Line:
        return self.wait_for(lambda line: "started" in line, "whether start() resolved")

    def stop(self) -> None:
        """Stop the connection from the client side and wait for the script to end cleanly."""
        self.send({"op": "stop"})
        self.wait_for(lambda line: "stopped" in line, "the end of connection.stop()")
        assert self.proc.wait(10) == 0, self.transcript()
        closes = [line for line in self.lines if "closed" in line]
        assert closes == [{"closed": True, "error": None}], self.transcript()
        summary = self.wait_for(lambda line: "summary" in line, "the closing summary")["summary"]
        assert summary["invocations"] == self._ids, summary

    def events(self, name: str, task_id: str) -> list[tuple[int, list[Any]]]:
        """(position in the output, arguments) of every `name` event about `task_id`."""
        return [
            (i, line["args"])
            for i, line in enumerate(self.lines)
            if line.get("event") == name and _task_of(name, line["args"]) == task_id
        ]

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the script stops its connection when stdin ends
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for reader in self._readers:
            reader.join(5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()


def _task_of(event: str, args: list[Any]) -> str | None:
    if not args:
        return None
    if event in SEED_EVENTS:  # positional: (taskId, value)
        return args[0] if isinstance(args[0], str) else None
    return args[0].get("taskId") if isinstance(args[0], dict) else None


def hub_config(
    server: LocalConduit, kind: Kind, *, proto: str, skip: bool, key_via: str, **extra: Any
) -> dict[str, Any]:
    return {
        "url": server.base_url + protocol.HUB_PATHS[kind],
        "key": server.api_key,
        "keyVia": key_via,
        "skipNegotiation": skip,
        "protocol": proto,
        "events": EVENTS[kind],
        "timeoutMs": 20000,
        **extra,
    }


@pytest.fixture
def run_client() -> Iterator[Callable[[dict[str, Any]], OfficialClient]]:
    clients: list[OfficialClient] = []

    def start(config: dict[str, Any]) -> OfficialClient:
        clients.append(OfficialClient(config))
        return clients[-1]

    yield start
    for client in clients:
        client.close()


# -- the REST side ---------------------------------------------------------------------------------


def create_task(server: LocalConduit, kind: Kind, model: str, *, key: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {key or server.api_key}"}
    if kind == "image":
        body: dict[str, Any] = {"prompt": "a lighthouse at dusk", "model": model, "size": "128x128"}
        response = httpx.post(server.base_url + protocol.IMAGE_CREATE, json=body, headers=headers, timeout=10)
        assert response.status_code == 202, response.text
        return response.json()["task_id"]
    body = {"prompt": "waves on a beach", "model": model, "size": "128x96", "duration": 1}
    response = httpx.post(server.base_url + protocol.VIDEO_CREATE, json=body, headers=headers, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["taskId"]


def task_status(server: LocalConduit, kind: Kind, task_id: str, *, key: str | None = None) -> str:
    route = protocol.IMAGE_STATUS if kind == "image" else protocol.VIDEO_STATUS
    response = httpx.get(
        server.base_url + route.format(task_id=task_id),
        headers={"Authorization": f"Bearer {key or server.api_key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["status"]


def subscribe_in_time(
    client: OfficialClient, server: LocalConduit, kind: Kind, model: str, method: str = protocol.SUBSCRIBE
) -> str:
    """Create a task and subscribe to it. The server replays nothing, so a task that ended before the
    subscription landed proves nothing: then try again with a fresh one. Returns the task id."""
    for _ in range(3):
        task_id = create_task(server, kind, model)
        result = client.invoke(method, task_id)
        assert result["ok"], f"{method}({task_id}) was refused: {result}" + client.transcript()
        # The subscription is in place once the completion came back. If the task is still running now,
        # its terminal event is yet to be published; if any event of it reaches us, the subscription came
        # before that event and so before the terminal one (the runner publishes in order).
        if task_status(server, kind, task_id) not in protocol.TERMINAL_STATUSES:
            return task_id
        if client.poll_for(lambda line, t=task_id: _task_of(line.get("event", ""), line.get("args", [])) == t, 2.0):
            return task_id
    pytest.fail(f"three {model} {kind} tasks all ended before {method} returned" + client.transcript())


def fetch_media(url: str, content_type: str) -> bytes:
    assert isinstance(url, str) and url.startswith("http://"), url
    response = httpx.get(url, timeout=10)  # media need no key, as an <img> or <video> sends none
    assert response.status_code == 200, (url, response.status_code)
    assert response.headers["content-type"].split(";")[0] == content_type, (url, response.headers)
    return response.content


# -- shared checks ---------------------------------------------------------------------------------


def check_bad_key_probe(client: OfficialClient, skip: bool) -> None:
    probe = client.wait_for(lambda line: line.get("probe") == BAD_KEY, "the start() with a wrong key")
    assert probe["ok"] is False, probe
    assert probe["state"] == "Disconnected", probe
    if skip:
        # The client words every refused upgrade the same way, so check the status the server gave directly.
        assert "WebSocket failed to connect" in probe["error"], probe
        by_query = client.config["keyVia"] == "query"
        response = httpx.get(
            client.config["url"],
            params={"access_token": BAD_KEY} if by_query else None,
            headers={
                **({} if by_query else {"Authorization": f"Bearer {BAD_KEY}"}),
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
            timeout=10,
        )
        assert response.status_code == 401, response
    else:
        assert "401" in probe["error"], probe
        assert "Unauthorized" in probe["error"], probe


def check_hub_errors(
    client: OfficialClient, server: LocalConduit, kind: Kind, other_key: str, methods: tuple[str, ...]
) -> str:
    """Unknown method, wrong arity, foreign and unknown task ids: every one rejects and the connection lives.
    Returns the foreign task's id, whose events must never reach this client."""
    result = client.invoke("GenerateImage", "anything")
    assert result["ok"] is False, result
    assert "Method does not exist" in result["error"], result
    assert result["error"] == (
        "Failed to invoke 'GenerateImage' due to an error on the server. HubException: Method does not exist."
    )
    assert result["state"] == "Connected", result

    result = client.invoke(protocol.SUBSCRIBE)
    assert result["ok"] is False, result
    # The reason ("Invocation provides 0 argument(s) but target expects 1") only with detailed errors, in Development.
    assert result["error"] == "Failed to invoke 'SubscribeToTask' due to an error on the server.", result

    foreign = create_task(server, kind, "dall-e-3" if kind == "image" else "minimax-video", key=other_key)
    for method in methods:
        for task_id in (foreign, str(uuid.uuid4())):
            result = client.invoke(method, task_id)
            assert result["ok"] is False, (method, task_id, result)
            assert protocol.UNAUTHORIZED_TASK in result["error"], result
            assert result["error"] == (
                f"An unexpected error occurred invoking '{method}' on the server. HubException: Unauthorized access to task"
            )
            assert result["state"] == "Connected", result
    return foreign


def check_progress(client: OfficialClient, task_id: str, conduit_event: str, seed_event: str, key: str) -> int:
    """Several non-decreasing progress events in both dialects; returns the position of the last one."""
    conduit_progress = client.events(conduit_event, task_id)
    seed_progress = client.events(seed_event, task_id)
    assert len(conduit_progress) >= 3, client.transcript()
    percents = [args[0][key] for _, args in conduit_progress]
    assert percents == sorted(percents), percents
    assert all(isinstance(p, int) and 0 <= p < 100 for p in percents), percents
    assert percents[-1] > percents[0], percents
    for _, args in conduit_progress:
        assert len(args) == 1 and args[0]["taskId"] == task_id, args
        assert isinstance(args[0]["status"], str) and args[0]["status"], args
        assert isinstance(args[0]["timestamp"], str), args
    # The seed's positional (taskId, progress) travels with every conduit event.
    assert [args for _, args in seed_progress] == [[task_id, p] for p in percents]
    return max(i for i, _ in conduit_progress + seed_progress)


def only(client: OfficialClient, name: str, task_id: str) -> tuple[int, list[Any]]:
    found = client.events(name, task_id)
    assert len(found) == 1, f"expected one {name} for {task_id}, got {len(found)}" + client.transcript()
    return found[0]


def check_failure(client: OfficialClient, task_id: str, conduit_event: str, seed_event: str) -> None:
    _, (payload,) = only(client, conduit_event, task_id)
    assert payload["taskId"] == task_id
    assert payload["isRetryable"] is True, payload
    assert isinstance(payload["error"], str) and payload["error"].strip(), payload
    assert isinstance(payload["failedAt"], str), payload
    _, seed_args = only(client, seed_event, task_id)
    assert seed_args == [task_id, payload["error"]]


# -- the image hub: the full matrix -------------------------------------------------------------------


@pytest.mark.parametrize("key_via", ["factory", "headers"])
@pytest.mark.parametrize("skip", [False, True], ids=["negotiate", "skipNegotiation"])
@pytest.mark.parametrize("proto", ["json", "messagepack"])
def test_image_hub(
    conduit: LocalConduit,
    other_key: str,
    run_client: Callable[[dict[str, Any]], OfficialClient],
    proto: str,
    skip: bool,
    key_via: str,
) -> None:
    client = run_client(hub_config(conduit, "image", proto=proto, skip=skip, key_via=key_via, probeKeys=[BAD_KEY]))
    check_bad_key_probe(client, skip)
    started = client.started()
    assert started["started"] is True, client.transcript()
    assert started["state"] == "Connected"
    assert (started["connectionId"] is None) == skip  # only negotiate hands out a connection id

    foreign = check_hub_errors(client, conduit, "image", other_key, (protocol.SUBSCRIBE,))

    # After all those refusals, valid subscriptions still work on the same connection.
    slow = subscribe_in_time(client, conduit, "image", protocol.TEST_SLOW_MODEL)
    failing = subscribe_in_time(client, conduit, "image", protocol.TEST_FAIL_MODEL)
    for name, task_id in [
        (protocol.IMAGE_COMPLETED, slow),
        (protocol.SEED_TASK_COMPLETED, slow),
        (protocol.IMAGE_FAILED, failing),
        (protocol.SEED_TASK_FAILED, failing),
    ]:
        client.wait_for(
            lambda line, name=name, task_id=task_id: (
                line.get("event") == name and _task_of(name, line["args"]) == task_id
            ),
            f"{name} for {task_id}",
        )
    client.stop()

    # 1. progress, then completion, in both dialects.
    last_progress = check_progress(
        client, slow, protocol.IMAGE_PROGRESS, protocol.SEED_TASK_PROGRESS, "progressPercentage"
    )
    for _, (payload,) in client.events(protocol.IMAGE_PROGRESS, slow):
        assert payload["totalImages"] == 1 and payload["imagesCompleted"] in (0, 1), payload
    done_at, (done,) = only(client, protocol.IMAGE_COMPLETED, slow)
    seed_at, seed_done = only(client, protocol.SEED_TASK_COMPLETED, slow)
    assert last_progress < done_at and last_progress < seed_at
    assert done["taskId"] == slow
    assert isinstance(done["completedAt"], str)
    assert len(done["imageUrls"]) == 1, done
    png = fetch_media(done["imageUrls"][0], "image/png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert seed_done[0] == slow
    result = seed_done[1]
    assert result["image_url"] == done["imageUrls"][0]
    assert result["image_urls"] == done["imageUrls"]
    assert result["metadata"]["model"] == protocol.TEST_SLOW_MODEL
    assert result["metadata"]["size"] == "128x128"

    # 2. the failing task.
    check_failure(client, failing, protocol.IMAGE_FAILED, protocol.SEED_TASK_FAILED)
    assert not client.events(protocol.IMAGE_COMPLETED, failing)
    assert not client.events(protocol.SEED_TASK_COMPLETED, failing)

    # 3. nothing about another key's task leaks to this connection (it has ended by now).
    assert task_status(conduit, "image", foreign, key=other_key) in protocol.TERMINAL_STATUSES
    assert not [line for line in client.lines if "event" in line and _task_of(line["event"], line["args"]) == foreign]


# -- the video hub: two corners of the matrix ---------------------------------------------------------


@pytest.mark.parametrize(
    ("proto", "skip", "key_via"),
    [("json", False, "factory"), ("messagepack", True, "headers")],
    ids=["json-negotiate-factory", "messagepack-skipNegotiation-headers"],
)
def test_video_hub(
    conduit: LocalConduit,
    other_key: str,
    run_client: Callable[[dict[str, Any]], OfficialClient],
    proto: str,
    skip: bool,
    key_via: str,
) -> None:
    client = run_client(hub_config(conduit, "video", proto=proto, skip=skip, key_via=key_via, probeKeys=[BAD_KEY]))
    check_bad_key_probe(client, skip)
    assert client.started()["started"] is True, client.transcript()
    foreign = check_hub_errors(client, conduit, "video", other_key, (protocol.SUBSCRIBE, protocol.SEED_SUBSCRIBE_VIDEO))

    slow = subscribe_in_time(client, conduit, "video", protocol.TEST_SLOW_MODEL)
    # 5. the seed document's method name subscribes too, and the seed events follow.
    seeded = subscribe_in_time(client, conduit, "video", protocol.TEST_SLOW_MODEL, protocol.SEED_SUBSCRIBE_VIDEO)
    failing = subscribe_in_time(client, conduit, "video", protocol.TEST_FAIL_MODEL)
    for name, task_id in [
        (protocol.VIDEO_COMPLETED, slow),
        (protocol.SEED_REQUEST_COMPLETED, slow),
        (protocol.VIDEO_COMPLETED, seeded),
        (protocol.SEED_REQUEST_COMPLETED, seeded),
        (protocol.VIDEO_FAILED, failing),
        (protocol.SEED_REQUEST_FAILED, failing),
    ]:
        client.wait_for(
            lambda line, name=name, task_id=task_id: (
                line.get("event") == name and _task_of(name, line["args"]) == task_id
            ),
            f"{name} for {task_id}",
        )
    client.stop()

    for task_id in (slow, seeded):
        last_progress = check_progress(
            client, task_id, protocol.VIDEO_PROGRESS, protocol.SEED_REQUEST_PROGRESS, "progress"
        )
        for at, (payload,) in client.events(protocol.VIDEO_STARTED, task_id):
            # Sent right after the queue wait, so a quick subscriber may or may not see it.
            assert at < last_progress and payload["taskId"] == task_id, payload
        done_at, (done,) = only(client, protocol.VIDEO_COMPLETED, task_id)
        seed_at, seed_done = only(client, protocol.SEED_REQUEST_COMPLETED, task_id)
        assert last_progress < done_at and last_progress < seed_at
        assert done["taskId"] == task_id and done["status"] == protocol.COMPLETED
        mp4 = fetch_media(done["videoUrl"], "video/mp4")
        assert mp4[4:8] == b"ftyp"
        poster = fetch_media(done["previewUrl"], "image/png")
        assert poster.startswith(b"\x89PNG\r\n\x1a\n")
        assert seed_done[0] == task_id
        assert seed_done[1]["video_url"] == done["videoUrl"]
        assert seed_done[1]["metadata"]["model"] == protocol.TEST_SLOW_MODEL

    check_failure(client, failing, protocol.VIDEO_FAILED, protocol.SEED_REQUEST_FAILED)
    _, (failure,) = only(client, protocol.VIDEO_FAILED, failing)
    assert failure["status"] == protocol.FAILED
    assert isinstance(failure["retryCount"], int) and isinstance(failure["maxRetries"], int), failure

    assert task_status(conduit, "video", foreign, key=other_key) in protocol.TERMINAL_STATUSES
    assert not [line for line in client.lines if "event" in line and _task_of(line["event"], line["args"]) == foreign]


# -- other ways in, and keepalive ---------------------------------------------------------------------


@pytest.mark.parametrize("skip", [False, True], ids=["negotiate", "skipNegotiation"])
def test_key_in_access_token_query(
    conduit: LocalConduit, run_client: Callable[[dict[str, Any]], OfficialClient], skip: bool
) -> None:
    """``?access_token=`` on the hub URL, which is how a browser's WebSocket carries the key."""
    client = run_client(hub_config(conduit, "image", proto="json", skip=skip, key_via="query", probeKeys=[BAD_KEY]))
    check_bad_key_probe(client, skip)
    assert client.started()["started"] is True, client.transcript()
    slow = subscribe_in_time(client, conduit, "image", protocol.TEST_SLOW_MODEL)
    client.wait_for(lambda line: line.get("event") == protocol.IMAGE_COMPLETED, f"the completion of {slow}")
    client.stop()


@pytest.fixture(scope="module")
def pinging_conduit() -> Iterator[LocalConduit]:
    """Pings every 0.2 s and drops a client silent for 1 s, so both keepalives show within seconds."""
    with LocalConduit(speed=100, keepalive_interval=0.2, client_timeout=1.0) as server:
        yield server


@pytest.mark.parametrize("proto", ["json", "messagepack"])
def test_pings_both_ways_keep_an_idle_connection(
    pinging_conduit: LocalConduit, run_client: Callable[[dict[str, Any]], OfficialClient], proto: str
) -> None:
    """Idle for 2.5 s, past both the client's 1 s serverTimeout and the server's 1 s client timeout:
    only the server's pings feed the client, and only the client's pings (every 0.3 s) feed the server."""
    config = hub_config(
        pinging_conduit, "image", proto=proto, skip=False, key_via="headers", serverTimeoutMs=1000, keepAliveMs=300
    )
    client = run_client(config)
    assert client.started()["started"] is True, client.transcript()
    time.sleep(2.5)
    result = client.invoke("NoSuchMethod", "x")
    assert "Method does not exist" in result["error"] and result["state"] == "Connected", client.transcript()
    client.stop()


def test_without_server_pings_the_client_times_out(
    conduit: LocalConduit, run_client: Callable[[dict[str, Any]], OfficialClient]
) -> None:
    """Control: the session server pings every 15 s, so a 1 s serverTimeout trips in the client."""
    client = run_client(
        hub_config(conduit, "image", proto="json", skip=True, key_via="factory", serverTimeoutMs=1000, keepAliveMs=300)
    )
    assert client.started()["started"] is True, client.transcript()
    closed = client.wait_for(lambda line: "closed" in line, "the client timing out", timeout=5)
    assert "Server timeout elapsed without receiving a message from the server" in closed["error"], closed


@pytest.mark.parametrize("proto", ["json", "messagepack"])
def test_without_client_pings_the_server_closes(
    pinging_conduit: LocalConduit, run_client: Callable[[dict[str, Any]], OfficialClient], proto: str
) -> None:
    """Control: a client that pings only every 30 s is closed by the server's 1 s client timeout, with a
    Close message the official client surfaces as an error."""
    client = run_client(
        hub_config(pinging_conduit, "image", proto=proto, skip=False, key_via="headers", keepAliveMs=30000)
    )
    assert client.started()["started"] is True, client.transcript()
    closed = client.wait_for(lambda line: "closed" in line, "the server closing the connection", timeout=5)
    assert closed["error"] is not None and closed["error"].startswith("Server returned an error on close: "), closed


# -- every profile --------------------------------------------------------------------------------------------------


def _create(server: LocalConduit, kind: Kind) -> str:
    with Api(server) as api:
        return api.create(kind, model=protocol.TEST_SLOW_MODEL, **({"size": "96x64"} if kind == "image" else {}))


@pytest.mark.parametrize("profile", ["conduit-2025.08", "conduit-gateway", "js-client-docs"])
@pytest.mark.parametrize("kind", ["image", "video"])
def test_each_profiles_hub_carries_its_own_events_to_the_official_client(
    profile: str, kind: Kind, run_client: Callable[[dict[str, Any]], OfficialClient]
) -> None:
    strict = get_profile(profile)
    with LocalConduit(speed=100, profile=profile) as server:
        client = run_client(hub_config(server, kind, proto="json", skip=False, key_via="factory"))
        assert client.started()["started"] is True, client.transcript()
        methods = strict.image_hub_methods if kind == "image" else strict.video_hub_methods
        task_id = _create(server, kind)
        assert client.invoke(methods[0], task_id)["ok"], client.transcript()
        if strict.object_events:
            done = protocol.IMAGE_COMPLETED if kind == "image" else protocol.VIDEO_COMPLETED
            progress = protocol.IMAGE_PROGRESS if kind == "image" else protocol.VIDEO_PROGRESS
        else:
            done = protocol.SEED_TASK_COMPLETED if kind == "image" else protocol.SEED_REQUEST_COMPLETED
            progress = protocol.SEED_TASK_PROGRESS if kind == "image" else protocol.SEED_REQUEST_PROGRESS
        client.wait_for(lambda line: line.get("event") == done, f"{done} for {task_id}")
        client.stop()
    names = {line["event"] for line in client.lines if "event" in line}
    assert not names & (SEED_EVENTS if strict.object_events else set(EVENTS[kind]) - SEED_EVENTS), names
    percents = [args for _, args in client.events(progress, task_id)]
    assert percents, client.transcript()
    if strict.object_events and kind == "video":  # 7c3fd76a names it `progress`, the Gateway `progressPercentage`
        other = {"progress", "progressPercentage"} - {strict.video_progress_key}
        assert all(strict.video_progress_key in args[0] and not other & set(args[0]) for args in percents), percents


def test_messagepack_against_a_json_only_server_is_refused_in_the_handshake(
    run_client: Callable[[dict[str, Any]], OfficialClient],
) -> None:
    with LocalConduit(speed=100, profile="conduit-2025.08") as server:
        client = run_client(hub_config(server, "image", proto="messagepack", skip=True, key_via="factory"))
        started = client.started()
    assert started["started"] is False
    assert started["error"] == "Server returned handshake error: The protocol 'messagepack' is not supported."


@pytest.mark.parametrize("transport", ["ServerSentEvents", "LongPolling"])
def test_a_client_offered_only_another_transport_is_refused_clearly(
    conduit: LocalConduit, run_client: Callable[[dict[str, Any]], OfficialClient], transport: str
) -> None:
    config = hub_config(conduit, "image", proto="json", skip=False, key_via="headers", transport=transport)
    started = run_client(config).started()
    assert started["started"] is False
    if transport == "LongPolling":
        assert "LongPolling transport not supported by this end point type" in started["error"], started
    else:  # an EventSource is not told why: the client words every refused stream the same way
        assert "ServerSentEvents failed: Error: EventSource failed to connect" in started["error"], started
