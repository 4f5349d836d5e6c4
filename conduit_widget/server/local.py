"""`LocalConduit`: the local Conduit as an object to start from Python, on a loop or in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from conduit_widget.protocol import KEY_PREFIX
from conduit_widget.server.app import CONTEXT, FAULTS, GUARD, Extension, build_app
from conduit_widget.server.auth import RedactingAccessLogger
from conduit_widget.server.config import ConnectionLimits, ServerConfig
from conduit_widget.server.faults import Fault, FaultMode
from conduit_widget.server.store import TaskRecord

_T = TypeVar("_T")


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def check_key(key: str) -> str:
    if not isinstance(key, str) or not key.startswith(KEY_PREFIX) or len(key) < len(KEY_PREFIX) + 8:
        raise ValueError(f"A Conduit virtual key starts with '{KEY_PREFIX}' followed by at least 8 characters.")
    if any(c.isspace() for c in key):
        raise ValueError("A Conduit virtual key cannot contain spaces.")
    return key


class LocalConduit:
    """A Conduit-compatible server on this machine, rendering real images and videos.

    ``async with LocalConduit() as server:`` runs it on the current event loop (a notebook's included);
    ``with LocalConduit() as server:`` runs it on a loop of its own in a background thread.
    ``port=0`` picks a free port; ``base_url`` is known as soon as the object starts. ``profile`` picks which real
    server to be (`conduit_widget.server.profiles`): ``default``, ``conduit-2025.08``, ``conduit-gateway`` or
    ``js-client-docs``. ``limits`` are Kestrel's timeouts and the per-address connection cap
    (`conduit_widget.server.config.ConnectionLimits`); ``max_renders`` videos render at once, the rest stay queued.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        extra_keys: tuple[str, ...] = (),
        speed: float = 1.0,
        profile: str = "default",
        data_dir: str | Path | None = None,
        rate_limit_per_minute: int | None = None,
        keepalive_interval: float | None = None,
        client_timeout: float | None = None,
        limits: ConnectionLimits | None = None,
        max_renders: int = 2,
        extensions: Sequence[Extension] = (),
    ) -> None:
        if data_dir is not None and not isinstance(data_dir, str | os.PathLike):
            raise ValueError(f"data_dir must be a folder's path, got {data_dir!r}")
        self._api_key = check_key(api_key) if api_key is not None else generate_key()
        self.config = ServerConfig(
            host=host,
            port=port,
            api_keys=(self._api_key, *(check_key(k) for k in extra_keys)),
            speed=speed,
            profile=profile,
            data_dir=Path(data_dir) if data_dir is not None else None,
            rate_limit_per_minute=rate_limit_per_minute,
            keepalive_interval=keepalive_interval,
            client_timeout=client_timeout,
            limits=ConnectionLimits() if limits is None else limits,
            max_renders=max_renders,
        )
        self._extensions = tuple(extensions)  # more routes, made from the server's context (see app.build_app)
        self._socket: socket.socket | None = None
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def api_key(self) -> str:
        return self._api_key

    @property
    def base_url(self) -> str:
        if self._socket is None:
            raise RuntimeError("LocalConduit has not been started yet, so it has no port.")
        host, port = self._socket.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    def __repr__(self) -> str:
        where = self.base_url if self._socket is not None else "not started"
        return f"<LocalConduit {where} speed={self.config.speed:g} profile={self.config.profile}>"

    # -- on the current event loop -------------------------------------------------------------

    def _bind(self) -> None:
        if self._socket is None:
            # Bound before the loop serves it, so base_url is known at once; connections wait in the backlog.
            self._socket = socket.create_server((self.config.host, self.config.port), backlog=512)

    async def start(self) -> Self:
        if self._runner is not None:
            return self
        self._bind()
        assert self._socket is not None
        app = build_app(self.config, self.base_url, self._extensions)
        guard = app[GUARD]
        runner = web.AppRunner(
            app, access_log_class=RedactingAccessLogger, shutdown_timeout=1.0, **guard.keepalive_kwargs()
        )
        await runner.setup()
        assert runner.server is not None
        # In place of web.SockSite, which serves aiohttp's protocol bare: each connection gets Kestrel's timers
        # and the per-address cap around it (conduit_widget.server.connections).
        self._listener = await asyncio.get_running_loop().create_server(
            guard.protocols(runner.server), sock=self._socket, backlog=512
        )
        self._runner = runner
        return self

    def start_background(self) -> asyncio.Task[Self]:
        """Start on the running loop without waiting (for code that cannot ``await``, like a widget's
        constructor); ``base_url`` is usable at once and requests queue until the server is up."""
        self._bind()
        return asyncio.get_running_loop().create_task(self.start())

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()  # no new connections; the runner's cleanup then ends the open ones
        if runner is not None:
            await runner.cleanup()
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def drop_connections(self) -> int:
        """Cut every hub connection as a network failure would (failure injection for tests)."""
        return self._on_server_loop(lambda app: app[CONTEXT].hubs.drop_connections(), 0)

    def inject_fault(
        self,
        path: str,
        *,
        mode: FaultMode = "status",
        status: int = 500,
        body: Any = None,
        headers: dict[str, str] | None = None,
        method: str = "*",
        count: int = 1,
    ) -> None:
        """Make the next `count` requests to `path` (a prefix) fail; see `conduit_widget.server.faults`."""
        fault = Fault(path, method, mode, status, body, headers or {}, count)
        self._on_server_loop(lambda app: app[FAULTS].add(fault), None)

    def faults_taken(self) -> list[tuple[float, str, str]]:
        """Every request an injected fault answered so far: ``(time.monotonic(), method, path)``."""
        return self._on_server_loop(lambda app: list(app[FAULTS].taken), [])

    def tasks(self) -> list[TaskRecord]:
        """Copies of every task this server holds, those a previous run left in its data dir included: what
        was really created, whatever the clients heard."""
        return self._on_server_loop(lambda app: app[CONTEXT].store.records(), [])

    @property
    def hub_connections(self) -> int:
        """Hub connections open right now, both hubs together."""
        return self._on_server_loop(lambda app: app[CONTEXT].hubs.connection_count, 0)

    def record_hub_frames(self) -> list[bytes]:
        """From now on, append every frame a client sends on any hub to the returned list."""
        frames: list[bytes] = []
        self._on_server_loop(lambda app: app[CONTEXT].hubs.frame_listeners.append(frames.append), None)
        return frames

    def _on_server_loop(self, fn: Callable[[web.Application], _T], default: _T) -> _T:
        """Run `fn` on the server's loop: directly on the caller's, or across threads in thread mode."""
        if self._runner is None:
            return default
        app = self._runner.app
        if self._loop is not None and self._loop is not _running_loop():

            async def call() -> _T:
                return fn(app)

            return asyncio.run_coroutine_threadsafe(call(), self._loop).result(10)
        return fn(app)

    # -- in a thread of its own ----------------------------------------------------------------

    def __enter__(self) -> Self:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            # asyncio.Runner closes the loop as asyncio.run does: whatever is still pending (a handler whose client
            # has gone, no longer among the connections aiohttp's shutdown waits for) is cancelled and finishes,
            # instead of being destroyed pending, with a warning, when the closed loop is collected.
            with asyncio.Runner() as runner:
                loop = self._loop = runner.get_loop()
                try:
                    runner.run(self.start())
                except BaseException as exc:
                    failure.append(exc)
                    ready.set()
                    return
                ready.set()
                loop.run_forever()
                runner.run(self.stop())

        self._thread = threading.Thread(target=run, name="local-conduit", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._thread = self._loop = None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    with contextlib.suppress(RuntimeError):
        return asyncio.get_running_loop()
    return None
