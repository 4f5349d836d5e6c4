"""`PerLoop`: what a process keeps for each asyncio event loop, in one mechanism.

Links, servers and clients belong to the loop that made them: used from another they fail or hang. They are kept
by the loop object itself, weakly, never by ``id(loop)``: ids are reused, so a script calling ``asyncio.run`` twice
could be handed, on its second loop, a server or link bound to its dead first one. Here a new loop is a new key,
and a loop that is gone takes its values with it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class PerLoop(Generic[V]):
    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, V] = weakref.WeakKeyDictionary()

    def get(self) -> V | None:
        """The running loop's value, if it has one."""
        return self._by_loop.get(asyncio.get_running_loop())

    def setdefault(self, make: Callable[[], V]) -> V:
        """The running loop's value, made now if it has none."""
        loop = asyncio.get_running_loop()
        value = self._by_loop.get(loop)
        if value is None:
            value = self._by_loop[loop] = make()
        return value

    def set(self, value: V) -> V:
        self._by_loop[asyncio.get_running_loop()] = value
        return value

    def pop(self) -> V | None:
        return self._by_loop.pop(asyncio.get_running_loop(), None)

    def values(self) -> list[V]:
        """Every live loop's value."""
        return list(self._by_loop.values())
