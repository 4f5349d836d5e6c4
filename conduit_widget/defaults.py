"""What widgets share when the user gives them no client: one ConduitClient per event loop, and its models.

One client means one connection per hub and one watchdog for every widget in the notebook, and, with nothing
configured, one in-process local Conduit.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from conduit_widget.client import ConduitClient

_clients: dict[int, ConduitClient] = {}
# By the client itself, weakly: keyed by id() it kept every client's list for good, and a later client that
# happened to get a freed one's id was handed that client's list, from whatever server it was.
_models: weakref.WeakKeyDictionary[ConduitClient, list[dict[str, str]]] = weakref.WeakKeyDictionary()


def default_client() -> ConduitClient:
    """The event loop's shared client, configured from CONDUIT_* (or the local Conduit)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None or client._closed:
        client = _clients[id(loop)] = ConduitClient()
    return client


async def models_of(client: ConduitClient) -> list[dict[str, str]]:
    """``[{"id", "type"}]`` for a model picker, asked of the server once per client."""
    cached = _models.get(client)
    if cached is None:
        cached = _models[client] = [_entry(m) for m in await client.models() if isinstance(m.get("id"), str)]
    return cached


def _entry(model: dict[str, Any]) -> dict[str, str]:
    kind = model.get("type")
    if kind not in ("image", "video"):
        # A real Conduit's list does not say; a name that mentions video is the best hint there is.
        kind = "video" if "video" in model["id"].lower() else "image"
    return {"id": model["id"], "type": kind}
