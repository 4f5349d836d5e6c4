"""What widgets share when the user gives them no client: one ConduitClient per event loop, and its models.

One client means one connection per hub and one watchdog for every widget in the notebook, and, with nothing
configured, one in-process local Conduit.
"""

from __future__ import annotations

import weakref

from conduit_widget.client import ConduitClient
from conduit_widget.client.per_loop import PerLoop
from conduit_widget.protocol import Kind

_clients: PerLoop[ConduitClient] = PerLoop()
# By the client itself, weakly: keyed by id() it kept every client's list for good, and a later client that
# happened to get a freed one's id was handed that client's list, from whatever server it was.
_models: weakref.WeakKeyDictionary[ConduitClient, list[dict[str, str]]] = weakref.WeakKeyDictionary()


def default_client() -> ConduitClient:
    """The event loop's shared client, configured from CONDUIT_* (or the local Conduit)."""
    client = _clients.get()
    if client is None or client.closed:
        client = _clients.set(ConduitClient())
    return client


async def models_of(client: ConduitClient) -> list[dict[str, str]]:
    """``[{"id", "type"}]`` for a model picker, asked of the server once per client: a model that makes both kinds
    is listed for each, and one that makes neither (a chat model) not at all."""
    cached = _models.get(client)
    if cached is None:
        kinds: tuple[Kind, ...] = ("image", "video")
        cached = _models[client] = [
            {"id": model_id, "type": kind} for kind in kinds for model_id in await client.generation_models(kind)
        ]
    return cached
