"""`POOL`: the hub links of this process, shared by every client on one event loop (the seed's connection pool)."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from conduit_widget.client.realtime import HubLink, HubProtocol
from conduit_widget.client.secret import Secret
from conduit_widget.protocol import Kind


class ConnectionPool:
    """Hub links shared by every client on one event loop with the same Conduit, key, hub and protocol;
    counted, and closed when the last user lets go (the seed's connection pool)."""

    def __init__(self) -> None:
        self._links: dict[tuple[int, str, Secret, Kind, HubProtocol], HubLink] = {}

    def acquire(self, base_url: str, api_key: Secret, kind: Kind, hub_protocol: HubProtocol, **options: Any) -> HubLink:
        key = (id(asyncio.get_running_loop()), base_url.rstrip("/"), api_key, kind, hub_protocol)
        link = self._links.get(key)
        if link is None:
            link = self._links[key] = HubLink(base_url, api_key, kind, hub_protocol=hub_protocol, **options)
            link.start()
        link.refs += 1
        return link

    async def release(self, link: HubLink) -> None:
        link.refs -= 1
        if link.refs > 0:
            return
        for key, value in list(self._links.items()):
            if value is link:
                del self._links[key]
        await link.close()

    def links(self) -> list[HubLink]:
        return list(self._links.values())


POOL: Final = ConnectionPool()
