"""The Gallery on the real local Conduit: tiles that fill in, one header for the set, and the front end's
cancel, cancel-all and retry, sent as the browser sends them (custom messages through the widget's comm)."""

from __future__ import annotations

import asyncio
from typing import Any

from conduit_widget import Gallery, GenerationWidget
from tests.widget.conftest import CommSpy


def from_browser(gallery: Gallery, content: dict[str, Any]) -> None:
    """What ipywidgets does with a message the front end sent (`model.send`)."""
    gallery._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


async def until(predicate: Any, what: str, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_tiles_fill_in_with_pictures_under_one_header(client) -> None:
    gallery = Gallery(client=client, columns=3)
    spy = CommSpy(gallery)
    results = await gallery.generate_many(["a cat", "a dog", "a cow"], size="96x64", concurrency=2)
    assert [r.status for r in results if r is not None] == ["completed"] * 3
    assert [t["status"] for t in gallery.tiles] == ["completed"] * 3
    assert [t["prompt"] for t in gallery.tiles] == ["a cat", "a dog", "a cow"]
    assert all(p.startswith("data:image/jpeg;base64,") for p in gallery.pictures)
    assert gallery.backend == "local simulator" and gallery.connection == "connected"
    assert all(isinstance(w, GenerationWidget) for w in gallery.widgets) and len(gallery.tasks) == 3
    # Queued, then under way: the browser saw the tiles wait for their slot.
    seen = [t["status"] for tiles in spy.values("tiles") for t in tiles]
    assert "queued" in seen and "completed" in seen
    # The pictures go out once each, not with every progress tick.
    assert len(spy.values("pictures")) <= 1 + 3
    gallery.close()


async def test_one_queued_tile_and_then_all_are_cancelled_from_the_browser(client) -> None:
    gallery = Gallery(client=client)
    running = asyncio.ensure_future(
        gallery.generate_many(["a", "b", "c"], model="test-hang", size="64x64", concurrency=1)
    )
    await until(lambda: gallery.widgets and gallery.widgets[0].task is not None, "the first task")
    assert [t["status"] for t in gallery.tiles][1:] == ["queued", "queued"]
    from_browser(gallery, {"type": "cancel", "index": 2})
    await until(lambda: gallery.tiles[2]["status"] == "cancelled", "the queued tile cancelled")
    from_browser(gallery, {"type": "cancel_all", "index": -1})
    async with asyncio.timeout(30):
        results = await running
    assert results[0] is not None and results[0].status == "cancelled"
    assert results[1:] == [None, None]
    assert [t["status"] for t in gallery.tiles] == ["cancelled"] * 3
    assert [w.task is None for w in gallery.widgets] == [False, True, True], "a cancelled queued tile started"
    assert all(t["retryable"] for t in gallery.tiles)
    gallery.close()


async def test_a_failed_tile_says_why_and_retry_runs_it_again(client) -> None:
    gallery = Gallery(client=client)
    (result,) = await gallery.generate_many(["a fox"], model="test-fail", size="64x64")
    assert result is not None and result.status == "failed"
    (tile,) = gallery.tiles
    assert tile["status"] == "failed" and tile["retryable"] and tile["error"]
    assert "\n" not in tile["error"] and len(tile["error"]) <= 140
    first = gallery.widgets[0].task
    from_browser(gallery, {"type": "retry", "index": 0})
    await until(lambda: gallery.widgets[0].task is not first, "a second task")
    await until(lambda: gallery.tiles[0]["status"] == "failed", "the retry to end")
    from_browser(gallery, {"type": "retry", "index": "0"})  # a wrong index from the browser is ignored
    from_browser(gallery, {"type": "explode"})
    gallery.close()


async def test_a_tiles_media_stay_in_the_kernel_and_its_small_picture_goes_to_the_browser(client, tmp_path) -> None:
    gallery = Gallery(client=client)
    job = gallery.generate_many(["a cat", "a dog"], size="320x240")
    spies = [CommSpy(tile) for tile in gallery.widgets]  # made in the call, before its first step runs
    await job
    for tile, spy in zip(gallery.widgets, spies, strict=True):
        assert tile._media.full.types == ["image/png"]  # save() and the picture have them
        # A GenerationWidget all the same, but with no front end of its own: the Gallery shows it.
        assert isinstance(tile, GenerationWidget) and len(tile._esm) < 200 and tile._css == ""
        sent = {name for _, state in spy.updates for name in state}
        assert "status" in sent and not sent & {"media", "poster"}  # nor in a saved notebook's widget state
    assert all(p.startswith("data:image/jpeg;base64,") for p in gallery.pictures)
    saved = await gallery.widgets[0].save(tmp_path)
    assert saved[0].read_bytes() == gallery.widgets[0]._media.full.media[0]
    gallery.close()
