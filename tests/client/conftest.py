"""The client suite runs against every profile of the local Conduit."""

from __future__ import annotations

import pytest

from conduit_widget.server import LocalConduit


@pytest.fixture(scope="session")
def conduit(each_conduit: LocalConduit) -> LocalConduit:
    return each_conduit
