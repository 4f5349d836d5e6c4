"""Fixtures every test can use: a fast local Conduit, running in a thread of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conduit_widget.server import LocalConduit, generate_key

OTHER_KEY = generate_key()  # a second customer of the same server, for ownership checks


@pytest.fixture(scope="session")
def conduit() -> Iterator[LocalConduit]:
    """Shared by the whole session at speed 100: an image takes tens of milliseconds."""
    with LocalConduit(speed=100, extra_keys=(OTHER_KEY,)) as server:
        yield server


@pytest.fixture
def other_key() -> str:
    return OTHER_KEY
