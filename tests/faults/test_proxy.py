"""The fault proxy itself, against an echo server: each control does what the scenarios rely on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from tests.faults.proxy import HOST, FaultProxy


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
