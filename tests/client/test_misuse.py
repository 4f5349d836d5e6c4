"""Every misuse of ConduitClient, Task and the blocking helpers, as a table: wrong types and values, calls after
aclose(), at the same time as it, on another event loop, and server faults. Each must end in one ConduitError on
one line naming what was wrong; never a builtin exception (other than through our subclasses), never a
CancelledError, never a hang. Wrong arguments to the constructors and creates have their property tests in
test_bad_input.py; this table covers the calls made on a client and its tasks.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import conduit_widget
from conduit_widget import (
    AuthError,
    ConduitClient,
    ConduitError,
    ConfigurationError,
    DeadlineExceededError,
    LocalConduit,
    ServerError,
)
from conduit_widget.client.sync import RunningLoopError
from tests.conftest import route
from tests.widget.misuse import assert_one_line_error, outcome, then

pytestmark = pytest.mark.security("every misuse of a public method is a one-line error")


class Rig:
    def __init__(self, client: ConduitClient, server: LocalConduit) -> None:
        self.client = client
        self.server = server
        self.hanging_tasks: list[str] = []

    async def hanging(self) -> Any:
        task = await self.client.generate_image("a fox", size="64x64", model="test-hang")
        self.hanging_tasks.append(task.id)
        return task

    async def closed(self) -> ConduitClient:
        await self.client.aclose()
        return self.client


@pytest.fixture
async def rig(conduit) -> AsyncIterator[Rig]:
    client = ConduitClient(conduit.base_url, conduit.api_key)
    await client.start()
    rig = Rig(client, conduit)
    yield rig
    await client.aclose()
    async with ConduitClient(conduit.base_url, conduit.api_key) as cleaner:  # the case may have closed its client
        for task_id in rig.hanging_tasks:
            await cleaner.rest.cancel("image", task_id)


async def _wait_after_close(rig: Rig) -> None:
    task = await rig.hanging()
    await rig.client.aclose()
    await task.wait()


async def _iterate_after_close(rig: Rig) -> None:
    task = await rig.hanging()
    waiting = asyncio.ensure_future(_drain(task))
    await asyncio.sleep(0.05)
    await rig.client.aclose()
    await waiting


async def _drain(task: Any) -> None:
    async for _ in task:
        pass


async def _wait_after_forget(rig: Rig) -> None:
    task = await rig.hanging()
    waiting = asyncio.ensure_future(task.wait())
    await asyncio.sleep(0.05)
    rig.client.forget(task)
    await waiting


async def _start_while_closing(rig: Rig) -> None:
    client = ConduitClient(rig.server.base_url, rig.server.api_key)
    starting = asyncio.ensure_future(client.start())
    await asyncio.sleep(0)
    await client.aclose()
    await starting


async def _generate_while_closing(rig: Rig) -> None:
    client = ConduitClient(rig.server.base_url, rig.server.api_key)
    creating = asyncio.ensure_future(client.generate_image("a fox", size="64x64"))
    await asyncio.sleep(0)
    await client.aclose()
    await creating


async def _server_fault(rig: Rig) -> None:
    rig.server.inject_fault(route(rig.server, "image_create"), status=500, body="<html>\n<b>boom</b>\n</html>")
    await rig.client.generate_image("a fox", size="64x64")


async def _wrong_key(rig: Rig) -> None:
    async with ConduitClient(rig.server.base_url, "condt_" + "w" * 30) as client:
        await client.generate_image("a fox", size="64x64")


# name: (call, the error's class, words its message must contain)
Case = tuple[Callable[[Rig], Any], type[ConduitError], tuple[str, ...]]
CASES: dict[str, Case] = {
    # -- Task
    "task.wait(timeout=0.001)": (
        lambda rig: then(rig.hanging(), lambda t: t.wait(timeout=0.001)),
        DeadlineExceededError,
        ("0.001 s", "not cancelled", "await task.wait()"),
    ),
    "task.wait(timeout='5')": (
        lambda rig: then(rig.hanging(), lambda t: t.wait("5")),
        ConfigurationError,
        ("timeout",),
    ),
    "task.wait(timeout=-1)": (lambda rig: then(rig.hanging(), lambda t: t.wait(-1)), ConfigurationError, ("timeout",)),
    "task.wait(cancel_on_timeout='yes')": (
        lambda rig: then(rig.hanging(), lambda t: t.wait(1, cancel_on_timeout="yes")),
        ConfigurationError,
        ("cancel_on_timeout",),
    ),
    "task.wait() after aclose()": (_wait_after_close, ConduitError, ("no longer followed", "closed")),
    "async for after aclose()": (_iterate_after_close, ConduitError, ("no longer followed", "closed")),
    "task.wait() after forget()": (_wait_after_forget, ConduitError, ("no longer followed", "forget()")),
    "task.on_update(3)": (
        lambda rig: then(rig.hanging(), lambda t: t.on_update(3)),
        ConfigurationError,
        ("callback",),
    ),
    "task.cancel() after aclose()": (
        lambda rig: then(rig.hanging(), lambda t: then(rig.closed(), lambda _: t.cancel())),
        ConfigurationError,
        ("closed",),
    ),
    # -- ConduitClient
    "client.task(123)": (lambda rig: rig.client.task(123), ConfigurationError, ("task_id",)),
    "client.task(kind='gif')": (lambda rig: rig.client.task("task_1", kind="gif"), ConfigurationError, ("kind",)),
    "client.task() after aclose()": (
        lambda rig: then(rig.closed(), lambda c: c.task("task_1")),
        ConfigurationError,
        ("closed",),
    ),
    "client.forget('task_1')": (lambda rig: rig.client.forget("task_1"), ConfigurationError, ("forget", "Task")),
    "client.download(3)": (lambda rig: rig.client.download(3), ConfigurationError, ("url",)),
    "client.download() after aclose()": (
        lambda rig: then(rig.closed(), lambda c: c.download("http://127.0.0.1/a.png")),
        ConfigurationError,
        ("closed",),
    ),
    "client.connection_state('gif')": (lambda rig: rig.client.connection_state("gif"), ConfigurationError, ("kind",)),
    "client.generation_models('gif')": (lambda rig: rig.client.generation_models("gif"), ConfigurationError, ("kind",)),
    "client.on('nope', print)": (lambda rig: rig.client.on("nope", print), ConfigurationError, ("event",)),
    "client.on('progress', 3)": (lambda rig: rig.client.on("progress", 3), ConfigurationError, ("callback",)),
    "client.models() after aclose()": (
        lambda rig: then(rig.closed(), lambda c: c.models()),
        ConfigurationError,
        ("closed",),
    ),
    "client.generate_image() after aclose()": (
        lambda rig: then(rig.closed(), lambda c: c.generate_image("a fox")),
        ConfigurationError,
        ("closed",),
    ),
    "client.generate_video(duration=2.5)": (
        lambda rig: rig.client.generate_video("waves", duration=2.5),
        ConfigurationError,
        ("duration",),
    ),
    "client.start() while aclose()": (_start_while_closing, ConfigurationError, ("closed",)),
    "client.generate_image() while aclose()": (_generate_while_closing, ConfigurationError, ("closed",)),
    # -- server faults
    "a 500 with an HTML body on create": (_server_fault, ServerError, ("500",)),
    "a key the server refuses": (_wrong_key, AuthError, ("401",)),
    # -- the blocking helpers, where a loop runs
    "generate_image() in a running loop": (
        lambda rig: conduit_widget.generate_image("a fox"),
        RunningLoopError,
        ("await",),
    ),
    "generate_video() in a running loop": (
        lambda rig: conduit_widget.generate_video("waves"),
        RunningLoopError,
        ("await",),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_each_misuse_is_one_line_naming_what_was_wrong(rig: Rig, name: str) -> None:
    call, kind, words = CASES[name]
    error = await outcome(lambda: call(rig))
    assert_one_line_error(error, *words, kind=kind)


async def test_calls_made_twice_or_at_once_agree(rig: Rig) -> None:
    task = await rig.client.generate_image("a fox", size="64x64")
    first, second = await asyncio.gather(task.wait(20), task.wait(20))
    assert first is second and first.ok
    assert await task.cancel() is first  # it had ended: the ending, not an error
    assert (await rig.client.task(task.id).wait(20)).ok  # a second handle on an ended task reads its ending
    await asyncio.gather(rig.client.start(), rig.client.start())
    await asyncio.gather(rig.client.aclose(), rig.client.aclose())
    await rig.client.aclose()


def test_a_client_used_on_a_second_event_loop_says_so(conduit) -> None:
    client = ConduitClient(conduit.base_url, conduit.api_key)

    async def again() -> BaseException | None:
        return await outcome(client.models)

    with asyncio.Runner() as first:
        first.run(client.start())
        error = asyncio.run(again())  # a second loop, as a second asyncio.run in a script makes
        first.run(client.aclose())
    assert_one_line_error(error, "another event loop", kind=ConfigurationError)


def test_client_task_outside_an_event_loop_says_so(conduit) -> None:
    client = ConduitClient(conduit.base_url, conduit.api_key)
    with pytest.raises(ConfigurationError) as info:
        client.task("task_1")
    assert_one_line_error(info.value, "event loop", kind=ConfigurationError)


@pytest.mark.parametrize(
    ("options", "kind", "words"),
    [
        ({"timeout": "5"}, ConfigurationError, ("timeout",)),
        ({"timeout": 0.3, "model": "test-hang"}, DeadlineExceededError, ("0.3 s",)),
        ({"n": 0}, ConfigurationError, ("n",)),
    ],
)
def test_the_blocking_helpers_misused_outside_a_loop(
    conduit, options: dict[str, Any], kind: type, words: tuple[str, ...]
) -> None:
    try:
        conduit_widget.generate_image(
            "a fox", size="64x64", base_url=conduit.base_url, api_key=conduit.api_key, **options
        )
    except BaseException as exc:  # the point is what comes out, whatever it is
        assert_one_line_error(exc, *words, kind=kind)
    else:
        pytest.fail("nothing was raised")
    if kind is DeadlineExceededError:
        assert issubclass(kind, builtins.TimeoutError)
