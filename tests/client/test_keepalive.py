"""How the hub link finds a dead connection: its own WebSocket ping when quiet, and the SignalR server timeout.

The stall that these guard against (a network that stops forwarding without closing anything) is played
by the fault suite's proxy (``tests/faults``); here the server is healthy and quiet, to show the guards do
not fire on a live connection and that the server timeout does fire on silence alone.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from conduit_widget import ConduitClient, ConfigurationError, Keepalive
from conduit_widget.server import LocalConduit


async def _link_up(client: ConduitClient) -> None:
    task = await client.generate_image("open the hub", size="64x64")
    await task.wait(20)


async def test_a_quiet_live_connection_answers_the_pings_and_stays_up():
    # The server's own keepalive is 30 s, so for 2 s the only traffic is the link's pings and their pongs.
    async with LocalConduit(speed=100, keepalive_interval=30) as server:
        keepalive = Keepalive(ping_interval=0.2, ping_timeout=1.0)
        async with ConduitClient(server.base_url, server.api_key, keepalive=keepalive) as client:
            drops: list[object] = []
            client.on("reconnecting", drops.append)
            await _link_up(client)
            await asyncio.sleep(2.0)
            assert drops == []
            assert client.connection_state("image") == "connected"
            assert client.stats()["links"]["image"]["connections_made"] == 1


async def test_silence_longer_than_the_server_timeout_drops_and_reopens_the_connection():
    async with LocalConduit(speed=100, keepalive_interval=30) as server:
        keepalive = Keepalive(ping_interval=30, server_timeout=0.6)
        async with ConduitClient(server.base_url, server.api_key, keepalive=keepalive) as client:
            reasons: list[str | None] = []
            back = asyncio.Event()
            client.on("reconnecting", lambda event: reasons.append(event.error))
            client.on("reconnected", lambda event: back.set())
            await _link_up(client)
            await asyncio.wait_for(back.wait(), 5)
            assert reasons and "no message from the image hub" in str(reasons[0])
            # Nothing is lost over the new connection.
            assert (await (await client.generate_image("after", size="64x64")).wait(20)).ok


@pytest.mark.parametrize("field", ["ping_interval", "ping_timeout", "server_timeout"])
@pytest.mark.parametrize("value", [0, -1.0, float("nan"), "5", True])
def test_a_bad_keepalive_names_the_field(field, value):
    with pytest.raises(ConfigurationError, match=field):
        Keepalive(**{field: value})


def test_the_client_refuses_a_keepalive_that_is_not_one():
    with pytest.raises(ConfigurationError, match="keepalive must be a Keepalive"):
        ConduitClient("http://127.0.0.1:1", "condt_x", keepalive=5)  # type: ignore[arg-type]


async def test_a_blocked_event_loop_is_not_mistaken_for_a_dead_server():
    # A notebook cell that runs synchronously for longer than the server timeout: the hub kept sending (its
    # keepalive is 0.2 s) but nothing could be read meanwhile.
    async with LocalConduit(speed=100, keepalive_interval=0.2) as server:
        keepalive = Keepalive(ping_interval=30, server_timeout=0.6)
        async with ConduitClient(server.base_url, server.api_key, keepalive=keepalive) as client:
            drops: list[object] = []
            client.on("reconnecting", drops.append)
            await _link_up(client)
            time.sleep(1.5)  # noqa: ASYNC251 - the point: a cell that blocks the kernel's loop
            await asyncio.sleep(1.0)
            assert drops == []
            assert client.stats()["links"]["image"]["connections_made"] == 1
