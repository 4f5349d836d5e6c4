"""Checking what a user passes to the client, before anything is sent: one clear error naming the argument.

A wrong type or an impossible value is a `ConfigurationError` (also a ValueError) that says which argument,
what it must be and what it got, never a TypeError from deep inside httpx or asyncio, and never a request
the server has to refuse. What only the server can judge (is this model there? is 4096x4096 too big for
it?) is left to the server, whose answer comes back as a typed error too. No message ever repeats the API
key, even when the key was passed where something else belongs.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from conduit_widget.client.errors import ConfigurationError
from conduit_widget.client.redaction import REDACTED, redact
from conduit_widget.protocol import KEY_PREFIX, SIZE_PATTERN, VIDEO_SECONDS

_SIZE: Final = re.compile(SIZE_PATTERN)
_SHOWN: Final = 80  # characters of a wrong value repeated in a message


def shown(value: Any, secret: str | None = None) -> str:
    """A wrong value as a message may repeat it: short, and with any key in it blanked out."""
    text = repr(value)
    if secret:
        text = text.replace(secret, REDACTED)  # even one too short for `remember`, as redact() marks any key
    text = redact(text)  # before shortening: a key cut in two would no longer be recognised
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def seconds(name: str, value: Any, *, optional: bool = False, zero: bool = False, unit: str = "seconds") -> None:
    """A finite number (of seconds), greater than 0 (or at least 0 with `zero`); None too if `optional`."""
    if value is None and optional:
        return
    low = "0 or more" if zero else "greater than 0"
    if not _is_number(value) or not math.isfinite(value) or (value < 0 if zero else value <= 0):
        none = " (or None for no limit)" if optional and unit == "seconds" else " (or None)" if optional else ""
        raise ConfigurationError(
            f"{name} must be a number{' of ' + unit if unit else ''} {low}{none}, got {shown(value)}"
        )


def whole(name: str, value: Any, *, minimum: int, optional: bool = False) -> None:
    """A whole number (not a bool, not a float) of at least `minimum`; None too if `optional`."""
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        none = " (or None)" if optional else ""
        raise ConfigurationError(f"{name} must be a whole number of at least {minimum}{none}, got {shown(value)}")


def one_of(name: str, value: Any, options: Collection[str]) -> None:
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ConfigurationError(f"{name} must be one of {listed}, got {shown(value)}")


def text(name: str, value: Any, *, optional: bool = True, empty: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or (not empty and not value.strip()):
        kind = "a string" if empty else "a non-empty string"
        raise ConfigurationError(f"{name} must be {kind}, got {shown(value)}")


def callback(name: str, value: Any) -> None:
    if not callable(value):
        raise ConfigurationError(f"{name} must be a function (plain or async), got {shown(value)}")


# -- ConduitClient(...) ---------------------------------------------------------------------------


def api_key(value: Any) -> None:
    """The parts of a key's shape the server cannot be asked about; never repeats the value."""
    if value is None:
        return
    if not isinstance(value, str):
        raise ConfigurationError(
            f"api_key must be a string (a virtual key, {KEY_PREFIX}...), got a {type(value).__name__}"
        )
    if value.strip() and not (value.isascii() and value.isprintable()):
        raise ConfigurationError(
            "api_key has characters an HTTP header cannot carry (not plain ASCII): check how it was copied."
        )


def base_url(value: Any, key: str | None) -> None:
    """An http(s) URL with a host. `key` (if known) is kept out of the message, in case the two were swapped."""
    if value is None:
        return
    if not isinstance(value, str):
        raise ConfigurationError(
            f"base_url must be a string like 'https://conduit.example.com', got a {type(value).__name__}"
        )
    swapped = key is not None and key.startswith(("http://", "https://"))
    if swapped or value.startswith(KEY_PREFIX) or (key is not None and value.strip() == key):
        raise ConfigurationError(
            "base_url looks like an API key: ConduitClient(base_url, api_key) takes the URL first "
            "(e.g. ConduitClient('https://conduit.example.com', api_key=...))."
        )
    if not value.startswith(("http://", "https://")) and "://" not in value:
        # Not even an attempt at a URL: perhaps a key (of any shape) passed first. Say so, and repeat nothing.
        raise ConfigurationError(
            "base_url must start with http:// or https://, like 'https://conduit.example.com' (what was given is not "
            "a URL; if it was the API key, pass it as api_key=...)"
        )
    problem = None
    if not value.startswith(("http://", "https://")):
        problem = "must start with http:// or https://"
    elif any(c.isspace() or not c.isprintable() for c in value):
        problem = "must not contain spaces or control characters"
    else:
        try:
            host = urlsplit(value).hostname
        except ValueError:
            host = None
        if not host:
            problem = "must name a host, like https://conduit.example.com"
    if problem is not None:
        raise ConfigurationError(f"base_url {problem}, got {shown(value, key)}")


def client_options(options: Mapping[str, Any], *, backoff_type: type[Any]) -> None:
    """Everything `ConduitClient(...)` takes but the URL and the key."""
    one_of("transport", options["transport"], ("auto", "websocket", "polling"))
    one_of("hub_protocol", options["hub_protocol"], ("json", "messagepack"))
    if options["hub_protocol"] == "messagepack":
        try:
            import lz4.block  # noqa: F401 - the frame reader needs it for the Gateway's compressed arguments
        except ImportError:
            raise ConfigurationError(
                "hub_protocol='messagepack' needs lz4 (the Gateway compresses large arguments with it): "
                "pip install 'conduit-widget[messagepack]', or keep the default JSON"
            ) from None
    one_of("routes", options["routes"], ("auto", "conduit", "successor"))
    seconds("timeout", options["timeout"])
    seconds("connect_timeout", options["connect_timeout"])
    seconds("total_timeout", options["total_timeout"], optional=True)
    whole("max_retries", options["max_retries"], minimum=0)
    whole("max_reconnect_attempts", options["max_reconnect_attempts"], minimum=0, optional=True)
    if not isinstance(options["backoff"], backoff_type):  # a Backoff checks its own values when it is made
        raise ConfigurationError(
            f"backoff must be a Backoff(initial=..., maximum=...), got {shown(options['backoff'])}"
        )
    seconds("poll_interval", options["poll_interval"])
    seconds("watchdog_interval", options["watchdog_interval"])
    whole("retry_failed", options["retry_failed"], minimum=0)
    seconds("local_speed", options["local_speed"], optional=True, unit="")  # a factor: 2 is twice as fast


# -- generate_image(...) / generate_video(...) ----------------------------------------------------

_SEED_MAX: Final = 2**31 - 1


def video_seconds(value: Any) -> int | None:
    """A video's duration as the whole seconds Conduit takes (`int? Duration`: 4.0 is a 400 there), or None."""
    if value is None:
        return None
    low, high = VIDEO_SECONDS
    if not _is_number(value) or not math.isfinite(value) or value != int(value) or not low <= value <= high:
        raise ConfigurationError(
            f"duration must be a whole number of seconds from {low} to {high} (Conduit takes no fractions), "
            f"got {shown(value)}"
        )
    return int(value)


def seed(value: Any) -> None:
    """A seed: None, or a whole number Conduit binds (a video's `int? Seed` is an Int32: a larger one is a 400)."""
    whole("seed", value, minimum=0, optional=True)
    if value is not None and value > _SEED_MAX:
        raise ConfigurationError(f"seed must be at most {_SEED_MAX}, got {shown(value)}")


def is_size(value: object) -> bool:
    """Whether `value` is a size as Conduit takes it: width x height in pixels ("1024x1024")."""
    return isinstance(value, str) and _SIZE.fullmatch(value) is not None


def request(kind: str, prompt: Any, model: Any, body: Mapping[str, Any]) -> None:
    """A create request's arguments; `body` holds the rest, None meaning "not given"."""
    text("prompt", prompt, optional=False)
    text("model", model, empty=True)
    size = body.get("size")
    if size is not None and not (is_size(size) or size == "auto"):
        raise ConfigurationError(
            f"size must look like '1024x1024' (width x height in pixels) or be 'auto', got {shown(size)}"
        )
    for name in ("quality", "style"):
        text(name, body.get(name))
    seed(body.get("seed"))
    if kind == "image" and body.get("n") is not None:
        whole("n", body["n"], minimum=1)
    if kind == "video":
        video_seconds(body.get("duration"))
        if body.get("fps") is not None:
            whole("fps", body["fps"], minimum=1)
    for name, value in body.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            raise ConfigurationError(
                f"{name} must be something JSON can carry (text, numbers, lists, dicts; no NaN), got {shown(value)}"
            ) from None
