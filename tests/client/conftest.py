"""Local Conduits for the client tests: one per event dialect, each in its own thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conduit_widget.server import LocalConduit


@pytest.fixture(scope="session", params=["conduit", "seed"])
def dialect_server(request: pytest.FixtureRequest) -> Iterator[LocalConduit]:
    """A server speaking only one dialect, so a client that understood only the other would fail."""
    with LocalConduit(speed=100, events=request.param) as server:
        yield server
