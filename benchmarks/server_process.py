"""The local Conduit in a process of its own (``python -m benchmarks.bench_server``), so that the client being
measured and the server do not share an event loop or a core, and helpers for its benchmark routes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from benchmarks.bench_routes import BURST_ROUTE, FANOUT_ROUTE, PACED_ROUTE, STATS_ROUTE
from conduit_widget import protocol
from conduit_widget.server import generate_key

REPO = Path(__file__).resolve().parents[1]
FULL_SPEED = 1_000_000.0  # every pacing delay divided by this: tasks run as fast as the server can
HANG_MODEL = protocol.TEST_HANG_MODEL  # stops at half way and stays "processing": only bench events follow


class ServerProcess:
    """``async with ServerProcess() as server:``: started, answering, stopped (SIGTERM) afterwards."""

    def __init__(self, *, speed: float = FULL_SPEED) -> None:
        self.speed = speed
        self.api_key = generate_key()
        self.base_url = ""
        self.pid = 0
        self._process: asyncio.subprocess.Process | None = None
        self._data = tempfile.TemporaryDirectory(prefix="conduit-bench-")
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        assert self._http is not None, "the server is not started"
        return self._http

    async def __aenter__(self) -> Self:
        command = [sys.executable, "-m", "benchmarks.bench_server", "--port", "0"]
        command += ["--speed", str(self.speed), "--data-dir", self._data.name]
        # Started outside the checkout, so that PYTHONPATH decides which conduit_widget runs (see run.py); the
        # benchmarks themselves are found through REPO, put on PYTHONPATH after whatever it already names.
        path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH", ""), str(REPO)) if p)
        self._process = await asyncio.create_subprocess_exec(
            *command,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "CONDUIT_API_KEY": self.api_key, "PYTHONPATH": path},
            cwd=self._data.name,
        )
        assert self._process.stdout is not None
        async with asyncio.timeout(30):
            while not self.base_url:
                line = (await self._process.stdout.readline()).decode()
                if not line:
                    raise RuntimeError("the benchmark server ended before it listened")
                if "listening on " in line:
                    self.base_url = line.rsplit("listening on ", 1)[1].strip()
        self.pid = self._process.pid
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=600
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), 10)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        with contextlib.suppress(OSError):
            self._data.cleanup()

    def hub_url(self, kind: protocol.Kind = "image") -> str:
        return self.base_url + protocol.HUB_PATHS[kind]

    # -- REST and the benchmark routes ---------------------------------------------------------

    async def create_task(self, model: str = HANG_MODEL) -> str:
        """A new image task; with the default model it hangs at half way, so only bench events follow."""
        answer = await self.http.post(protocol.IMAGE_CREATE, json={"prompt": "bench", "model": model, "size": "64x64"})
        return str(answer.raise_for_status().json()["task_id"])

    async def burst(self, task_ids: str | list[str], count: int, per_frame: int = 1) -> dict[str, Any]:
        key = "task_id" if isinstance(task_ids, str) else "task_ids"
        answer = await self.http.post(BURST_ROUTE, json={key: task_ids, "count": count, "per_frame": per_frame})
        return dict(answer.raise_for_status().json())

    async def paced(self, task_ids: list[str], count: int, rate: float) -> dict[str, Any]:
        answer = await self.http.post(PACED_ROUTE, json={"task_ids": task_ids, "count": count, "rate": rate})
        return dict(answer.raise_for_status().json())

    async def fanout(self, task_id: str, count: int) -> dict[str, Any]:
        answer = await self.http.post(FANOUT_ROUTE, json={"task_id": task_id, "count": count})
        return dict(answer.raise_for_status().json())

    async def stats(self) -> dict[str, Any]:
        return dict((await self.http.get(STATS_ROUTE)).raise_for_status().json())
