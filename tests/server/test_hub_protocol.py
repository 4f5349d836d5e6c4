"""Hub protocol edge cases no well-behaved client produces, sent over a raw WebSocket."""

from __future__ import annotations

import asyncio
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


async def receive_until(ws: aiohttp.ClientWebSocketResponse, kind: int, timeout: float = 5) -> dict:
    while True:
        for message in frames(await ws.receive_str(timeout=timeout)):
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
        async with session.post(url + "?negotiateVersion=7") as response:
            v7 = await response.json()
        async with session.post(url + "?negotiateVersion=one") as response:
            bad = (response.status, await response.json())
    assert list(v1) == ["negotiateVersion", "connectionId", "connectionToken", "availableTransports"]
    assert v1["negotiateVersion"] == 1
    assert v1["connectionToken"] != v1["connectionId"]
    # Every transport the real server offers, with the formats ASP.NET gives each.
    assert v1["availableTransports"] == [
        {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]},
        {"transport": "ServerSentEvents", "transferFormats": ["Text"]},
        {"transport": "LongPolling", "transferFormats": ["Text", "Binary"]},
    ]
    assert v0["negotiateVersion"] == 0
    assert "connectionToken" not in v0
    assert v7["negotiateVersion"] == 1  # a newer client is answered in the server's own version
    assert bad == (200, {"error": "The client requested a non-integer protocol version."})


@pytest.mark.parametrize(("accept", "transport"), [("text/event-stream", "ServerSentEvents"), ("*/*", "LongPolling")])
async def test_a_transport_listed_but_not_served_is_refused_clearly(conduit, accept, transport):
    headers = {"Authorization": f"Bearer {conduit.api_key}", "Accept": accept}
    async with aiohttp.ClientSession(headers=headers) as session:
        hub = conduit.base_url + "/hubs/image-generation"
        async with session.get(hub) as response:
            assert (response.status, await response.text()) == (400, "Connection ID required")
        async with session.post(hub + "/negotiate?negotiateVersion=1") as response:
            token = (await response.json())["connectionToken"]
        async with session.get(hub, params={"id": token}) as response:
            assert response.status == 404
            assert (await response.text()).startswith(f"{transport} transport not supported by this end point type")


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


@pytest.mark.parametrize(
    ("version", "answer"),
    [
        (0, {}),
        (1, {}),
        (2, {}),  # .NET 8 and 9 speak version 2 (stateful reconnect) and take any version up to it
        (3, {"error": "The server does not support version 3 of the 'json' protocol."}),
        ('"1"', {"error": "An unexpected error occurred during connection handshake."}),
    ],
)
async def test_protocol_versions_up_to_the_servers_own_are_accepted_as_aspnet_accepts_them(conduit, version, answer):
    async with raw(conduit, handshake=False) as ws:
        await ws.send_str('{"protocol":"json","version":' + str(version) + "}" + RS)
        assert frames(await ws.receive_str(timeout=5)) == [answer]


@pytest.mark.parametrize("handshake", ['{"protocol":"json"}', '{"version":1}', "[1]", "nonsense"])
async def test_a_malformed_handshake_is_refused_without_details(conduit, handshake):
    async with raw(conduit, handshake=False) as ws:
        await ws.send_str(handshake + RS)
        answer = frames(await ws.receive_str(timeout=5))
        assert answer == [{"error": "An unexpected error occurred during connection handshake."}]
        assert (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_an_unknown_protocol_is_refused_in_the_handshake(conduit):
    async with raw(conduit, handshake=False) as ws:
        await ws.send_str('{"protocol":"xml","version":1}' + RS)
        assert frames(await ws.receive_str(timeout=5)) == [{"error": "The protocol 'xml' is not supported."}]
        assert (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


@pytest.mark.parametrize("profile", ["conduit-2025.08", "js-client-docs"])
async def test_a_messagepack_handshake_is_refused_by_a_json_only_server(profile):
    async with LocalConduit(speed=100, profile=profile) as server, raw(server, handshake=False) as ws:
        await ws.send_str('{"protocol":"messagepack","version":1}' + RS)
        assert frames(await ws.receive_str(timeout=5)) == [{"error": "The protocol 'messagepack' is not supported."}]
        assert (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_protocol_names_are_matched_ignoring_case(conduit):
    async with raw(conduit, handshake=False) as ws:
        await ws.send_str('{"protocol":"JSON","version":1}' + RS)
        assert frames(await ws.receive_str(timeout=5)) == [{}]


async def test_messages_can_follow_the_handshake_in_the_same_frame(conduit):
    async with raw(conduit, handshake=False) as ws:
        invoke = {"type": 1, "invocationId": "1", "target": "Nope", "arguments": []}
        await ws.send_str('{"protocol":"json","version":1}' + RS + json.dumps(invoke) + RS)
        assert (await ws.receive_str(timeout=5)) == "{}" + RS
        completion = await receive_until(ws, 3)
        assert completion["error"].endswith("HubException: Method does not exist.")


async def test_invocation_errors_are_worded_as_a_production_aspnet_words_them(conduit):
    async with raw(conduit) as ws:
        calls = [
            {"type": 1, "invocationId": "a", "target": "SubscribeToTask", "arguments": ["x", "y"]},
            {"type": 1, "invocationId": "b", "target": "SubscribeToTask", "arguments": [42]},
            {"type": 1, "target": "NoSuchMethod", "arguments": []},  # non-blocking: no answer at all
            {"type": 1, "invocationId": "c", "target": "SubscribeToRequest", "arguments": ["x"]},  # video only
            {"type": 4, "invocationId": "d", "target": "SubscribeToTask", "arguments": ["x"]},
            {"type": 1, "invocationId": "e", "target": "subscribetotask", "arguments": ["nope"]},  # any case
        ]
        await ws.send_str("".join(json.dumps(c) + RS for c in calls))
        answers = {}
        while len(answers) < 5:
            for message in frames(await ws.receive_str(timeout=5)):
                if message["type"] == 3:
                    answers[message["invocationId"]] = message["error"]
        # Detailed errors are off outside Development: a binding failure says no more than this.
        assert answers["a"] == answers["b"] == "Failed to invoke 'SubscribeToTask' due to an error on the server."
        assert answers["c"] == (
            "Failed to invoke 'SubscribeToRequest' due to an error on the server. HubException: Method does not exist."
        )
        assert answers["d"] == (
            "The client attempted to invoke the non-streaming 'SubscribeToTask' method with a streaming invocation."
        )
        assert answers["e"] == (
            "An unexpected error occurred invoking 'subscribetotask' on the server. HubException: Unauthorized access "
            "to task"
        )


async def test_a_method_that_returns_nothing_completes_with_a_null_result(conduit):
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {conduit.api_key}"}) as http,
        http.post(
            conduit.base_url + "/v1/images/generations/async",
            json={"prompt": "a", "model": "dall-e-3", "size": "64x64"},
        ) as response,
    ):
        task_id = (await response.json())["task_id"]
    async with raw(conduit) as ws:
        await ws.send_str(
            json.dumps({"type": 1, "invocationId": "7", "target": "SubscribeToTask", "arguments": [task_id]}) + RS
        )
        assert await receive_until(ws, 3) == {"type": 3, "invocationId": "7", "result": None}


@pytest.mark.parametrize(
    "message",
    [
        {"type": 1, "invocationId": "1", "target": "SubscribeToTask"},  # no arguments
        {"type": 1, "invocationId": "1", "arguments": ["x"]},  # no target
        {"type": 1, "invocationId": None, "target": "SubscribeToTask", "arguments": ["x"]},  # null is not absent
        {"type": 3, "result": 1},  # a completion without an invocation id
        {"type": 3, "invocationId": "1", "result": 1, "error": "x"},
        {"type": 1, "invocationId": "1", "target": "SubscribeToTask", "arguments": ["x"], "headers": {"a": 1}},
        {"type": 1, "invocationId": "1", "target": "SubscribeToTask", "arguments": ["x"], "headers": ["a"]},
        {"type": 2, "item": 1},
        {"type": 5},
        {"type": 1.5},
        {"target": "SubscribeToTask", "arguments": ["x"]},  # no type
        [1, 2],
    ],
)
async def test_a_message_aspnet_cannot_read_closes_the_connection_with_the_production_text(conduit, message):
    async with raw(conduit) as ws:
        await ws.send_str(json.dumps(message) + RS)
        assert await receive_until(ws, 7) == {
            "type": 7,
            "error": "Connection closed with an error.",
            "allowReconnect": True,
        }
        assert (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_unknown_properties_are_ignored(conduit):
    async with raw(conduit) as ws:
        call = {"type": 1, "invocationId": "1", "target": "Nope", "arguments": [], "extra": {"x": 1}}
        await ws.send_str(json.dumps(call) + RS)
        assert (await receive_until(ws, 3))["error"].endswith("HubException: Method does not exist.")


async def test_a_message_of_an_unknown_type_stalls_what_follows_it_as_on_aspnet(conduit):
    async with raw(conduit) as ws:
        calls = [{"type": 99}, {"type": 1, "invocationId": "1", "target": "Nope", "arguments": []}]
        await ws.send_str("".join(json.dumps(c) + RS for c in calls))
        with pytest.raises(TimeoutError):
            await receive_until(ws, 3, timeout=1)


async def test_the_clients_close_is_answered_with_a_plain_close(conduit):
    async with raw(conduit) as ws:
        await ws.send_str('{"type":7}' + RS)
        assert await receive_until(ws, 7) == {"type": 7}


@pytest.mark.security("oversized hub messages are refused")
async def test_a_message_over_32_kb_closes_the_connection_with_an_error(conduit):
    async with raw(conduit) as ws:
        big = {"type": 1, "invocationId": "1", "target": "SubscribeToTask", "arguments": ["x" * 40_000]}
        await ws.send_str(json.dumps(big) + RS)
        close = await receive_until(ws, 7)
        assert close["error"] == "Connection closed with an error."


async def test_malformed_json_closes_the_connection_with_an_error(conduit):
    async with raw(conduit) as ws:
        await ws.send_str("{not json" + RS)
        close = await receive_until(ws, 7)
        assert close == {"type": 7, "error": "Connection closed with an error.", "allowReconnect": True}


async def test_the_server_pings_and_drops_a_client_that_pinged_once_then_went_silent():
    async with LocalConduit(speed=100, keepalive_interval=0.1, client_timeout=0.6) as server, raw(server) as ws:
        assert (await receive_until(ws, 6)) == {"type": 6}
        await ws.send_str('{"type":6}' + RS)  # ASP.NET arms the client timeout on a client's first ping
        close = await receive_until(ws, 7)
        assert close == {"type": 7, "error": "Connection closed with an error.", "allowReconnect": True}


async def test_a_client_that_never_pings_is_not_timed_out():
    async with LocalConduit(speed=100, keepalive_interval=0.1, client_timeout=0.3) as server, raw(server) as ws:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.2):  # pings keep coming meanwhile; a Close does not
                await receive_until(ws, 7)


@pytest.mark.parametrize(
    "body",
    [
        [1, {}, "1", "SubscribeToTask"],  # too short
        [1, {"a": 1}, "1", "SubscribeToTask", ["x"]],  # a header that is not a string
        [1, {}, 5, "SubscribeToTask", ["x"]],
        [3, {}, "1", 9],  # no such result kind
        "not an array",
    ],
)
async def test_a_messagepack_message_aspnet_cannot_read_closes_the_connection(conduit, body):
    url = f"{conduit.base_url}/hubs/image-generation?access_token={conduit.api_key}"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str('{"protocol":"messagepack","version":1}' + RS)
        assert await ws.receive_bytes(timeout=5) == b"{}" + RS.encode()
        packed = msgpack.packb(body)
        await ws.send_bytes(bytes([len(packed)]) + packed)
        while True:
            data = await ws.receive_bytes(timeout=5)
            message = msgpack.unpackb(data[1:])
            if message[0] == 7:
                break
        assert message == [7, "Connection closed with an error.", True]


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


async def test_the_task_hub_names_which_check_a_subscription_failed(conduit, other_key):
    # TaskHub.SubscribeToTask (7c3fd76a): unlike the media hubs it says why; no version sends it media events.
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {other_key}"}) as http,
        http.post(
            conduit.base_url + "/v1/images/generations/async",
            json={"prompt": "a", "model": "dall-e-3", "size": "64x64"},
        ) as response,
    ):
        theirs = (await response.json())["task_id"]
    url = f"{conduit.base_url}/hubs/tasks?access_token={conduit.api_key}"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str('{"protocol":"json","version":1}' + RS)
        assert await ws.receive_str(timeout=5) == "{}" + RS
        calls = {"a": " ", "b": "task_" + "0" * 32, "c": theirs}
        await ws.send_str(
            "".join(
                json.dumps({"type": 1, "invocationId": i, "target": "SubscribeToTask", "arguments": [task_id]}) + RS
                for i, task_id in calls.items()
            )
        )
        answers = {}
        while len(answers) < 3:
            for message in frames(await ws.receive_str(timeout=5)):
                if message["type"] == 3:
                    answers[message["invocationId"]] = message["error"].split("HubException: ")[1]
    assert answers == {"a": "Invalid task ID", "b": "Task not found", "c": "Unauthorized access to task"}


async def test_the_js_client_docs_server_has_no_task_hub():
    async with LocalConduit(speed=100, profile="js-client-docs") as server:
        headers = {"Authorization": f"Bearer {server.api_key}"}
        async with (
            aiohttp.ClientSession(headers=headers) as http,
            http.post(server.base_url + "/hubs/tasks/negotiate") as response,
        ):
            assert (response.status, await response.read()) == (404, b"")


async def test_the_gateways_messagepack_compresses_large_arguments_as_messagepack_csharp_does():
    import lz4.block

    # Slow enough that progress is still to come once subscribed.
    async with LocalConduit(speed=10, profile="conduit-gateway") as server:
        async with (
            aiohttp.ClientSession(headers={"Authorization": f"Bearer {server.api_key}"}) as http,
            http.post(
                server.base_url + "/v1/conduit/images/generations/async",
                json={"prompt": "a fox", "model": "dall-e-3", "size": "64x64", "n": 3},
            ) as response,
        ):
            task_id = (await response.json())["task_id"]
        url = f"{server.base_url}/hubs/image-generation?access_token={server.api_key}"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str('{"protocol":"messagepack","version":1}' + RS)
            assert await ws.receive_bytes(timeout=5) == b"{}" + RS.encode()
            body = msgpack.packb([1, {}, "1", "SubscribeToTask", [task_id]])
            await ws.send_bytes(bytes([len(body)]) + body)
            events = {}
            while "ImageGenerationCompleted" not in events:
                data = await ws.receive_bytes(timeout=5)
                unpacker = msgpack.Unpacker()
                offset = 0
                while offset < len(data):  # VarInt-framed messages
                    length, shift = 0, 0
                    while True:
                        byte = data[offset]
                        offset += 1
                        length |= (byte & 0x7F) << shift
                        shift += 7
                        if not byte & 0x80:
                            break
                    message = msgpack.unpackb(data[offset : offset + length])
                    offset += length
                    if message[0] == 1:
                        events[message[3]] = message[4][0]
    # A small progress object goes as it is; the completion of three images, over 256 bytes, as
    # [ExtType(98, lengths), block].
    assert isinstance(events["ImageGenerationProgress"], dict)
    packed = events["ImageGenerationCompleted"]
    assert isinstance(packed, list) and packed[0].code == 98
    unpacker = msgpack.Unpacker()
    unpacker.feed(packed[0].data)
    (size,) = list(unpacker)
    completed = msgpack.unpackb(lz4.block.decompress(packed[1], uncompressed_size=size))
    assert completed["taskId"] == task_id and len(completed["imageUrls"]) == 3
