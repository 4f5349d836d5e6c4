"""Hub protocol edge cases no well-behaved client produces, sent over a raw WebSocket."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import aiohttp
import msgpack
import pytest

from conduit_widget.server import LocalConduit
from conduit_widget.server.hub.codec import JsonCodec, MessagePackCodec

RS = "\x1e"


def frames(text: str) -> list[dict]:
    return [json.loads(part) for part in text.split(RS) if part]


@contextlib.asynccontextmanager
async def raw(
    server: LocalConduit, query: str = "", handshake: bool = True
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    url = f"{server.base_url}/hubs/image-generation?access_token={server.api_key}{query}"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        if handshake:
            await ws.send_str('{"protocol":"json","version":1}' + RS)
            assert (await ws.receive_str(timeout=5)) == "{}" + RS
        yield ws


async def receive_until(ws: aiohttp.ClientWebSocketResponse, kind: int) -> dict:
    while True:
        for message in frames(await ws.receive_str(timeout=5)):
            if message["type"] == kind:
                return message


async def test_negotiate_v1_hands_out_a_secret_token_and_v0_does_not(conduit):
    headers = {"Authorization": f"Bearer {conduit.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        url = conduit.base_url + "/hubs/image-generation/negotiate"
        async with session.post(url + "?negotiateVersion=1") as response:
            v1 = await response.json()
        async with session.post(url) as response:
            v0 = await response.json()
    assert v1["negotiateVersion"] == 1
    assert v1["connectionToken"] != v1["connectionId"]
    assert v1["availableTransports"] == [{"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}]
    assert v0["negotiateVersion"] == 0
    assert "connectionToken" not in v0


async def test_a_connection_id_works_once_and_an_unknown_one_is_404(conduit):
    headers = {"Authorization": f"Bearer {conduit.api_key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(conduit.base_url + "/hubs/image-generation/negotiate?negotiateVersion=1") as r:
            token = (await r.json())["connectionToken"]
        hub = conduit.base_url + "/hubs/image-generation"
        async with session.ws_connect(f"{hub}?id={token}") as ws:
            await ws.send_str('{"protocol":"json","version":1}' + RS)
            assert await ws.receive_str(timeout=5) == "{}" + RS
            with pytest.raises(aiohttp.WSServerHandshakeError) as in_use:
                await session.ws_connect(f"{hub}?id={token}")
            assert in_use.value.status == 409
        with pytest.raises(aiohttp.WSServerHandshakeError) as unknown:
            await session.ws_connect(f"{hub}?id=not-a-token")
        assert unknown.value.status == 404


@pytest.mark.parametrize(("version", "accepted"), [(0, True), (1, True), (2, False), ('"1"', False)])
async def test_protocol_versions_up_to_the_servers_own_are_accepted_as_aspnet_accepts_them(conduit, version, accepted):
    # signalrcore sends its negotiate version (0) here; ASP.NET's JsonHubProtocol takes any version <= 1.
    async with raw(conduit, handshake=False) as ws:
        await ws.send_str('{"protocol":"json","version":' + str(version) + "}" + RS)
        answer = frames(await ws.receive_str(timeout=5))
        assert (answer == [{}]) is accepted, answer


async def test_an_unknown_protocol_is_refused_in_the_handshake(conduit):
    async with raw(conduit, handshake=False) as ws:
        await ws.send_str('{"protocol":"xml","version":1}' + RS)
        assert frames(await ws.receive_str(timeout=5)) == [{"error": "The protocol 'xml' is not supported."}]
        assert (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_messages_can_follow_the_handshake_in_the_same_frame(conduit):
    async with raw(conduit, handshake=False) as ws:
        invoke = {"type": 1, "invocationId": "1", "target": "Nope", "arguments": []}
        await ws.send_str('{"protocol":"json","version":1}' + RS + json.dumps(invoke) + RS)
        assert (await ws.receive_str(timeout=5)) == "{}" + RS
        completion = await receive_until(ws, 3)
        assert completion["error"].endswith("HubException: Method does not exist.")


async def test_invocation_errors_are_worded_as_aspnet_words_them(conduit):
    async with raw(conduit) as ws:
        calls = [
            {"type": 1, "invocationId": "a", "target": "SubscribeToTask", "arguments": ["x", "y"]},
            {"type": 1, "invocationId": "b", "target": "SubscribeToTask", "arguments": [42]},
            {"type": 1, "target": "NoSuchMethod", "arguments": []},  # non-blocking: no answer at all
            {"type": 1, "invocationId": "c", "target": "SubscribeToRequest", "arguments": ["x"]},  # video only
        ]
        await ws.send_str("".join(json.dumps(c) + RS for c in calls))
        answers = {}
        while len(answers) < 3:
            for message in frames(await ws.receive_str(timeout=5)):
                if message["type"] == 3:
                    answers[message["invocationId"]] = message["error"]
        assert answers["a"] == (
            "Failed to invoke 'SubscribeToTask' due to an error on the server. "
            "InvalidDataException: Invocation provides 2 argument(s) but target expects 1."
        )
        assert "Error binding arguments" in answers["b"]
        assert answers["c"].endswith("HubException: Method does not exist.")


@pytest.mark.security("oversized hub messages are refused")
async def test_a_message_over_32_kb_closes_the_connection_with_an_error(conduit):
    async with raw(conduit) as ws:
        big = {"type": 1, "invocationId": "1", "target": "SubscribeToTask", "arguments": ["x" * 40_000]}
        await ws.send_str(json.dumps(big) + RS)
        close = await receive_until(ws, 7)
        assert "maximum message size of 32768B was exceeded" in close["error"]


async def test_malformed_json_closes_the_connection_with_an_error(conduit):
    async with raw(conduit) as ws:
        await ws.send_str("{not json" + RS)
        close = await receive_until(ws, 7)
        assert close["error"].startswith("Connection closed with an error. InvalidDataException:")


async def test_the_server_pings_and_drops_a_silent_client():
    async with LocalConduit(speed=100, keepalive_interval=0.1, client_timeout=0.6) as server, raw(server) as ws:
        assert (await receive_until(ws, 6)) == {"type": 6}
        close = await receive_until(ws, 7)
        assert close["error"] == "Server timeout elapsed without receiving a message from the client."


async def test_messagepack_handshake_and_binary_frames(conduit):
    url = f"{conduit.base_url}/hubs/image-generation?access_token={conduit.api_key}"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str('{"protocol":"messagepack","version":1}' + RS)
        assert await ws.receive_bytes(timeout=5) == b"{}" + RS.encode()
        body = msgpack.packb([1, {}, "7", "Missing", []])
        await ws.send_bytes(bytes([len(body)]) + body)
        reply = await ws.receive_bytes(timeout=5)
        assert msgpack.unpackb(reply[1:]) == [
            3,
            {},
            "7",
            1,
            "Failed to invoke 'Missing' due to an error on the server. HubException: Method does not exist.",
        ]


def test_json_records_split_across_frames_are_reassembled():
    codec = JsonCodec(32 * 1024)
    first = codec.feed(b'{"type":6}\x1e{"type":1,"target":"A",')
    second = codec.feed(b'"arguments":["x"]}\x1e')
    assert [m.type for m in first] == [6]
    assert [(m.type, m.target, m.arguments) for m in second] == [(1, "A", ["x"])]


def test_messagepack_lengths_and_bodies_split_anywhere_are_reassembled():
    body = msgpack.packb([1, {}, None, "T" * 200, ["a"]])
    data = bytes([(len(body) & 0x7F) | 0x80, len(body) >> 7]) + body  # a two-byte VarInt length
    for cut in range(len(data) + 1):
        codec = MessagePackCodec(32 * 1024)
        messages = codec.feed(data[:cut]) + codec.feed(data[cut:])
        assert [(m.type, m.target) for m in messages] == [(1, "T" * 200)], cut


async def test_frames_are_never_compressed_even_for_a_client_that_offers_deflate(conduit):
    # ASP.NET Core SignalR accepts no WebSocket extensions; aiohttp would deflate every frame unless told not to.
    url = f"{conduit.base_url}/hubs/image-generation?access_token={conduit.api_key}"
    async with aiohttp.ClientSession() as session, session.ws_connect(url, compress=15) as ws:
        assert ws.compress == 0
        assert "Sec-WebSocket-Extensions" not in ws._response.headers
