"""Fixtures every test can use: a fast local Conduit, running in a thread of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conduit_widget.server import LocalConduit, generate_key
from conduit_widget.server.profiles import PROFILES, get_profile
from tests import security

OTHER_KEY = generate_key()  # a second customer of the same server, for ownership checks


@pytest.fixture(scope="session")
def conduit() -> Iterator[LocalConduit]:
    """Shared by the whole session at speed 100: an image takes tens of milliseconds. The default profile; the
    client, widget and CLI suites take `each_conduit` in its place (see their conftest)."""
    with LocalConduit(speed=100, extra_keys=(OTHER_KEY,)) as server:
        yield server


@pytest.fixture(scope="session", params=list(PROFILES))
def each_conduit(request: pytest.FixtureRequest) -> Iterator[LocalConduit]:
    """One local Conduit per profile, each as strict as the real server it plays: a test that takes it runs against
    every version the project claims to work with, so that a mismatch with any of them fails."""
    with LocalConduit(speed=100, profile=request.param, extra_keys=(OTHER_KEY,)) as server:
        yield server


@pytest.fixture
def other_key() -> str:
    return OTHER_KEY


def distinct_steps(server: LocalConduit, images: int = 1) -> int:
    """How many distinct progress values an image task shows at least, by how often the profile's server reports:
    every sampler step (the local models), the start and each stored image (7c3fd76a), or the start alone (the
    Gateway); the ending's 100 included."""
    cadence = get_profile(server.config.profile).image_progress
    return {"steps": 5, "per-image": 1 + images, "start-only": 2}[cadence]


def route(server: LocalConduit, name: str, task_id: str = "") -> str:
    """A media route of the server's profile (``image_create``, ``video_status`` ...), under its prefix."""
    return get_profile(server.config.profile).routes[name].format(task_id=task_id)


# -- the security checklist (tests/security.py) -----------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "security(check): the test shows one promise of tests/security.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        security.check_of(item)  # an unknown check name fails the run at once


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        item = _ITEMS.get(report.nodeid)
        if item is not None:
            security.record(item, report.outcome)


_ITEMS: dict[str, pytest.Item] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    _ITEMS.update({item.nodeid: item for item in session.items})


def pytest_sessionfinish() -> None:
    security.finish()
