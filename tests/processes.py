"""A local Conduit in a process of its own, for tests that kill it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def spawn(port: int, key: str, data_dir: Path, speed: float = 100, *extra: str) -> subprocess.Popen[bytes]:
    """Start `conduit-widget serve` without waiting for it to answer."""
    cmd = [sys.executable, "-m", "conduit_widget.cli", "serve", "--port", str(port), "--speed", str(speed)]
    cmd += ["--data-dir", str(data_dir), *extra]
    return subprocess.Popen(cmd, env={**os.environ, "CONDUIT_API_KEY": key}, stdout=subprocess.DEVNULL)


def serve(port: int, key: str, data_dir: Path, speed: float = 100, *extra: str) -> subprocess.Popen[bytes]:
    """Start `conduit-widget serve` and return once it answers."""
    process = spawn(port, key, data_dir, speed, *extra)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the server did not come up")


def kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()  # SIGKILL: no shutdown code runs
    process.wait()
