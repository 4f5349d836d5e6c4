"""The image and video generation hubs: negotiate, WebSocket upgrade, subscriptions and event fan-out."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.protocol import Kind
from conduit_widget.server.auth import request_owner
from conduit_widget.server.config import ServerConfig
from conduit_widget.server.hub.connection import HubConnection, HubError
from conduit_widget.server.store import TaskRecord

PENDING_CONNECTION_TTL: Final = 30.0  # seconds a negotiated connection waits for its WebSocket

_METHODS: Final[dict[Kind, frozenset[str]]] = {
    "image": frozenset({protocol.SUBSCRIBE, protocol.UNSUBSCRIBE}),
    # The seed document's names for the same two methods live on beside the real ones.
    "video": frozenset(
        {
            protocol.SUBSCRIBE,
            protocol.UNSUBSCRIBE,
            protocol.SEED_SUBSCRIBE_VIDEO,
            protocol.SEED_UNSUBSCRIBE_VIDEO,
        }
    ),
}
# A server speaking only the seed's dialect is the one the seed document describes: its video hub knows
# only the seed's method names, so clients must find out which names a hub answers to.
_SEED_ONLY_METHODS: Final[dict[Kind, frozenset[str]]] = {
    "image": _METHODS["image"],
    "video": frozenset({protocol.SEED_SUBSCRIBE_VIDEO, protocol.SEED_UNSUBSCRIBE_VIDEO}),
}
_SUBSCRIBE_METHODS: Final = frozenset({protocol.SUBSCRIBE, protocol.SEED_SUBSCRIBE_VIDEO})


@dataclass
class _Negotiated:
    connection_id: str
    owner: str
    expires: float


class Hubs:
    """Both hubs of one server. Task ownership is looked up through `find_task`."""

    def __init__(self, config: ServerConfig, find_task: Callable[[str], TaskRecord | None]) -> None:
        self._config = config
        self._find_task = find_task
        self._negotiated: dict[str, _Negotiated] = {}
        self._live: dict[str, HubConnection] = {}  # by connection token
        self._groups: dict[tuple[Kind, str], set[HubConnection]] = {}
        self.frame_listeners: list[Callable[[bytes], None]] = []

    @property
    def connection_count(self) -> int:
        return len(self._live)

    def routes(self) -> list[web.RouteDef]:
        out = []
        for kind, path in protocol.HUB_PATHS.items():
            out.append(web.post(path + "/negotiate", self._negotiate_handler(kind)))
            out.append(web.get(path, self._connect_handler(kind)))
        return out

    # -- negotiate and connect ---------------------------------------------------------------

    def _negotiate_handler(self, kind: Kind) -> Callable[[web.Request], Any]:
        async def negotiate(request: web.Request) -> web.Response:
            self._expire_negotiations()
            version = 1 if request.query.get("negotiateVersion", "0") not in ("", "0") else 0
            connection_id = secrets.token_urlsafe(16)
            token = secrets.token_urlsafe(16) if version else connection_id
            self._negotiated[token] = _Negotiated(
                connection_id, request_owner(request), time.monotonic() + PENDING_CONNECTION_TTL
            )
            body: dict[str, Any] = {
                "connectionId": connection_id,
                "negotiateVersion": version,
                "availableTransports": [{"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}],
            }
            if version:
                body["connectionToken"] = token
            return web.json_response(body)

        return negotiate

    def _expire_negotiations(self) -> None:
        now = time.monotonic()
        for token in [t for t, n in self._negotiated.items() if n.expires < now]:
            del self._negotiated[token]

    def _connect_handler(self, kind: Kind) -> Callable[[web.Request], Any]:
        async def connect(request: web.Request) -> web.StreamResponse:
            owner: str = request_owner(request)
            token = request.query.get("id")
            if token is not None:
                if token in self._live:
                    return web.Response(status=409, text="Connection ID is already in use.")
                negotiated = self._negotiated.pop(token, None)
                if negotiated is None or negotiated.expires < time.monotonic():
                    return web.Response(status=404, text="No Connection with that ID")
                if negotiated.owner != owner:
                    return web.Response(status=403)
                connection_id = negotiated.connection_id
            else:  # skipNegotiation: a WebSocket straight away makes a new connection
                token = connection_id = secrets.token_urlsafe(16)
            # No permessage-deflate: ASP.NET Core SignalR, so Conduit, never compresses its frames (dotnet/aspnetcore
            # #38230), and aiohttp would otherwise deflate every frame for any client that offers it (websockets does).
            ws = web.WebSocketResponse(max_msg_size=4 * self._config.max_hub_message, autoping=True, compress=False)
            if not ws.can_prepare(request).ok:
                return web.Response(status=400, text="This local Conduit supports only the WebSockets transport.")
            await ws.prepare(request)
            conn = HubConnection(
                ws,
                kind=kind,
                owner=owner,
                connection_id=connection_id,
                dispatch=self._dispatch,
                known_methods=(_SEED_ONLY_METHODS if self._config.events == "seed" else _METHODS)[kind],
                keepalive_interval=self._config.keepalive_interval,
                client_timeout=self._config.client_timeout,
                handshake_timeout=self._config.handshake_timeout,
                max_message_size=self._config.max_hub_message,
                on_frame=self._frame_seen if self.frame_listeners else None,
            )
            self._live[token] = conn
            try:
                await conn.serve()
            finally:
                del self._live[token]
                for task_id in conn.subscriptions:
                    self._leave(conn, task_id)
            return ws

        return connect

    def _frame_seen(self, frame: bytes) -> None:
        for listener in self.frame_listeners:
            listener(frame)

    # -- hub methods -------------------------------------------------------------------------

    async def _dispatch(self, conn: HubConnection, method: str, arguments: list[Any]) -> None:
        task_id: str = arguments[0]
        if method in _SUBSCRIBE_METHODS:
            record = self._find_task(task_id)
            # Unknown, foreign and other-kind tasks all get the same answer, so ids cannot be probed.
            if record is None or record.owner != conn.owner or record.kind != conn.kind:
                raise HubError(protocol.UNAUTHORIZED_TASK)
            conn.subscriptions.add(task_id)
            self._groups.setdefault((conn.kind, task_id), set()).add(conn)
        else:
            conn.subscriptions.discard(task_id)
            self._leave(conn, task_id)

    def _leave(self, conn: HubConnection, task_id: str) -> None:
        group = self._groups.get((conn.kind, task_id))
        if group is not None:
            group.discard(conn)
            if not group:
                del self._groups[(conn.kind, task_id)]

    # -- server side -------------------------------------------------------------------------

    def publish(self, kind: Kind, task_id: str, events: list[tuple[str, list[Any]]]) -> None:
        """Send events to every connection subscribed to the task, encoding once per protocol."""
        group = self._groups.get((kind, task_id))
        if not group or not events:
            return
        encoded: dict[str, bytes] = {}
        for conn in list(group):
            codec = conn.codec
            if codec is None:
                continue
            frame = encoded.get(codec.name)
            if frame is None:
                frame = encoded[codec.name] = b"".join(codec.invocation(t, args) for t, args in events)
            conn.send(frame)

    async def send_burst(self, kind: Kind, task_id: str, events: list[tuple[str, list[Any]]], per_frame: int) -> int:
        """Benchmarks only: encode every event up front, then write frames of `per_frame` messages to each
        subscriber as fast as its socket takes them (awaiting the socket is the backpressure)."""
        group = list(self._groups.get((kind, task_id), ()))
        frames: dict[str, list[bytes]] = {}
        for conn in group:
            codec = conn.codec
            if codec is not None and codec.name not in frames:
                messages = [codec.invocation(target, args) for target, args in events]
                frames[codec.name] = [b"".join(messages[i : i + per_frame]) for i in range(0, len(messages), per_frame)]
        for conn in group:
            if conn.codec is not None:
                for frame in frames[conn.codec.name]:
                    await conn.write_now(frame)
        return len(events) * len(group)

    def drop_connections(self) -> int:
        """Cut every live connection as a network failure would; returns how many were cut."""
        conns = list(self._live.values())
        for conn in conns:
            conn.abort()
        return len(conns)

    async def close(self) -> None:
        for conn in list(self._live.values()):
            with contextlib.suppress(Exception):
                await conn.close()
