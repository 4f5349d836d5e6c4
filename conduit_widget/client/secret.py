"""A virtual key that stays out of reprs, logs and tracebacks."""

from __future__ import annotations

import os

from conduit_widget.client import redaction
from conduit_widget.client.errors import ConfigurationError
from conduit_widget.protocol import KEY_PREFIX


class Secret:
    """Holds the key; ``str()``/``repr()`` show only that there is one. ``reveal()`` is the one way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError("The Conduit API key is empty.")
        if any(c.isspace() for c in value):
            raise ConfigurationError("The Conduit API key contains spaces; check how it was copied.")
        self._value = value
        redaction.remember(value)  # whatever echoes it back (a server, a library's log) is blanked out

    def reveal(self) -> str:
        return self._value

    @property
    def looks_like_a_virtual_key(self) -> bool:
        return self._value.startswith(KEY_PREFIX)

    def __repr__(self) -> str:
        return "Secret('condt_…')" if self.looks_like_a_virtual_key else "Secret('…')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> str:  # never pickled into a saved notebook or a cache
        raise TypeError("a Secret cannot be pickled")


def from_environment(name: str = "CONDUIT_API_KEY") -> Secret | None:
    value = os.environ.get(name, "").strip()
    return Secret(value) if value else None
