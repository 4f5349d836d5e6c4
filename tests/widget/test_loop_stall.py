"""Nothing the widget, Gallery or client offers blocks the kernel's event loop for more than 100 ms (issue 17).

Each public call runs as a notebook runs it: on the loop that also serves the in-process local Conduit that an
unconfigured client starts (so a blocking download there would not just stall the loop, it would wait for its
own answer), while `LoopStalls` records how late the loop's wake-ups come. Every call also has to finish within
its `asyncio.timeout`: a hang fails as loudly as a stall.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import conduit_widget
from conduit_widget import ConduitClient, ConduitError, Gallery, GenerationWidget
from tests.widget.stall import LIMIT, LoopStalls, waited_for_cpu

pytestmark = pytest.mark.security("nothing the widget or client offers blocks the kernel's event loop")


class Rig:
    """A client on the in-process local Conduit (nothing configured, as in a fresh notebook), and a folder."""

    def __init__(self, client: ConduitClient, folder: Path) -> None:
        self.client = client
        self.folder = folder

    def widget(self, **options: Any) -> GenerationWidget:
        return GenerationWidget("a lighthouse at dusk", size="64x64", client=self.client, **options)

    async def finished(self, **options: Any) -> GenerationWidget:
        widget = self.widget(**options)
        await widget.wait(20)
        return widget


@pytest.fixture
async def rig(monkeypatch, tmp_path) -> AsyncIterator[Rig]:
    for name in ("CONDUIT_BASE_URL", "CONDUIT_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    async with ConduitClient(local_speed=100) as client:
        assert client.is_local
        yield Rig(client, tmp_path)


async def _video(rig: Rig) -> None:
    task = await rig.client.generate_video("waves", size="64x64", duration=1)
    await task.wait(20)


async def _iterate(rig: Rig) -> None:
    task = await rig.client.generate_image("a fox", size="64x64")
    async for _ in task:
        pass


async def _cancel_task(rig: Rig) -> None:
    task = await rig.client.generate_image("a fox", size="64x64", model="test-hang")
    await task.cancel()


async def _handle(rig: Rig) -> None:
    task = await rig.client.generate_image("a fox", size="64x64")
    await rig.client.task(task.id).wait(20)


async def _download(rig: Rig) -> None:
    task = await rig.client.generate_image("a fox", size="64x64")
    result = await task.wait(20)
    assert (await rig.client.download(result.urls[0])).startswith(b"\x89PNG")


async def _widget_cancel(rig: Rig) -> None:
    widget = rig.widget(model="test-hang")
    while widget.task is None:
        await asyncio.sleep(0.01)
    assert await widget.cancel() is not None
    assert (await widget.wait(20)).status == "cancelled"


async def _save(rig: Rig) -> None:
    widget = await rig.finished(embed_media=False, n=2)
    assert widget.media == []
    files = await widget.save(f"{rig.folder}/out/")
    assert [f.parent.name for f in files] == ["out", "out"]


async def _save_now(rig: Rig) -> None:
    widget = await rig.finished()
    assert widget.save_now(rig.folder / "fox.png") == [rig.folder / "fox.png"]


async def _gallery(rig: Rig) -> None:
    gallery = Gallery(client=rig.client, columns=2)
    results = await gallery.generate_many(["a cat", "a dog", "a cow"], size="64x64", concurrency=3)
    assert all(r is not None and r.ok for r in results)
    gallery.close()


async def _blocking_helper(rig: Rig) -> None:
    with pytest.raises(ConduitError):
        conduit_widget.generate_image("a fox")  # in a running loop it refuses at once, rather than block it


async def _start_another(rig: Rig) -> None:
    async with ConduitClient(local_speed=100) as client:  # the same loop's local Conduit, shared
        assert client.is_local


CALLS: dict[str, Callable[[Rig], Awaitable[Any]]] = {
    "ConduitClient().start() and aclose()": _start_another,
    "client.generate_image() and task.wait()": lambda rig: _download(rig),
    "client.generate_video() and task.wait()": _video,
    "async for update in task": _iterate,
    "task.cancel()": _cancel_task,
    "client.task(id).wait()": _handle,
    "client.models()": lambda rig: rig.client.models(),
    "client.generation_models()": lambda rig: rig.client.generation_models("video"),
    "GenerationWidget(...) and widget.wait()": lambda rig: rig.finished(),
    "widget.generate() again": lambda rig: _generate_again(rig),
    "widget.cancel()": _widget_cancel,
    "await widget.save(...) with embed_media=False": _save,
    "widget.save_now(...)": _save_now,
    "widget.close()": lambda rig: _close(rig),
    "Gallery.generate_many() and close()": _gallery,
    "conduit_widget.generate_image() in a loop": _blocking_helper,
}


async def _generate_again(rig: Rig) -> None:
    widget = await rig.finished()
    job = widget.generate()
    assert job is not None
    await job
    assert (await widget.wait(20)).ok


async def _close(rig: Rig) -> None:
    widget = rig.widget(model="test-hang")
    while widget.task is None:
        await asyncio.sleep(0.01)
    widget.close()


@pytest.fixture(autouse=True)
def no_garbage_of_earlier_tests() -> Iterator[None]:
    """A full collection of what a thousand earlier tests left behind takes 300 ms in a long pytest session: the
    garbage is collected and the survivors frozen first, so that what is measured is the call, not the session."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.mark.parametrize("name", list(CALLS))
async def test_no_public_call_blocks_the_loop(rig: Rig, name: str) -> None:
    async with asyncio.timeout(60), LoopStalls() as stalls:
        await CALLS[name](rig)
    assert stalls.ticks > 0, "the ticker never ran"
    assert stalls.worst < LIMIT, (
        f"{name} held the event loop for {stalls.worst * 1000:.0f} ms "
        f"(the machine kept it from a CPU for {stalls.waited_for_cpu * 1000:.0f} ms in all, already taken out)"
    )


def _spin(seconds: float) -> None:
    """Compute for `seconds` of this thread's CPU time (on a loaded machine the wall clock runs on further)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


@pytest.mark.parametrize("block", [time.sleep, _spin], ids=["a blocking sleep", "a busy computation"])
async def test_the_ruler_sees_a_real_block_in_full(block: Callable[[float], None]) -> None:
    """Taking the machine's delays out does not hide a call's own: neither sleeping in a blocking call nor
    computing is time spent waiting for a CPU."""
    async with LoopStalls() as stalls:
        await asyncio.sleep(0.02)
        block(0.3)
    assert stalls.worst >= 0.25, f"a 300 ms block measured {stalls.worst * 1000:.0f} ms"


def test_the_machines_delay_is_read_from_the_kernel() -> None:
    """The loop-stall tests run on Linux, where the scheduler counts each thread's wait for a CPU: a thread
    that has run at all has waited some (0 would mean the count is missing and nothing is taken out)."""
    first = waited_for_cpu()
    _spin(0.05)
    time.sleep(0.001)  # give the scheduler a switch to count
    assert waited_for_cpu() >= first > 0


async def test_starting_and_stopping_the_in_process_local_conduit_does_not_block_the_loop(monkeypatch) -> None:
    """The first unconfigured client of a loop starts the local Conduit on it (the rig's is already running)."""
    for name in ("CONDUIT_BASE_URL", "CONDUIT_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    async with asyncio.timeout(30), LoopStalls() as stalls, ConduitClient(local_speed=100) as client:
        await (await client.generate_image("a fox", size="64x64")).wait(20)
    assert stalls.worst < LIMIT, (
        f"the local Conduit's start and stop held the event loop for {stalls.worst * 1000:.0f} ms"
    )
