"""One hub connection per hub, shared by every task and client in the kernel, closed with its last user."""

from __future__ import annotations

import asyncio

import pytest

from conduit_widget import ConduitClient, generate_image
from conduit_widget.client import local_conduit
from conduit_widget.client.pool import POOL
from conduit_widget.client.rest import RestClient, tls_context
from conduit_widget.client.secret import Secret
from conduit_widget.client.sync import RunningLoopError
from conduit_widget.server import LocalConduit
from conduit_widget.server.app import CONTEXT


async def test_clients_with_the_same_conduit_and_key_share_one_connection_per_hub():
    async with LocalConduit(speed=100) as server:
        clients = [ConduitClient(server.base_url, server.api_key) for _ in range(5)]
        for client in clients:
            await client.start()
        tasks = [await c.generate_image(f"shared {i}", size="64x64") for i, c in enumerate(clients)]
        tasks += [await c.generate_video("shared", size="64x64", duration=1) for c in clients[:2]]
        await asyncio.gather(*(t.wait(20) for t in tasks))
        mine = [link for link in POOL.links() if link.url.startswith(server.base_url)]
        assert sorted(link.kind for link in mine) == ["image", "video"]
        assert all(link.connections_made == 1 for link in mine)
        assert server._runner.app[CONTEXT].hubs.connection_count == 2
        for client in clients[:-1]:
            await client.aclose()
        states = {link.kind: link.state for link in mine}
        # The last client only ever followed images: the video link has lost all its users, the image one not.
        assert states == {"image": "connected", "video": "disconnected"}
        await clients[-1].aclose()
        assert all(link.state == "disconnected" for link in mine)
        assert not [link for link in POOL.links() if link.url.startswith(server.base_url)]
        await asyncio.sleep(0.1)
        assert server._runner.app[CONTEXT].hubs.connection_count == 0


async def test_different_protocols_get_different_connections(conduit):
    async with (
        ConduitClient(conduit.base_url, conduit.api_key) as json_client,
        ConduitClient(conduit.base_url, conduit.api_key, hub_protocol="messagepack") as msgpack_client,
    ):
        await (await json_client.generate_image("j", size="64x64")).wait(10)
        await (await msgpack_client.generate_image("m", size="64x64")).wait(10)
        assert json_client._follower.links["image"] is not msgpack_client._follower.links["image"]


async def test_unconfigured_clients_share_one_in_process_local_conduit(monkeypatch):
    monkeypatch.delenv("CONDUIT_BASE_URL", raising=False)
    monkeypatch.delenv("CONDUIT_API_KEY", raising=False)
    async with ConduitClient(local_speed=100) as first, ConduitClient(local_speed=100) as second:
        assert first.base_url == second.base_url
        assert first.is_local
        assert first.backend == "local simulator"
        result = await (await first.generate_image("local", size="64x64")).wait(10)
        assert result.ok
    assert not local_conduit._servers.values(), "the local Conduit outlived its last client"


def test_the_blocking_helper_works_in_a_script(monkeypatch):
    monkeypatch.delenv("CONDUIT_BASE_URL", raising=False)
    monkeypatch.delenv("CONDUIT_API_KEY", raising=False)
    monkeypatch.setenv("CONDUIT_LOCAL_SPEED", "100")
    result = generate_image("from a script", size="64x64", timeout=20)
    assert result.ok
    assert result.image_url is not None


async def test_the_blocking_helper_refuses_a_running_loop_and_says_what_to_do_instead():
    with pytest.raises(RunningLoopError, match="await") as caught:
        generate_image("in a notebook")
    assert caught.value._render_traceback_() == [f"\x1b[31mRunningLoopError\x1b[0m: {caught.value.message}"]


async def test_every_client_shares_one_tls_context_instead_of_loading_the_ca_bundle_again():
    clients = [RestClient("https://conduit.example.com", Secret("condt_" + "t" * 20)) for _ in range(3)]
    try:
        contexts = {id(client._http._transport._pool._ssl_context) for client in clients}
        assert contexts == {id(tls_context())}
    finally:
        for client in clients:
            await client.aclose()
