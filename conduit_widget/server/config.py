"""Settings of one local Conduit server, with the defaults a real gateway would have."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Events = Literal["conduit", "seed", "both"]
Routes = Literal["conduit", "successor", "both"]


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 5000
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    speed: float = 1.0  # every delay is divided by this
    events: Events = "both"
    data_dir: Path | None = None
    keepalive_interval: float = 15.0  # ASP.NET's HubOptions default; real Conduit uses 30
    client_timeout: float = 60.0  # Conduit's ClientTimeoutInterval
    handshake_timeout: float = 15.0
    max_hub_message: int = 32 * 1024  # Conduit's MaximumReceiveMessageSize
    max_body: int = 1024 * 1024
    rate_limit_per_minute: int | None = None  # per key, on the create routes
    max_retries: int = 3
    bench: bool = False  # POST /_local/bench/burst: benchmark bursts (conduit_widget.server.bench)
    routes: Routes = "conduit"  # "successor": media routes under /v1/conduit/, as nickna/Conduit has them

    def __post_init__(self) -> None:
        # Each wrong setting named before anything starts: a server that fails later, or never answers, says less.
        if not isinstance(self.host, str) or not self.host:
            raise ValueError(f"host must be an address such as '127.0.0.1', got {self.host!r}")
        if not _is_int(self.port) or not 0 <= self.port <= 65535:
            raise ValueError(f"port must be a whole number from 0 to 65535 (0 picks a free one), got {self.port!r}")
        for name in ("speed", "keepalive_interval", "client_timeout", "handshake_timeout"):
            value = getattr(self, name)
            if not _is_number(value) or not 0 < value < math.inf:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.events not in ("conduit", "seed", "both"):
            raise ValueError(f"events must be 'conduit', 'seed' or 'both', got {self.events!r}")
        if self.routes not in ("conduit", "successor", "both"):
            raise ValueError(f"routes must be 'conduit', 'successor' or 'both', got {self.routes!r}")
        if self.rate_limit_per_minute is not None and (
            not _is_int(self.rate_limit_per_minute) or self.rate_limit_per_minute < 1
        ):
            raise ValueError(f"rate limit must be at least 1 request a minute, got {self.rate_limit_per_minute!r}")
        if not isinstance(self.bench, bool):
            raise ValueError(f"bench must be True or False, got {self.bench!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
