"""Settings of one local Conduit server. What a real server would decide (timeouts, limits, shapes) is its
profile's (`conduit_widget.server.profiles`); these are the local Conduit's own knobs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from conduit_widget.server.profiles import PROFILES


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a connection may take over its request, and how many one client address may hold.

    The timeouts are Kestrel's (KestrelServerLimits, dotnet/aspnetcore src/Servers/Kestrel/Core/src/
    KestrelServerLimits.cs): RequestHeadersTimeout 30 s, counted from a request's first byte to the end of its
    headers; KeepAliveTimeout 130 s, a connection with no request under way; MinRequestBodyDataRate 240 bytes/s
    after a grace of 5 s. Tests shorten them. Kestrel caps no client address (MaxConcurrentConnections, global, is
    unlimited by default); `per_address` is the local Conduit's own guard, see `conduit_widget.server.connections`.
    """

    request_headers_timeout: float = 30.0
    keepalive_timeout: float = 130.0
    min_body_rate: float = 240.0  # bytes a second, averaged since the body began
    body_rate_grace: float = 5.0
    per_address: int = 256

    def __post_init__(self) -> None:
        for name in ("request_headers_timeout", "keepalive_timeout", "min_body_rate", "body_rate_grace"):
            value = getattr(self, name)
            if not _is_number(value) or not 0 < value < math.inf:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not _is_int(self.per_address) or self.per_address < 1:
            raise ValueError(f"per_address must be at least 1 connection, got {self.per_address!r}")


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 5000
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    speed: float = 1.0  # every delay is divided by this
    profile: str = "default"  # which server to be: a name in conduit_widget.server.profiles.PROFILES
    data_dir: Path | None = None
    # The hubs' keepalive and client timeout, for tests that cannot wait 30 s; None: the profile's own.
    keepalive_interval: float | None = None
    client_timeout: float | None = None
    max_body: int = 1024 * 1024
    rate_limit_per_minute: int | None = None  # per key, on the create routes
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    # Videos rendered at once; the rest stay queued (pending), as behind a provider's queue: memory stays bounded.
    max_renders: int = 2

    def __post_init__(self) -> None:
        # Each wrong setting named before anything starts: a server that fails later, or never answers, says less.
        if not isinstance(self.host, str) or not self.host:
            raise ValueError(f"host must be an address such as '127.0.0.1', got {self.host!r}")
        if not _is_int(self.port) or not 0 <= self.port <= 65535:
            raise ValueError(f"port must be a whole number from 0 to 65535 (0 picks a free one), got {self.port!r}")
        for name in ("speed", "keepalive_interval", "client_timeout"):
            value = getattr(self, name)
            if (value is not None or name == "speed") and (not _is_number(value) or not 0 < value < math.inf):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if self.rate_limit_per_minute is not None and (
            not _is_int(self.rate_limit_per_minute) or self.rate_limit_per_minute < 1
        ):
            raise ValueError(f"rate limit must be at least 1 request a minute, got {self.rate_limit_per_minute!r}")
        if not isinstance(self.limits, ConnectionLimits):
            raise ValueError(f"limits must be a ConnectionLimits, got {self.limits!r}")
        if not _is_int(self.max_renders) or self.max_renders < 1:
            raise ValueError(f"max_renders must be at least 1, got {self.max_renders!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
