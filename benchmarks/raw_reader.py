"""The server's ceiling: a bare SignalR reader that negotiates, shakes hands, subscribes, and then only counts
messages (0x1e-terminated JSON records, or VarInt-prefixed MessagePack ones) without decoding any of them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import msgpack

from conduit_widget import protocol
from conduit_widget.wire import RECORD_SEPARATOR, RECORD_SEPARATOR_TEXT, read_length, varint

HubProtocol = Literal["json", "messagepack"]
RS = RECORD_SEPARATOR


def split_messagepack(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Whole VarInt-prefixed messages at the front of `buffer`, and the incomplete rest."""
    messages, offset = [], 0
    while offset < len(buffer):
        read = read_length(buffer, offset)
        if read is None or read[1] + read[0] > len(buffer):
            break
        length, start = read
        messages.append(buffer[start : start + length])
        offset = start + length
    return messages, buffer[offset:]


def count_messagepack(buffer: bytes) -> tuple[int, bytes]:
    """How many whole messages `buffer` starts with (lengths read, bodies skipped), and the rest."""
    count, offset, size = 0, 0, len(buffer)
    while offset < size:
        length, shift, cursor = 0, 0, offset
        while cursor < size:
            byte = buffer[cursor]
            length |= (byte & 0x7F) << shift
            cursor += 1
            shift += 7
            if byte < 0x80:
                break
        else:
            break
        if cursor + length > size:
            break
        count += 1
        offset = cursor + length
    return count, buffer[offset:]


@dataclass
class Tally:
    """Messages counted, and when the first and the last frame arrived (perf_counter seconds)."""

    count: int = 0
    first_batch: int = 0  # messages in the first frame: they arrived at `first`, so no time is spent on them
    first: float = 0.0
    last: float = 0.0

    def rate(self) -> float:
        span = self.last - self.first
        return (self.count - self.first_batch) / span if span > 0 else 0.0


class RawHubReader:
    """One hub connection over aiohttp, used as ``await reader.open(); await reader.subscribe(id);
    tally = await reader.count(n)``; `close()` afterwards."""

    def __init__(self, session: aiohttp.ClientSession, hub_url: str, key: str, hub_protocol: HubProtocol) -> None:
        self._session = session
        self._url = hub_url
        self._headers = {"Authorization": f"Bearer {key}"}
        self._protocol = hub_protocol
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._rest = b""
        self._invocations = 0

    async def open(self) -> None:
        async with self._session.post(
            self._url + "/negotiate", params={"negotiateVersion": "1"}, headers=self._headers
        ) as answer:
            token = (await answer.json())["connectionToken"]
        ws_url = self._url.replace("http", "ws", 1) + f"?id={token}"
        self._ws = ws = await self._session.ws_connect(ws_url, headers=self._headers, max_msg_size=0, autoping=True)
        await ws.send_str(json.dumps({"protocol": self._protocol, "version": 1}) + RECORD_SEPARATOR_TEXT)
        answer_frame = await ws.receive(timeout=10)
        handshake = answer_frame.data if isinstance(answer_frame.data, bytes) else str(answer_frame.data).encode()
        head, _, self._rest = handshake.partition(RS)
        if json.loads(head).get("error"):
            raise ConnectionError(f"handshake refused: {head!r}")

    async def subscribe(self, task_id: str, method: str = protocol.SUBSCRIBE) -> None:
        """Invoke the hub's subscribe method and wait for its completion (decoding, in this phase only)."""
        assert self._ws is not None
        self._invocations += 1
        inv = str(self._invocations)
        if self._protocol == "json":
            await self._ws.send_str(
                json.dumps({"type": 1, "invocationId": inv, "target": method, "arguments": [task_id]})
                + RECORD_SEPARATOR_TEXT
            )
        else:
            body = msgpack.packb([1, {}, inv, method, [task_id], []])
            await self._ws.send_bytes(varint(len(body)) + body)
        async with asyncio.timeout(10):
            while True:
                for message in await self._decoded():
                    if _completion_of(message, inv, self._protocol):
                        if _error_of(message, self._protocol):
                            raise ConnectionError(f"{method} refused: {message!r}")
                        return

    async def _decoded(self) -> list[Any]:
        assert self._ws is not None
        frame = await self._ws.receive()
        if frame.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            raise ConnectionError(f"the hub closed the connection: {frame!r}")
        data = self._rest + (frame.data if isinstance(frame.data, bytes) else frame.data.encode())
        if self._protocol == "json":
            *records, self._rest = data.split(RS)
            return [json.loads(r) for r in records]
        bodies, self._rest = split_messagepack(data)
        return [msgpack.unpackb(b, raw=False) for b in bodies]

    async def count(self, expected: int, timeout: float) -> Tally:
        """Count messages until `expected` have arrived, or `timeout` seconds have passed."""
        assert self._ws is not None
        ws, tally, rest = self._ws, Tally(), self._rest
        text = self._protocol == "json"
        clock = time.perf_counter
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while tally.count < expected:
                    frame = await ws.receive()
                    now = clock()
                    if text:
                        if frame.type != aiohttp.WSMsgType.TEXT:
                            break
                        n = frame.data.count(RECORD_SEPARATOR_TEXT)
                    else:
                        if frame.type != aiohttp.WSMsgType.BINARY:
                            break
                        n, rest = count_messagepack(rest + frame.data if rest else frame.data)
                    if not tally.count:
                        tally.first, tally.first_batch = now, n
                    tally.count += n
                    tally.last = now
        self._rest = rest
        return tally

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()


def _completion_of(message: Any, inv: str, hub_protocol: HubProtocol) -> bool:
    if hub_protocol == "json":
        return isinstance(message, dict) and message.get("type") == 3 and message.get("invocationId") == inv
    return isinstance(message, list) and len(message) > 2 and message[0] == 3 and message[2] == inv


def _error_of(message: Any, hub_protocol: HubProtocol) -> bool:
    if hub_protocol == "json":
        return bool(message.get("error"))
    return len(message) > 3 and message[3] == 1
