"""`PerLoop` keeps values by the loop object: a second `asyncio.run` never sees the first one's."""

from __future__ import annotations

import asyncio
import gc

from conduit_widget.client.per_loop import PerLoop


def test_each_loop_has_its_own_value_and_a_new_loop_starts_empty() -> None:
    kept: PerLoop[list[int]] = PerLoop()

    async def use(n: int) -> list[int] | None:
        before = kept.get()
        kept.setdefault(list).append(n)
        return before

    assert asyncio.run(use(1)) is None
    gc.collect()  # the first loop is gone; a new one may well get its id
    assert asyncio.run(use(2)) is None
    assert kept.values() == []  # both loops are gone, and their lists with them


def test_two_live_loops_do_not_share() -> None:
    kept: PerLoop[str] = PerLoop()
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:

        async def put(value: str) -> str | None:
            kept.set(value)
            return kept.get()

        assert first.run_until_complete(put("a")) == "a"
        assert second.run_until_complete(put("b")) == "b"
        assert sorted(kept.values()) == ["a", "b"]

        async def take() -> str | None:
            return kept.pop()

        assert first.run_until_complete(take()) == "a"
        assert kept.values() == ["b"]
    finally:
        first.close()
        second.close()
