"""Blocking one-call helpers for scripts: ``conduit_widget.generate_image("a fox")``.

They run on one background event loop for the whole process (a daemon thread, started on first use), never on an
``asyncio.run`` of their own: the local Conduit a helper starts lives on that loop and is held until the process
exits, so the ``image_url`` of a result it returned still answers after the call, as the result's own ``save`` does.
A result comes back with its media in ``TaskResult.media`` (each at most `MAX_DOWNLOAD_BYTES`, the client's
download bound), so it can be saved even after the gateway's URL expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from conduit_widget.client import inputs, local_conduit
from conduit_widget.client.errors import ConduitError
from conduit_widget.client.models import TaskResult

if TYPE_CHECKING:
    from conduit_widget.client.client import ConduitClient

T = TypeVar("T")


class RunningLoopError(ConduitError, RuntimeError):
    """A blocking helper was called where an event loop is running (a notebook cell)."""


class _Background:
    """The process's loop for blocking calls, in a daemon thread; stopped at exit, its local Conduit with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._holds_local = False  # whether this loop holds a reference to its local Conduit until exit

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._started())
        try:
            return future.result()
        except BaseException:
            future.cancel()  # Ctrl-C in the caller: the generation it started is cancelled, not left running
            raise

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                # Its own pool, stopped with the loop: the server's file responses close their files in it.
                loop.set_default_executor(ThreadPoolExecutor(thread_name_prefix="conduit-widget-blocking"))
                threading.Thread(target=loop.run_forever, name="conduit-widget-blocking", daemon=True).start()
                self._loop = loop
                # Before the interpreter's thread pools are shut down (which threading's exit hooks do, newest
                # first, before atexit's): the server's last file responses still close their files in them.
                threading._register_atexit(self.stop)  # type: ignore[attr-defined]
            return self._loop

    async def hold_local(self) -> None:
        """Keep the loop's local Conduit up after its client closes: the results it served stay readable."""
        if not self._holds_local:
            await local_conduit.acquire()
            self._holds_local = True

    def stop(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None:
            return
        if self._holds_local:
            self._holds_local = False
            with contextlib.suppress(Exception):  # at exit, a server that will not stop must not hang the process
                asyncio.run_coroutine_threadsafe(local_conduit.release(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)


_BACKGROUND = _Background()


def _run(name: str, kind: str, prompt: str, timeout: float | None, options: dict[str, Any]) -> TaskResult:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RunningLoopError(
            f"{name}() waits for the result, which would freeze this event loop (in a notebook: the kernel). "
            f"Use the async form instead: `async with ConduitClient() as client: task = await "
            f"client.{name}(...)`, then `await task.wait()` -- or a GenerationWidget."
        )
    from conduit_widget.client.client import ConduitClient

    # Every argument is checked before anything starts (a local Conduit, a loop): a mistake costs nothing.
    inputs.seconds("timeout", timeout, optional=True, zero=True)
    client_options = {k: options.pop(k) for k in ("base_url", "api_key") if k in options}
    inputs.request(kind, prompt, options.get("model"), {k: v for k, v in options.items() if k != "model"})
    client = ConduitClient(**client_options)
    return _BACKGROUND.run(_generate(client, kind, prompt, timeout, options))


async def _generate(
    client: ConduitClient, kind: str, prompt: str, timeout: float | None, options: dict[str, Any]
) -> TaskResult:
    async with client:
        if client.is_local:
            await _BACKGROUND.hold_local()
        create = client.generate_image if kind == "image" else client.generate_video
        task = await create(prompt, **options)
        result = await task.wait(timeout)
        if not result.ok:
            return result
        try:
            media = tuple([await client.download(url) for url in result.urls])
        except ConduitError:
            # The task succeeded: its result (task id, URLs) is worth more than the bytes. `save` fetches them
            # later, and says then why it cannot.
            return result
        return dataclasses.replace(result, media=media)


def generate_image(prompt: str, *, timeout: float | None = None, **options: Any) -> TaskResult:
    """Generate an image and wait for it (outside an event loop). Options as `ConduitClient.generate_image`,
    plus ``base_url`` and ``api_key``. The result carries its media: ``result.save("fox.png")``."""
    return _run("generate_image", "image", prompt, timeout, options)


def generate_video(prompt: str, *, timeout: float | None = None, **options: Any) -> TaskResult:
    """Generate a video and wait for it (outside an event loop). Options as `ConduitClient.generate_video`,
    plus ``base_url`` and ``api_key``. The result carries its media: ``result.save("waves.mp4")``."""
    return _run("generate_video", "video", prompt, timeout, options)
