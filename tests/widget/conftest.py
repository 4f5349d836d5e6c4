"""Widgets outside a kernel: ipywidgets gives them a DummyComm, whose sends a spy can count."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from conduit_widget import ConduitClient
from conduit_widget.server import LocalConduit


class CommSpy:
    """Every state update the widget would send to the browser, with when."""

    def __init__(self, widget: Any) -> None:
        self.updates: list[tuple[float, dict[str, Any]]] = []
        self.update_buffers: list[bytes] = []  # the binary traits' bytes, which leave `state` for the buffers
        self.custom: list[tuple[dict[str, Any], list[bytes]]] = []  # messages (not state), with their buffers
        self._send = widget.comm.send
        widget.comm.send = self.send

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        if isinstance(data, dict) and data.get("method") == "update":
            self.updates.append((time.monotonic(), data["state"]))
            self.update_buffers += [bytes(b) for b in buffers or ()]
        elif isinstance(data, dict) and data.get("method") == "custom":
            self.custom.append((data["content"], [bytes(b) for b in buffers or ()]))
        self._send(data=data, metadata=metadata, buffers=buffers)

    def values(self, trait: str) -> list[Any]:
        return [state[trait] for _, state in self.updates if trait in state]


@pytest.fixture(scope="session")
def conduit(each_conduit: LocalConduit) -> LocalConduit:
    """The widget suite runs against every profile of the local Conduit."""
    return each_conduit


@pytest.fixture
async def client(conduit) -> AsyncIterator[ConduitClient]:
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        yield client
