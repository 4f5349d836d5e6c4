"""Rules written once: every place that applies one agrees with it on every case.

The browser's side of each is in tests/widget/test_contract.py.
"""

from __future__ import annotations

import argparse
import re
import typing

import pytest

from conduit_widget import front_end, protocol
from conduit_widget.cli import _size as cli_size
from conduit_widget.client import inputs
from conduit_widget.client.models import TERMINAL, normalise_status
from conduit_widget.server.validation import Refusal
from conduit_widget.server.validation import _size as server_size

SIZES = (
    "1024x1024",
    "64x64",
    "0x64",
    "64x0",
    "064x64",
    "99999x1",
    "100000x1",
    "1024X1024",
    " 64x64",
    "64x64\n",
    "x",
    "",
)


@pytest.mark.parametrize("size", SIZES)
def test_the_client_the_widget_the_cli_and_the_local_conduit_read_a_size_alike(size: str) -> None:
    shaped = re.fullmatch(protocol.SIZE_PATTERN, size) is not None
    assert inputs.is_size(size) == shaped
    assert (front_end.problem_with("image", "p", 1, size, 0) is None) == (shaped or size == "")
    try:
        cli_size(size)
        cli_ok = True
    except argparse.ArgumentTypeError:
        cli_ok = False
    assert cli_ok == shaped
    try:
        server_size(size, "1024x1024", even=False)
        server_shaped = True
    except Refusal as refusal:
        # The local Conduit also has limits of its own (64 to 2048 pixels a side): those refusals say so.
        server_shaped = "must look like" not in refusal.message
    assert server_shaped == (shaped or size == "")  # an empty size is the server's default


def test_statuses_are_the_protocols() -> None:
    assert typing.get_args(protocol.Status) == protocol.STATUSES
    assert TERMINAL is protocol.TERMINAL_STATUSES
    assert [normalise_status(i) for i in range(len(protocol.STATUSES))] == list(protocol.STATUSES)
