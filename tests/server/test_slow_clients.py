"""The local Conduit stays up while clients hold connections open: Kestrel's request-headers timeout and body
data rate, the cap on connections per address, and the cap on renders at once (issue 17).

The 2,000 slow clients run against a server in a process of its own, so that its memory and file descriptors are
measured apart from pytest's."""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conduit_widget.server import LocalConduit, generate_key
from conduit_widget.server.config import ConnectionLimits
from tests.processes import free_port
from tests.server.helpers import client, create_video, wait_video

STAYS_UP = pytest.mark.security("the local Conduit stays up under slow, held and flooding connections")
ROOT = Path(__file__).resolve().parents[2]
HEADERS_TIMEOUT = 2.0
PARTIAL_REQUEST = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "  # and never the end of the headers


def _proc_status(pid: int, field: str) -> int:
    """A /proc/<pid>/status figure in KiB (VmRSS now, VmHWM the peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@contextlib.contextmanager
def _limited_server(per_address: int, max_renders: int = 2, speed: float = 100) -> Iterator[tuple[str, int]]:
    """(base URL, pid) of `tests.server.limited_server` with the short header timeout."""
    port, key = free_port(), generate_key()
    args = [str(port), key, str(HEADERS_TIMEOUT), str(per_address), str(max_renders), str(speed)]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.server.limited_server", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.kill()
        process.wait()


def _hold(base_url: str, count: int) -> list[tuple[socket.socket, float]]:
    """`count` connections that each send part of a request's headers and stall: (socket, when it began)."""
    host, port = base_url.removeprefix("http://").split(":")
    held = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(PARTIAL_REQUEST)
        held.append((sock, time.monotonic()))
    return held


def _endings(held: list[tuple[socket.socket, float]], deadline: float) -> dict[socket.socket, tuple[float, bytes]]:
    """When each held socket saw the server end it (EOF or reset), and what the server said first, until
    `deadline`."""
    selector = selectors.DefaultSelector()
    for sock, _ in held:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, b"")
    ended: dict[socket.socket, tuple[float, bytes]] = {}
    while len(ended) < len(held) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.2):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                data = b""
            if data:
                selector.modify(sock, selectors.EVENT_READ, key.data + data)
                continue
            ended[sock] = (time.monotonic(), key.data)
            selector.unregister(sock)
    selector.close()
    return ended


@STAYS_UP
def test_two_thousand_slow_header_clients_neither_block_a_request_nor_outlive_the_header_timeout():
    with _limited_server(per_address=4096) as (base_url, pid):
        time.sleep(0.5)  # settled: imports done, first requests served
        httpx.get(base_url + "/health", timeout=5).raise_for_status()
        rss_before = _proc_status(pid, "VmRSS")
        held = _hold(base_url, 2000)
        try:
            for _ in range(3):  # while every one of them is held
                started = time.monotonic()
                response = httpx.get(base_url + "/health", timeout=5)
                assert response.status_code == 200
                assert time.monotonic() - started < 1.0
            margin = 2.0
            ended = _endings(held, deadline=held[-1][1] + HEADERS_TIMEOUT + margin)
            peak_rss = _proc_status(pid, "VmHWM")
        finally:
            for sock, _ in held:
                sock.close()
        began = dict(held)
        assert len(ended) == len(held), f"{len(held) - len(ended)} connections still held past the header timeout"
        waited = [at - began[sock] for sock, (at, _) in ended.items()]
        assert min(waited) >= HEADERS_TIMEOUT * 0.9  # the header timeout ended them, not anything sooner
        assert max(waited) <= HEADERS_TIMEOUT + margin
        # As Kestrel answers a request-headers timeout: 408, then the connection's end.
        assert all(said.startswith(b"HTTP/1.1 408 Request Timeout\r\n") for _, said in ended.values())
        # 2,000 connections and their timers are small: no more than 100 MiB over the idle server, at the peak.
        assert (peak_rss - rss_before) / 1024 < 100


@STAYS_UP
def test_the_cap_per_address_evicts_the_oldest_slow_connections_and_never_a_newcomer():
    with _limited_server(per_address=64) as (base_url, pid):
        fds_idle = _open_fds(pid)
        held = _hold(base_url, 400)
        try:
            time.sleep(0.5)
            # The server holds at most the cap's connections of this address, whatever the flood.
            assert _open_fds(pid) <= fds_idle + 64 + 2
            started = time.monotonic()
            assert httpx.get(base_url + "/health", timeout=5).status_code == 200
            assert time.monotonic() - started < 1.0
            ended = _endings(held, deadline=time.monotonic() + 0.5)
        finally:
            for sock, _ in held:
                sock.close()
        # The oldest went first: those still open are all among the newest.
        still_open = [sock for sock, _ in held if sock not in ended]
        assert 0 < len(still_open) <= 64
        newest = {sock for sock, _ in held[-65:]}
        assert set(still_open) <= newest


@STAYS_UP
def test_a_body_slower_than_the_minimum_data_rate_gets_408_after_its_grace():
    limits = ConnectionLimits(min_body_rate=240, body_rate_grace=1.0)
    with LocalConduit(speed=100, limits=limits) as server:
        host, port = server.base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            head = (
                "POST /v1/images/generations/async HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {server.api_key}\r\nContent-Length: 100000\r\n\r\n"
            )
            sock.sendall(head.encode() + b'{"prompt": "a fox",')
            started = time.monotonic()
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
            waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert 1.0 <= waited < 4.0
        assert server.tasks() == []


@STAYS_UP
def test_a_flood_of_large_video_creates_renders_two_at_once_in_bounded_memory():
    # In this process, to read the server's task records; its peak RSS is reset first, so the peak is the flood's.
    # Six 1024x1024 clips rendered at once took this server from 78 to 705 MiB; two at a time, to 323.
    with LocalConduit(speed=50, max_renders=2) as server, client(server) as http:
        wait_video(http, create_video(http))  # media stack loaded
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        rss_before = _proc_status(os.getpid(), "VmRSS")
        ids = [create_video(http, size="1024x1024", duration=2, prompt=f"waves {i}") for i in range(6)]
        time.sleep(0.5)
        states = [http.get(f"/v1/videos/generations/tasks/{task_id}").json()["status"] for task_id in ids]
        assert states.count("pending") >= 3  # queued behind the two renders, as behind a provider's queue
        for task_id in ids:
            assert wait_video(http, task_id, timeout=120)["status"] == "completed"
        peak_rss = _proc_status(os.getpid(), "VmHWM")
        records = [r for r in server.tasks() if r.id in ids]
    spans = [(r.started_at, r.completed_at) for r in records if r.started_at and r.completed_at]
    assert len(spans) == 6
    # A task's started..completed is when it held a render slot: never more than two of them overlap.
    assert max(sum(1 for start, end in spans if start <= moment < end) for moment, _ in spans) == 2
    assert (peak_rss - rss_before) / 1024 < 400
