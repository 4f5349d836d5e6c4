"""A real Jupyter kernel (ipykernel, started with jupyter_client) for the widget measurements: what reaches
IOPub is what a browser would get, and a cell sent while widgets are busy shows whether the notebook still
answers. The kernel runs this interpreter, with `CONDUIT_BASE_URL`/`CONDUIT_API_KEY` pointing at the
benchmark's server, so widgets made without a client use the shared default one, as in a notebook."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from jupyter_client.manager import AsyncKernelManager

REPO: Final = Path(__file__).resolve().parents[1]
RESULT_MARK: Final = "BENCH-RESULT "
_ANSI: Final = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks


@dataclass
class CommUpdate:
    """One ``comm_msg`` a widget sent to the front end: when it reached us, and what state it carried."""

    at: float  # time.monotonic(), comparable with the kernel's (one system-wide clock)
    comm_id: str
    state: dict[str, Any]


@dataclass
class Reply:
    output: str
    seconds: float  # execute_request sent to execute_reply received
    status: str
    error: str = ""
    result: Any = field(default=None)


class Kernel:
    """``async with Kernel(base_url, key) as kernel: reply = await kernel.run("code")``."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self._cwd = tempfile.TemporaryDirectory(prefix="conduit-bench-kernel-")
        # The kernel's stderr (a warning about TCP without encryption, on loopback) goes to a file, read on failure.
        self._stderr = open(Path(self._cwd.name) / "kernel.stderr", "wb")  # noqa: SIM115 (closed in __aexit__)
        self._env = {**os.environ, "CONDUIT_BASE_URL": base_url, "CONDUIT_API_KEY": api_key}
        self._manager = AsyncKernelManager(kernel_name="python3")
        self._client: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._output: dict[str, list[str]] = defaultdict(list)
        self._errors: dict[str, str] = {}
        self._idle: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.updates: list[CommUpdate] = []

    async def __aenter__(self) -> Self:
        # Started outside the checkout, so that `conduit_widget` is whichever one PYTHONPATH names first (the
        # baseline run points it at an older tree); the benchmarks themselves are found through REPO.
        await self._manager.start_kernel(env=self._env, cwd=self._cwd.name, stderr=self._stderr)
        self._client = self._manager.client()
        self._client.start_channels()
        await self._client.wait_for_ready(timeout=60)
        self._reader = asyncio.create_task(self._read_iopub())
        await self.run(
            "import asyncio, importlib.util, json, sys\n"
            f"if importlib.util.find_spec('benchmarks') is None: sys.path.append({str(REPO)!r})"
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._client is not None:
            self._client.stop_channels()
        await self._manager.shutdown_kernel(now=True)
        self._stderr.close()
        self._cwd.cleanup()

    async def _read_iopub(self) -> None:
        while True:
            msg = await self._client.get_iopub_msg()
            now = time.monotonic()
            kind, content = msg["msg_type"], msg["content"]
            parent = msg["parent_header"].get("msg_id", "")
            if kind == "comm_msg" and content.get("data", {}).get("method") == "update":
                self.updates.append(CommUpdate(now, content["comm_id"], content["data"].get("state", {})))
            elif kind == "stream":
                self._output[parent].append(content.get("text", ""))
            elif kind == "error":
                text = "\n".join(content.get("traceback", [])) or content.get("evalue", "")
                self._errors[parent] = _ANSI.sub("", text)
            elif kind == "status" and content.get("execution_state") == "idle":
                self._idle[parent].set()

    async def run(self, code: str, timeout: float = 600) -> Reply:
        """Execute a cell; its printed output, and how long until the kernel replied."""
        started = time.monotonic()
        msg_id = self._client.execute(code, store_history=False)
        async with asyncio.timeout(timeout):
            while True:
                reply = await self._client.get_shell_msg()
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            seconds = time.monotonic() - started
            await self._idle[msg_id].wait()  # every output of the cell has arrived
        output = "".join(self._output.pop(msg_id, []))
        self._idle.pop(msg_id, None)
        outcome = Reply(output, seconds, reply["content"]["status"], self._errors.pop(msg_id, ""))
        for line in output.splitlines():
            if line.startswith(RESULT_MARK):
                outcome.result = json.loads(line[len(RESULT_MARK) :])
        return outcome

    async def call(self, expression: str, timeout: float = 600) -> Any:
        """Await `expression` (a coroutine call into benchmarks.in_kernel) in the kernel; its JSON result."""
        code = f"from benchmarks import in_kernel\nprint({RESULT_MARK!r} + json.dumps(await {expression}))"
        reply = await self.run(code, timeout)
        if reply.status != "ok" or reply.result is None:
            stderr = (Path(self._cwd.name) / "kernel.stderr").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{expression} failed in the kernel: {reply.error or reply.output}\n{stderr}")
        return reply.result
