"""Fixtures every test can use: a fast local Conduit, running in a thread of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conduit_widget.server import LocalConduit, generate_key
from tests import security

OTHER_KEY = generate_key()  # a second customer of the same server, for ownership checks


@pytest.fixture(scope="session")
def conduit() -> Iterator[LocalConduit]:
    """Shared by the whole session at speed 100: an image takes tens of milliseconds."""
    with LocalConduit(speed=100, extra_keys=(OTHER_KEY,)) as server:
        yield server


@pytest.fixture
def other_key() -> str:
    return OTHER_KEY


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
