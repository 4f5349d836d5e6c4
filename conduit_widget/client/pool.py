"""`POOL`: the hub links of this process, shared by every client on one event loop (the seed's connection pool)."""

from __future__ import annotations

from typing import Any, Final

from conduit_widget.client.per_loop import PerLoop
from conduit_widget.client.realtime import HubLink, HubProtocol
from conduit_widget.client.secret import Secret
from conduit_widget.protocol import Kind

_Key = tuple[str, Secret, Kind, HubProtocol]


class ConnectionPool:
    """Hub links shared by every client on one event loop with the same Conduit, key, hub and protocol;
    counted, and closed when the last user lets go (the seed's connection pool)."""

    def __init__(self) -> None:
        self._links: PerLoop[dict[_Key, HubLink]] = PerLoop()

    def acquire(self, base_url: str, api_key: Secret, kind: Kind, hub_protocol: HubProtocol, **options: Any) -> HubLink:
        links = self._links.setdefault(dict)
        key = (base_url.rstrip("/"), api_key, kind, hub_protocol)
        link = links.get(key)
        if link is None:
            link = links[key] = HubLink(base_url, api_key, kind, hub_protocol=hub_protocol, **options)
            link.start()
        link.refs += 1
        return link

    async def release(self, link: HubLink) -> None:
        link.refs -= 1
        if link.refs > 0:
            return
        links = self._links.get() or {}
        for key, value in list(links.items()):
            if value is link:
                del links[key]
        await link.close()

    def links(self) -> list[HubLink]:
        """Every loop's links."""
        return [link for links in self._links.values() for link in links.values()]


POOL: Final = ConnectionPool()
