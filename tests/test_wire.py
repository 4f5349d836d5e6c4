"""The SignalR framing both sides use: VarInt lengths as the spec writes them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conduit_widget.wire import LengthTooLong, read_length, varint


@given(st.integers(0, 2**32 - 1), st.binary(max_size=4))
def test_a_length_reads_back_from_where_it_was_written(n, before):
    data = before + varint(n) + b"body"
    assert read_length(data, len(before)) == (n, len(before) + len(varint(n)))


@pytest.mark.parametrize(("n", "encoded"), [(0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (16384, b"\x80\x80\x01")])
def test_lengths_are_seven_bits_a_byte_low_group_first(n, encoded):
    assert varint(n) == encoded


def test_a_length_cut_short_waits_and_one_of_six_bytes_is_refused():
    assert read_length(b"\x80\x80", 0) is None
    assert read_length(b"", 0) is None
    with pytest.raises(LengthTooLong):
        read_length(b"\xff\xff\xff\xff\xff\x01", 0)
