"""Which seed a result was made with, as far as the client can know it: the one rule for it.

A video request has a seed member (`int? Seed`), which every Conduit passes to the provider. An image request has
none: the seed binds into `[JsonExtensionData]` without a word on every version, and only the Gateway passes that on
to the provider; knnlabs/Conduit at 7c3fd76a copies the named members into its event and drops it
(docs/compatibility.md, "an image `seed`"). Neither server says which seed it used, so where one was sent and
could not have been used, the answer is a note instead of a number: a result never claims a seed it did not have.
A server that reports the seed in the result's metadata (the JS client documentation's events) is believed.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from conduit_widget.client.rest import Routes
from conduit_widget.protocol import Kind

NOT_PASSED_ON: Final = "seed not supported for images by this server"


class SeedUse(NamedTuple):
    seed: int | None  # the seed the result was made with, where it is known
    note: str  # why a seed that was asked for is not shown ("" when it is, or none was asked for)


def reaches_provider(kind: Kind, routes: Routes) -> bool:
    """Whether a seed sent with a `kind` task reaches the provider, on a server with these `routes` (known once a
    task was created: the Gateway's are "successor")."""
    return kind == "video" or routes == "successor"


def seed_use(kind: Kind, sent: Any, metadata: dict[str, Any], routes: Routes) -> SeedUse:
    reported = metadata.get("seed")
    if isinstance(reported, int) and not isinstance(reported, bool):
        return SeedUse(reported, "")
    if not isinstance(sent, int) or isinstance(sent, bool):
        return SeedUse(None, "")
    if reaches_provider(kind, routes):
        return SeedUse(sent, "")
    return SeedUse(None, NOT_PASSED_ON)
