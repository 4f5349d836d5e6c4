"""The server tests' own fixtures: the local Conduit as each real server it can be."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conduit_widget.server import LocalConduit
from conduit_widget.server.profiles import PROFILES, Profile, get_profile
from tests.conftest import OTHER_KEY


@pytest.fixture(scope="session", params=list(PROFILES))
def served(request: pytest.FixtureRequest) -> Iterator[LocalConduit]:
    """One local Conduit per profile, shared by the session: a contract test runs against every version."""
    with LocalConduit(speed=100, profile=request.param, extra_keys=(OTHER_KEY,)) as server:
        yield server


def profile_of(server: LocalConduit) -> Profile:
    return get_profile(server.config.profile)
