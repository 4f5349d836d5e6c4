"""The fault proxy itself, against an echo server: each control does what the scenarios rely on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from tests.faults.proxy import GARBAGE, HOST, FaultProxy, text_frame


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    server = await asyncio.start_server(_echo, HOST, 0)
    try:
        async with FaultProxy(server.sockets[0].getsockname()[1]) as running:
            yield running
    finally:
        server.close()
        await server.wait_closed()


async def _open(proxy: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(HOST, proxy.port)


async def test_bytes_go_both_ways_and_connections_are_counted(proxy: FaultProxy) -> None:
    reader, writer = await _open(proxy)
    writer.write(b"hello")
    assert await asyncio.wait_for(reader.readexactly(5), 5) == b"hello"
    assert (proxy.connections, proxy.active) == (1, 1)
    writer.close()


async def test_a_cut_resets_every_connection(proxy: FaultProxy) -> None:
    pairs = [await _open(proxy) for _ in range(3)]
    for reader, writer in pairs:
        writer.write(b"x")
        await reader.readexactly(1)
    assert proxy.cut() == 3
    for reader, _ in pairs:
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(reader.readexactly(1), 5)
    assert proxy.active == 0


async def test_a_stall_holds_bytes_without_closing_and_resuming_delivers_them(proxy: FaultProxy) -> None:
    reader, writer = await _open(proxy)
    proxy.stall(True)
    writer.write(b"held")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readexactly(4), 0.5)
    assert proxy.active == 1
    proxy.stall(False)
    assert await asyncio.wait_for(reader.readexactly(4), 5) == b"held"
    writer.close()


async def test_refused_connections_are_closed_at_once_then_accepted_again(proxy: FaultProxy) -> None:
    proxy.refuse(True)
    reader, writer = await _open(proxy)
    writer.write(b"x")
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        await asyncio.wait_for(reader.readexactly(1), 5)
    assert proxy.refused == 1
    proxy.refuse(False)
    reader, writer = await _open(proxy)
    writer.write(b"y")
    assert await asyncio.wait_for(reader.readexactly(1), 5) == b"y"
    writer.close()


async def test_slow_trickles_at_about_the_rate_asked(proxy: FaultProxy) -> None:
    proxy.slow(2000)
    reader, writer = await _open(proxy)
    started = time.monotonic()
    writer.write(b"z" * 1000)
    assert await asyncio.wait_for(reader.readexactly(1000), 10) == b"z" * 1000
    elapsed = time.monotonic() - started
    assert elapsed >= 0.4, f"1000 bytes at 2000 B/s each way took only {elapsed:.2f} s"
    proxy.slow(None)
    with pytest.raises(ValueError, match="positive"):
        proxy.slow(0)
    writer.close()


class _FakeHub:
    """Answers one HTTP request per connection: ``101`` when it asks for a WebSocket upgrade, ``200`` otherwise;
    the test then writes whatever it likes as the server."""

    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            status = b"101 Switching Protocols" if b"Upgrade: websocket" in head else b"200 OK"
            writer.write(b"HTTP/1.1 " + status + b"\r\n\r\n")
            self.writers.append(writer)
            await reader.read()  # until the client goes
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def hub_proxy() -> AsyncIterator[tuple[FaultProxy, _FakeHub]]:
    hub = _FakeHub()
    server = await asyncio.start_server(hub.handle, HOST, 0)
    try:
        async with FaultProxy(server.sockets[0].getsockname()[1]) as running:
            yield running, hub
    finally:
        server.close()
        await server.wait_closed()


async def _request(
    proxy: FaultProxy, hub: _FakeHub, *, upgrade: bool
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await _open(proxy)
    writer.write(b"GET /hub HTTP/1.1\r\n" + (b"Upgrade: websocket\r\n" if upgrade else b"") + b"\r\n")
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return reader, writer


async def _server_sends(hub: _FakeHub, index: int, data: bytes) -> None:
    hub.writers[index].write(data)
    await hub.writers[index].drain()


async def test_corrupt_flip_inverts_the_next_websocket_bytes_once_and_spares_plain_http(hub_proxy) -> None:
    proxy, hub = hub_proxy
    plain_reader, plain = await _request(proxy, hub, upgrade=False)
    ws_reader, ws = await _request(proxy, hub, upgrade=True)
    assert proxy.websockets == 1
    await _server_sends(hub, 1, text_frame(b"before"))
    assert await asyncio.wait_for(ws_reader.readexactly(8), 5) == text_frame(b"before")

    proxy.corrupt("flip")
    await _server_sends(hub, 0, b"plain bytes")
    assert await asyncio.wait_for(plain_reader.readexactly(11), 5) == b"plain bytes"
    assert proxy.corruptions == [], "a plain HTTP connection was garbled"
    await _server_sends(hub, 1, text_frame(b"during"))
    assert await asyncio.wait_for(ws_reader.readexactly(8), 5) == bytes(b ^ 0xFF for b in text_frame(b"during"))
    assert len(proxy.corruptions) == 1
    await _server_sends(hub, 1, text_frame(b"after"))
    assert await asyncio.wait_for(ws_reader.readexactly(7), 5) == text_frame(b"after"), "garbled more than once"
    with pytest.raises(ValueError, match="flip"):
        proxy.corrupt("shuffle")  # type: ignore[arg-type]
    plain.close()
    ws.close()


async def test_corrupt_frame_slips_garbage_in_between_two_frames_never_inside_one(hub_proxy) -> None:
    proxy, hub = hub_proxy
    reader, writer = await _request(proxy, hub, upgrade=True)
    long = text_frame(b"x" * 300)  # a 2-byte extended length
    await _server_sends(hub, 0, long[:3])  # a frame cut in the middle of its header ...
    assert await asyncio.wait_for(reader.readexactly(3), 5) == long[:3]
    proxy.corrupt("frame")
    await _server_sends(hub, 0, long[3:100])  # ... and in the middle of its payload: no place for garbage
    assert await asyncio.wait_for(reader.readexactly(97), 5) == long[3:100]
    await _server_sends(hub, 0, long[100:])
    assert await asyncio.wait_for(reader.readexactly(len(long) - 100), 5) == long[100:]
    assert proxy.corruptions == []
    await _server_sends(hub, 0, text_frame(b"next"))  # the first frame edge: the garbage goes before this one
    expected = text_frame(GARBAGE) + text_frame(b"next")
    assert await asyncio.wait_for(reader.readexactly(len(expected)), 5) == expected
    assert len(proxy.corruptions) == 1
    writer.close()
