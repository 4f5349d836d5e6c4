"""Blocking one-call helpers for scripts: ``conduit_widget.generate_image("a fox")``."""

from __future__ import annotations

import asyncio
from typing import Any

from conduit_widget.client.errors import ConduitError
from conduit_widget.client.models import TaskResult


class RunningLoopError(ConduitError, RuntimeError):
    """A blocking helper was called where an event loop is running (a notebook cell)."""


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
    return asyncio.run(_generate(kind, prompt, timeout, options))


async def _generate(kind: str, prompt: str, timeout: float | None, options: dict[str, Any]) -> TaskResult:
    from conduit_widget.client.client import ConduitClient

    client_options = {k: options.pop(k) for k in ("base_url", "api_key") if k in options}
    async with ConduitClient(**client_options) as client:
        create = client.generate_image if kind == "image" else client.generate_video
        task = await create(prompt, **options)
        return await task.wait(timeout)


def generate_image(prompt: str, *, timeout: float | None = None, **options: Any) -> TaskResult:
    """Generate an image and wait for it (outside an event loop). Options as `ConduitClient.generate_image`,
    plus ``base_url`` and ``api_key``."""
    return _run("generate_image", "image", prompt, timeout, options)


def generate_video(prompt: str, *, timeout: float | None = None, **options: Any) -> TaskResult:
    """Generate a video and wait for it (outside an event loop). Options as `ConduitClient.generate_video`,
    plus ``base_url`` and ``api_key``."""
    return _run("generate_video", "video", prompt, timeout, options)
