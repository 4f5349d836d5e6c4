"""Every misuse of GenerationWidget and Gallery, as a table: wrong types, wrong values, calls after close(), calls
made twice or at the same time. Each must end in one ConduitError on one line that names what was wrong; never a
builtin exception (other than through our subclasses: DeadlineExceededError is also a TimeoutError), never a
CancelledError, never a hang. The constructors' wrong arguments have their own property tests in
test_bad_input.py; a few are repeated here so that the table covers every public entry point.
"""

from __future__ import annotations

import asyncio
import builtins
import math
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from conduit_widget import (
    ConduitClient,
    ConduitError,
    ConfigurationError,
    DeadlineExceededError,
    Gallery,
    GenerationWidget,
)
from tests.widget.misuse import assert_one_line_error, outcome, then

pytestmark = pytest.mark.security("every misuse of a public method is a one-line error")


class Rig:
    """A started client on the suite's local Conduit, a folder, and the widgets a case made (closed after it)."""

    def __init__(self, client: ConduitClient, folder: Path) -> None:
        self.client = client
        self.folder = folder
        self.made: list[Any] = []

    def widget(self, prompt: str = "a red fox", **options: Any) -> GenerationWidget:
        options.setdefault("size", "64x64")
        widget = GenerationWidget(prompt, client=self.client, **options)
        self.made.append(widget)
        return widget

    async def running(self, **options: Any) -> GenerationWidget:
        """A widget whose task runs on the server and never ends by itself."""
        widget = self.widget(model="test-hang", **options)
        while widget.task is None:
            await asyncio.sleep(0.01)
        return widget

    async def finished(self, **options: Any) -> GenerationWidget:
        widget = self.widget(**options)
        await widget.wait(20)
        return widget

    async def closed(self) -> GenerationWidget:
        widget = await self.running()
        widget.close()
        return widget

    def gallery(self, **options: Any) -> Gallery:
        gallery = Gallery(client=self.client, **options)
        self.made.append(gallery)
        return gallery


@pytest.fixture
async def rig(client, tmp_path) -> AsyncIterator[Rig]:
    rig = Rig(client, tmp_path)
    yield rig
    for made in rig.made:
        task = getattr(made, "task", None)
        if task is not None and not task.done:
            await client.rest.cancel(task.kind, task.id)
        made.close()


async def _wait_then_close(rig: Rig) -> None:
    widget = await rig.running()
    waiting = asyncio.ensure_future(widget.wait())
    await asyncio.sleep(0.05)
    widget.close()
    await waiting


async def _generate_many_with_a_closed_client(rig: Rig) -> None:
    async with ConduitClient(rig.client.base_url, rig.client.rest._key.reveal()) as client:
        pass
    await Gallery(client=client).generate_many(["a fox"], size="64x64")


# name: (call, the error's class, words its message must contain)
Case = tuple[Callable[[Rig], Any], type[ConduitError], tuple[str, ...]]
CASES: dict[str, Case] = {
    # -- GenerationWidget(...)
    "GenerationWidget(kind=3)": (lambda rig: rig.widget(kind=3), ConfigurationError, ("kind",)),
    "GenerationWidget(embed_media='yes')": (
        lambda rig: rig.widget(embed_media="yes"),
        ConfigurationError,
        ("embed_media",),
    ),
    "GenerationWidget(client='x')": (
        lambda rig: GenerationWidget("a fox", client="x"),
        ConfigurationError,
        ("client",),
    ),
    "GenerationWidget(modle=...)": (lambda rig: rig.widget(modle="dall-e-3"), ConfigurationError, ("modle",)),
    # -- wait()
    "wait(timeout=0.001)": (
        lambda rig: then(rig.running(), lambda w: w.wait(timeout=0.001)),
        DeadlineExceededError,
        ("0.001 s", "it goes on", "await widget.wait()"),
    ),
    "wait(timeout='5')": (
        lambda rig: then(rig.running(), lambda w: w.wait(timeout="5")),
        ConfigurationError,
        ("timeout",),
    ),
    "wait(timeout=0)": (
        lambda rig: then(rig.running(), lambda w: w.wait(timeout=0)),
        ConfigurationError,
        ("timeout",),
    ),
    "wait(timeout=-1)": (
        lambda rig: then(rig.running(), lambda w: w.wait(timeout=-1)),
        ConfigurationError,
        ("timeout",),
    ),
    "wait(timeout=nan)": (
        lambda rig: then(rig.running(), lambda w: w.wait(math.nan)),
        ConfigurationError,
        ("timeout",),
    ),
    "wait(timeout=True)": (lambda rig: then(rig.running(), lambda w: w.wait(True)), ConfigurationError, ("timeout",)),
    "wait() before generate()": (
        lambda rig: rig.widget(auto_start=False).wait(),
        ConfigurationError,
        ("nothing to wait for", "generate()"),
    ),
    "wait() after close()": (lambda rig: then(rig.closed(), lambda w: w.wait()), ConduitError, ("widget was closed",)),
    "wait() while close() is called": (_wait_then_close, ConduitError, ("widget was closed",)),
    "wait() on a refused input": (lambda rig: rig.widget(n=0).wait(1), ConduitError, ("n",)),
    # -- generate() / cancel()
    "generate() after close()": (lambda rig: then(rig.closed(), lambda w: w.generate()), ConduitError, ("closed",)),
    "cancel() after close()": (lambda rig: then(rig.closed(), lambda w: w.cancel()), ConduitError, ("closed",)),
    # -- save() / save_now()
    "save() before the result": (lambda rig: then(rig.running(), lambda w: w.save()), ConfigurationError, ("wait()",)),
    "save(path=3)": (lambda rig: then(rig.finished(), lambda w: w.save(3)), ConfigurationError, ("path", "3")),
    "save(path=b'fox.png')": (
        lambda rig: then(rig.finished(), lambda w: w.save(b"fox.png")),
        ConfigurationError,
        ("path",),
    ),
    "save('')": (lambda rig: then(rig.finished(), lambda w: w.save("")), ConfigurationError, ("path",)),
    "save(a file where a folder is needed)": (
        lambda rig: then(_file(rig, "taken"), lambda w: w.save(rig.folder / "taken" / "fox.png")),
        ConfigurationError,
        ("cannot save", "taken", "a file is in the way"),
    ),
    "save(a folder that cannot be written)": (
        lambda rig: then(rig.finished(), lambda w: w.save("/sys/fox.png")),
        ConfigurationError,
        ("cannot save", "/sys", "permission denied"),
    ),
    "save(a name too long)": (
        lambda rig: then(rig.finished(), lambda w: w.save(rig.folder / ("x" * 300 + ".png"))),
        ConfigurationError,
        ("cannot save", "xxx", "too long"),
    ),
    "save_now() before the result": (
        lambda rig: then(rig.running(), lambda w: w.save_now()),
        ConfigurationError,
        ("wait()",),
    ),
    "save_now() of media not embedded": (
        lambda rig: then(rig.finished(embed_media=False), lambda w: w.save_now(rig.folder)),
        ConduitError,
        ("await widget.save(",),
    ),
    "save_now(path=[])": (lambda rig: then(rig.finished(), lambda w: w.save_now([])), ConfigurationError, ("path",)),
    # -- Gallery
    "Gallery(columns=0)": (lambda rig: rig.gallery(columns=0), ConfigurationError, ("columns",)),
    "generate_many('a fox')": (lambda rig: rig.gallery().generate_many("a fox"), ConfigurationError, ("prompts",)),
    "generate_many(kind='gif')": (
        lambda rig: rig.gallery().generate_many(["a fox"], kind="gif"),
        ConfigurationError,
        ("kind",),
    ),
    "generate_many(concurrency=0)": (
        lambda rig: rig.gallery().generate_many(["a fox"], concurrency=0),
        ConfigurationError,
        ("concurrency",),
    ),
    "generate_many(n='2')": (lambda rig: rig.gallery().generate_many(["a fox"], n="2"), ConfigurationError, ("n",)),
    "generate_many() after close()": (
        lambda rig: then(_closed_gallery(rig), lambda g: g.generate_many(["a fox"])),
        ConduitError,
        ("gallery was closed",),
    ),
    "generate_many() with a closed client": (_generate_many_with_a_closed_client, ConduitError, ("closed",)),
}


async def _file(rig: Rig, name: str) -> GenerationWidget:
    (rig.folder / name).write_text("a file, not a folder")
    return await rig.finished()


async def _closed_gallery(rig: Rig) -> Gallery:
    gallery = rig.gallery()
    gallery.close()
    return gallery


@pytest.mark.parametrize("name", list(CASES))
async def test_each_misuse_is_one_line_naming_what_was_wrong(rig: Rig, name: str) -> None:
    call, kind, words = CASES[name]
    error = await outcome(lambda: call(rig))
    assert_one_line_error(error, *words, kind=kind)


async def test_a_widget_timeout_is_also_the_builtin_timeout_error_and_leaves_the_task_running(rig: Rig) -> None:
    widget = await rig.running()
    with pytest.raises(builtins.TimeoutError):  # `except TimeoutError` keeps working
        await widget.wait(timeout=0.01)
    assert widget.task is not None and not widget.task.done
    assert widget.status in ("pending", "processing")
    await widget.cancel()
    assert (await widget.wait(20)).status == "cancelled"  # waited for again, as the message says


async def test_a_wait_follows_the_run_that_a_new_generate_started(rig: Rig) -> None:
    widget = await rig.running()  # its task never ends by itself: only the second run can answer the wait
    first = widget.task
    waiting = asyncio.ensure_future(widget.wait(30))
    await asyncio.sleep(0.02)
    widget.model = ""
    widget.generate()  # the first run is cancelled: the waiter gets the second one's result, not a CancelledError
    result = await waiting
    assert result.ok and result.task_id == widget.task_id != first.id
    await rig.client.rest.cancel("image", first.id)


async def test_calls_made_twice_or_at_once_agree(rig: Rig) -> None:
    widget = await rig.finished(n=2)
    first, second = await asyncio.gather(widget.wait(5), widget.wait(5))
    assert first == second
    saved = await asyncio.gather(widget.save(rig.folder / "a.png"), widget.save(rig.folder / "a.png"))
    assert saved[0] == saved[1] == [rig.folder / "a-1.png", rig.folder / "a-2.png"]
    assert await widget.cancel() is None  # nothing running: an awaitable of None, not a TypeError
    widget.close()
    widget.close()
    gallery = rig.gallery()
    gallery.close()
    gallery.close()


async def test_a_folder_path_is_a_folder_and_nothing_is_half_written(rig: Rig, monkeypatch) -> None:
    widget = await rig.finished(n=2, embed_media=False)
    monkeypatch.chdir(rig.folder)
    files = await widget.save("no/such/dir/")  # it used to write a file named `dir`
    assert [f.parent for f in files] == [Path("no/such/dir")] * 2
    assert all((rig.folder / f).read_bytes().startswith(b"\x89PNG") for f in files)

    blocked = rig.folder / "blocked"
    blocked.mkdir()
    (blocked / "fox-2.png").mkdir()  # the second file cannot be written
    error = await outcome(lambda: widget.save(blocked / "fox.png"))
    assert_one_line_error(error, "fox-2.png", kind=ConfigurationError)
    assert sorted(p.name for p in blocked.iterdir()) == ["fox-2.png"], "a file was left half-written"
