"""How long to wait before trying again, and how a dead connection is noticed: the client's timing policies.

One backoff rule serves both retries: a hub link's reconnects (`Backoff`, which users tune) and a REST call's
retries (`RetryPolicy`, shorter, and deferring to a server's ``Retry-After``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from conduit_widget.client import inputs
from conduit_widget.client.errors import ConfigurationError


@dataclass(frozen=True)
class Backoff:
    """Delays between attempts: ``initial * 2**n`` capped at ``maximum``, each scaled by 0.5..1 at random
    so that many clients cut off together do not all come back at the same instant."""

    initial: float = 0.5
    maximum: float = 30.0

    def __post_init__(self) -> None:
        # Checked when made, wherever it is made: a wrong backoff fails here, not at the first reconnect.
        inputs.seconds("backoff initial", self.initial)
        inputs.seconds("backoff maximum", self.maximum)
        if self.maximum < self.initial:
            raise ConfigurationError(
                f"backoff maximum ({self.maximum:g} s) must not be less than its initial delay ({self.initial:g} s)"
            )

    def delay(self, attempt: int) -> float:
        base = min(self.maximum, self.initial * 2.0 ** max(0, attempt - 1))
        return float(base * (0.5 + random.random() / 2))


@dataclass(frozen=True)
class Keepalive:
    """How a connection that went quiet is found dead.

    When nothing has arrived for ``ping_interval`` seconds the link sends a WebSocket ping; no pong within
    ``ping_timeout`` seconds and the connection counts as dead: it is dropped and a new one opened (a stalled
    network is noticed within ``ping_interval + ping_timeout`` seconds). ``server_timeout`` is the SignalR
    client's server timeout, a second guard for a server that answers pings but whose hub has stopped: no
    hub message at all (events or the server's own keepalive pings) for that long drops the connection too.
    Conduit pings every 30 s, so ``server_timeout`` must stay at 60 s or more against it."""

    ping_interval: float = 5.0
    ping_timeout: float = 5.0
    server_timeout: float = 60.0

    def __post_init__(self) -> None:
        for name in ("ping_interval", "ping_timeout", "server_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigurationError(f"Keepalive {name} must be a number of seconds greater than 0, got {value!r}")


@dataclass(frozen=True)
class RetryPolicy:
    """A REST call's retries: at most ``max_retries`` more attempts, waiting as ``backoff`` says (attempt 0 is the
    first retry) unless the server said how long (``Retry-After``)."""

    max_retries: int = 3
    backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.5, maximum=8.0))

    def __post_init__(self) -> None:
        inputs.whole("max_retries", self.max_retries, minimum=0)
        if not isinstance(self.backoff, Backoff):
            raise ConfigurationError(f"backoff must be a Backoff(initial=..., maximum=...), got {self.backoff!r:.80}")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return self.backoff.delay(attempt + 1)


Transport = Literal["auto", "websocket", "polling"]


@dataclass(frozen=True)
class Intervals:
    """How a client follows its tasks: over hubs or by polling, how often it reads, how often it retries."""

    transport: Transport
    poll_interval: float
    watchdog_interval: float
    retry_failed: int
