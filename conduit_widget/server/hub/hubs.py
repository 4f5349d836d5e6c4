"""The hubs of one server: negotiate, the WebSocket upgrade, subscriptions and event fan-out.

Which hubs exist, which methods they answer to and which protocols and transports they offer come from the
profile. Negotiate lists every transport the real server lists; the local Conduit serves WebSockets, and a
client that tries another transport gets ASP.NET's refusal of a transport it does not serve.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.server.auth import request_owner
from conduit_widget.server.config import ServerConfig
from conduit_widget.server.hub.connection import HubConnection, HubException, HubMethod, HubName
from conduit_widget.server.profiles import Profile
from conduit_widget.server.store import TaskRecord

PENDING_CONNECTION_TTL: Final = 30.0  # seconds a negotiated connection waits for its WebSocket
_FORMATS: Final = {"WebSockets": ["Text", "Binary"], "ServerSentEvents": ["Text"], "LongPolling": ["Text", "Binary"]}
_SUBSCRIBE: Final = frozenset({protocol.SUBSCRIBE, protocol.SEED_SUBSCRIBE_VIDEO})
_UNSUBSCRIBE: Final = frozenset({protocol.UNSUBSCRIBE, protocol.SEED_UNSUBSCRIBE_VIDEO})
# TaskHub's methods (TaskHub.cs). Its ITaskHub implementations are public, so clients can call them: each sends its
# arguments on to the task's group.
_TASK_HUB_METHODS: Final = (
    HubMethod(protocol.SUBSCRIBE),
    HubMethod(protocol.UNSUBSCRIBE),
    HubMethod("SubscribeToTaskType"),
    HubMethod("UnsubscribeFromTaskType"),
    HubMethod(protocol.TASK_STARTED, ("string", "string", "any")),
    HubMethod(protocol.SEED_TASK_PROGRESS, ("string", "int", "string")),
    HubMethod(protocol.SEED_TASK_COMPLETED, ("string", "any")),
    HubMethod(protocol.SEED_TASK_FAILED, ("string", "string", "bool")),
    HubMethod(protocol.TASK_CANCELLED, ("string", "string")),
    HubMethod(protocol.TASK_TIMED_OUT, ("string", "int")),
)


@dataclass
class _Negotiated:
    connection_id: str
    owner: str
    expires: float


def _methods(profile: Profile, hub: HubName) -> dict[str, HubMethod]:
    if hub == "tasks":
        return {m.name: m for m in _TASK_HUB_METHODS}
    names = profile.image_hub_methods if hub == "image" else profile.video_hub_methods
    return {name: HubMethod(name) for name in names}


class Hubs:
    """The hubs of one server. Task ownership is looked up through `find_task`."""

    def __init__(self, config: ServerConfig, profile: Profile, find_task: Callable[[str], TaskRecord | None]) -> None:
        self._config = config
        self._profile = profile
        self._find_task = find_task
        self._negotiated: dict[str, _Negotiated] = {}
        self._live: dict[str, HubConnection] = {}  # by connection token
        self._groups: dict[tuple[HubName, str], set[HubConnection]] = {}
        self.frame_listeners: list[Callable[[bytes], None]] = []
        paths: dict[HubName, str] = {"image": protocol.HUB_PATHS["image"], "video": protocol.HUB_PATHS["video"]}
        if profile.tasks_hub:
            paths["tasks"] = protocol.TASKS_HUB
        self._paths = paths

    @property
    def connection_count(self) -> int:
        return len(self._live)

    def routes(self) -> list[web.RouteDef]:
        out = []
        for hub, path in self._paths.items():
            out.append(web.post(path + "/negotiate", self._negotiate))
            out.append(web.get(path, self._connect_handler(hub)))
            out.append(web.post(path, self._other_transport))
            out.append(web.delete(path, self._other_transport))
        return out

    # -- negotiate and connect ---------------------------------------------------------------------------------------

    async def _negotiate(self, request: web.Request) -> web.Response:
        """HttpConnectionDispatcher's negotiate: always 200, an ``error`` member for a version it cannot serve."""
        self._expire_negotiations()
        asked = next((v for k, v in request.query.items() if k.lower() == "negotiateversion"), None)
        version = 0
        if asked is not None:
            try:
                version = int(asked)
            except ValueError:
                return web.json_response({"error": "The client requested a non-integer protocol version."})
            if version < 0:
                return web.json_response(
                    {
                        "error": f"The client requested version '{version}', but the server does not support this version."
                    }
                )
            version = min(version, 1)
        connection_id = secrets.token_urlsafe(16)
        token = secrets.token_urlsafe(16) if version else connection_id
        self._negotiated[token] = _Negotiated(
            connection_id, request_owner(request), time.monotonic() + PENDING_CONNECTION_TTL
        )
        body: dict[str, Any] = {"negotiateVersion": version, "connectionId": connection_id}
        if version:
            body["connectionToken"] = token
        body["availableTransports"] = [
            {"transport": name, "transferFormats": _FORMATS[name]} for name in self._profile.transports
        ]
        return web.json_response(body)

    def _expire_negotiations(self) -> None:
        now = time.monotonic()
        for token in [t for t, n in self._negotiated.items() if n.expires < now]:
            del self._negotiated[token]

    def _known_connection(self, request: web.Request) -> web.Response | None:
        """ASP.NET's answers for a request naming no connection, or one it does not have (None: it has it)."""
        token = request.query.get("id")
        if token is None:
            return web.Response(status=400, text="Connection ID required")
        if token not in self._negotiated and token not in self._live:
            return web.Response(status=404, text="No Connection with that ID")
        return None

    async def _other_transport(self, request: web.Request) -> web.Response:
        """Server-Sent Events and long polling (a GET, a POST to send, a DELETE to end): listed, not served."""
        unknown = self._known_connection(request)
        if unknown is not None:
            return unknown
        transport = "ServerSentEvents" if "text/event-stream" in request.headers.get("Accept", "") else "LongPolling"
        return web.Response(
            status=404,
            text=f"{transport} transport not supported by this end point type (the local Conduit serves WebSockets only)",
        )

    def _connect_handler(self, hub: HubName) -> Callable[[web.Request], Any]:
        async def connect(request: web.Request) -> web.StreamResponse:
            # No permessage-deflate: ASP.NET Core SignalR never compresses its frames (dotnet/aspnetcore #38230), and
            # aiohttp would otherwise deflate every frame for any client that offers it (websockets does).
            ws = web.WebSocketResponse(max_msg_size=4 * self._profile.max_hub_message, autoping=True, compress=False)
            if not ws.can_prepare(request).ok:
                return await self._other_transport(request)
            owner: str = request_owner(request)
            token = request.query.get("id")
            if token is not None:
                if token in self._live:
                    return web.Response(status=409)
                negotiated = self._negotiated.pop(token, None)
                if negotiated is None or negotiated.expires < time.monotonic():
                    return web.Response(status=404, text="No Connection with that ID")
                if negotiated.owner != owner:
                    return web.Response(status=403)
                connection_id = negotiated.connection_id
            else:  # skipNegotiation: a WebSocket straight away makes a new connection
                token = connection_id = secrets.token_urlsafe(16)
            await ws.prepare(request)
            profile = self._profile
            conn = HubConnection(
                ws,
                hub=hub,
                owner=owner,
                connection_id=connection_id,
                dispatch=self._dispatch,
                methods=_methods(profile, hub),
                protocols=profile.hub_protocols,
                keepalive_interval=self._config.keepalive_interval or profile.keepalive_interval,
                client_timeout=self._config.client_timeout or profile.client_timeout,
                handshake_timeout=profile.handshake_timeout,
                max_message_size=profile.max_hub_message,
                compress_from=profile.messagepack_compress_from,
                on_frame=self._frame_seen if self.frame_listeners else None,
            )
            self._live[token] = conn
            try:
                await conn.serve()
            finally:
                del self._live[token]
                for group in list(conn.subscriptions):
                    self._leave(conn, group)
            return ws

        return connect

    def _frame_seen(self, frame: bytes) -> None:
        for listener in self.frame_listeners:
            listener(frame)

    # -- hub methods -------------------------------------------------------------------------------------------------

    async def _dispatch(self, conn: HubConnection, method: str, arguments: list[Any]) -> None:
        task_id = arguments[0]
        if method in _SUBSCRIBE:
            self._check_access(conn, task_id)
            self._join(conn, task_id)
        elif method in _UNSUBSCRIBE:
            self._leave(conn, task_id)
        elif method in ("SubscribeToTaskType", "UnsubscribeFromTaskType"):
            group = f"vkey-{conn.owner[:12]}-{task_id}"
            (self._join if method.startswith("Subscribe") else self._leave)(conn, group)
        else:  # TaskHub's broadcast methods: what the caller says goes to the task's group, as it is
            self._send_to_group("tasks", task_id, [(method, arguments)])

    def _check_access(self, conn: HubConnection, task_id: Any) -> None:
        record = self._find_task(task_id) if isinstance(task_id, str) else None
        owned = record is not None and record.owner == conn.owner
        if conn.hub == "tasks":  # TaskHub.SubscribeToTask says which check failed
            if not isinstance(task_id, str) or not task_id.strip():
                raise HubException("Invalid task ID")
            if record is None:
                raise HubException("Task not found")
        # Unknown and foreign tasks get the same answer on the media hubs, so ids cannot be probed. Neither checks
        # the task's kind (an image hub subscribes to a video task, and hears nothing: its events go to the video hub).
        if not owned:
            raise HubException(protocol.UNAUTHORIZED_TASK)

    def _join(self, conn: HubConnection, group: str) -> None:
        conn.subscriptions.add(group)
        self._groups.setdefault((conn.hub, group), set()).add(conn)

    def _leave(self, conn: HubConnection, group: str) -> None:
        conn.subscriptions.discard(group)
        members = self._groups.get((conn.hub, group))
        if members is not None:
            members.discard(conn)
            if not members:
                del self._groups[(conn.hub, group)]

    # -- server side -------------------------------------------------------------------------------------------------

    def publish(self, hub: HubName, task_id: str, events: list[tuple[str, list[Any]]]) -> None:
        """Send events to every connection subscribed to the task on that hub, encoding once per protocol."""
        self._send_to_group(hub, task_id, events)

    def _send_to_group(self, hub: HubName, group: str, events: list[tuple[str, list[Any]]]) -> None:
        members = self._groups.get((hub, group))
        if not members or not events:
            return
        encoded: dict[str, bytes] = {}
        for conn in list(members):
            codec = conn.codec
            if codec is None:
                continue
            frame = encoded.get(codec.name)
            if frame is None:
                frame = encoded[codec.name] = b"".join(codec.invocation(t, args) for t, args in events)
            conn.send(frame)

    def subscribers(self, hub: HubName, task_id: str) -> list[HubConnection]:
        """The connections following the task on that hub."""
        return list(self._groups.get((hub, task_id), ()))

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
