"""Blocking one-call helpers for scripts: ``conduit_widget.generate_image("a fox")``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from conduit_widget.client import inputs
from conduit_widget.client.errors import ConduitError
from conduit_widget.client.models import TaskResult

if TYPE_CHECKING:
    from conduit_widget.client.client import ConduitClient


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
    from conduit_widget.client.client import ConduitClient

    # Every argument is checked before anything starts (a local Conduit, a loop): a mistake costs nothing.
    inputs.seconds("timeout", timeout, optional=True, zero=True)
    client_options = {k: options.pop(k) for k in ("base_url", "api_key") if k in options}
    inputs.request(kind, prompt, options.get("model"), {k: v for k, v in options.items() if k != "model"})
    client = ConduitClient(**client_options)
    return asyncio.run(_generate(client, kind, prompt, timeout, options))


async def _generate(
    client: ConduitClient, kind: str, prompt: str, timeout: float | None, options: dict[str, Any]
) -> TaskResult:
    async with client:
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
