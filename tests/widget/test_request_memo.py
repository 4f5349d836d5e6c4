"""The request memo on the real local Conduit: where marimo runs (its detection stood in for by `applies`), a
widget's first run adopts the live or completed task of the same request; elsewhere, and for an explicit
generate(), each run is a new task on the server."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest

from conduit_widget import Gallery, GenerationWidget, request_memo
from conduit_widget.client import ConduitClient
from conduit_widget.run_inputs import RunInputs
from conduit_widget.server import LocalConduit


@pytest.fixture
def in_marimo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As a marimo kernel: the memo applies (marimo itself is not imported: the browser tests run it for real)."""
    monkeypatch.setattr(request_memo, "applies", lambda: True)
    request_memo.forget_all()
    yield
    request_memo.forget_all()


def made(conduit: LocalConduit, prompt: str) -> list[str]:
    return [record.id for record in conduit.tasks() if record.prompt == prompt]


async def test_outside_marimo_every_widget_of_the_same_request_is_a_new_task(
    client: ConduitClient, conduit: LocalConduit
) -> None:
    assert "marimo" not in sys.modules or not request_memo.applies()
    widgets = [GenerationWidget("a memo outside marimo", size="64x64", client=client) for _ in range(2)]
    for widget in widgets:
        await widget.wait(30)
    assert len(made(conduit, "a memo outside marimo")) == 2
    for widget in widgets:
        widget.close()


async def test_in_marimo_a_rerun_follows_the_live_task_and_then_shows_the_finished_one(
    in_marimo: None, client: ConduitClient, conduit: LocalConduit
) -> None:
    first = GenerationWidget("a memo in marimo", size="64x64", client=client)
    live = GenerationWidget("a memo in marimo", size="64x64", client=client)  # while the first runs
    await first.wait(30)
    await live.wait(30)
    first.close()  # the re-run's old widget goes: the task it shares is still followed for the others
    after = GenerationWidget("a memo in marimo", size="64x64", client=client)
    await after.wait(30)
    assert len(made(conduit, "a memo in marimo")) == 1
    assert live.task_id == after.task_id == made(conduit, "a memo in marimo")[0]
    assert after.status == "completed" and after.media, "the adopted result is not shown"
    # Its timings are those of the run that made it, not of the moment it was adopted.
    assert after.details["ran_seconds"] == first.details["ran_seconds"] > 0

    another_seed = GenerationWidget("a memo in marimo", size="64x64", seed=7, client=client)
    await another_seed.wait(30)
    assert len(made(conduit, "a memo in marimo")) == 2, "a different seed is a different request"

    await after.generate()  # explicit: a new task, which later runs adopt
    assert len(made(conduit, "a memo in marimo")) == 3
    latest = GenerationWidget("a memo in marimo", size="64x64", client=client)
    await latest.wait(30)
    assert latest.task_id == after.task_id and len(made(conduit, "a memo in marimo")) == 3
    for widget in (live, after, another_seed, latest):
        widget.close()


async def test_in_marimo_a_failed_task_is_not_adopted(in_marimo: None, client: ConduitClient, conduit) -> None:
    failed = GenerationWidget("a memo that fails", model="test-fail", size="64x64", client=client)
    await failed.wait(30)
    assert failed.status == "failed"
    again = GenerationWidget("a memo that fails", model="test-fail", size="64x64", client=client)
    await again.wait(30)
    assert len(made(conduit, "a memo that fails")) == 2, "a re-run after a failure should try again"
    failed.close()
    again.close()


async def test_the_memo_holds_at_most_its_limit_of_requests_the_oldest_forgotten(
    in_marimo: None, client: ConduitClient
) -> None:
    task = await client.generate_image("a memo that fills up", size="64x64")
    await task.wait(30)
    runs = [RunInputs(f"request {i}", "image", "", "64x64", 1, 0.0, None) for i in range(request_memo.LIMIT + 44)]
    for run in runs:
        request_memo.remember(client.account, run, task)
    assert request_memo._adoptable(client.account, runs[-1]) is task
    assert request_memo._adoptable(client.account, runs[-request_memo.LIMIT]) is task
    assert request_memo._adoptable(client.account, runs[-request_memo.LIMIT - 1]) is None, (
        "the oldest was not forgotten"
    )
    assert len(request_memo._tasks) == request_memo.LIMIT


async def test_in_marimo_gallery_tiles_of_a_rerun_adopt_their_tasks(
    in_marimo: None, client: ConduitClient, conduit
) -> None:
    prompts = ["a memo tile one", "a memo tile two"]
    first, rerun = Gallery(client=client), Gallery(client=client)
    await first.generate_many(prompts, size="64x64")
    results = await rerun.generate_many(prompts, size="64x64")
    assert [r.status for r in results if r is not None] == ["completed"] * 2
    assert [len(made(conduit, p)) for p in prompts] == [1, 1]
    first.close()
    rerun.close()


async def test_in_marimo_another_visitors_loop_follows_and_cancels_a_live_task_made_on_this_one(
    in_marimo: None, client: ConduitClient, conduit: LocalConduit
) -> None:
    """`marimo run` gives each visitor a kernel thread with a loop of its own: the live task is adopted there."""
    owner = GenerationWidget("a memo across loops", model="test-hang", size="64x64", client=client)
    async with asyncio.timeout(30):
        while owner.task_id == "":  # created: a test-hang task never ends by itself
            await asyncio.sleep(0.02)

    async def visitor() -> tuple[str, list[str], str]:
        async with ConduitClient(conduit.base_url, conduit.api_key) as own:
            adopter = GenerationWidget("a memo across loops", model="test-hang", size="64x64", client=own)
            async with asyncio.timeout(30):
                while adopter.task_id == "":
                    await asyncio.sleep(0.02)
            seen = [adopter.status]
            await adopter.cancel()  # on the owner's loop, through its client
            result = await adopter.wait(30)
            adopter.close()
            return adopter.task_id, seen, result.status

    task_id, seen, status = await asyncio.to_thread(asyncio.run, visitor())
    assert task_id == owner.task_id and seen[0] not in ("cancelled", "failed")
    assert status == "cancelled"
    assert made(conduit, "a memo across loops") == [owner.task_id]
    await owner.wait(30)
    assert owner.status == "cancelled"
    owner.close()


async def test_in_marimo_a_visitor_with_another_key_never_adopts_a_task_that_is_not_theirs(
    in_marimo: None, client: ConduitClient, conduit: LocalConduit, other_key: str
) -> None:
    async with ConduitClient(conduit.base_url, other_key) as theirs:
        mine = GenerationWidget("a memo of two accounts", size="64x64", client=client)
        await mine.wait(30)
        other = GenerationWidget("a memo of two accounts", size="64x64", client=theirs)
        await other.wait(30)
        # A Conduit keeps each key's tasks to that key: the other visitor's request is a task of their own.
        assert len(made(conduit, "a memo of two accounts")) == 2
        assert mine.task_id != other.task_id
        again = GenerationWidget("a memo of two accounts", size="64x64", client=theirs)
        await again.wait(30)
        assert again.task_id == other.task_id  # and within one account, the memo still holds
        for widget in (mine, other, again):
            widget.close()
