"""One paid generation per request in marimo: a re-run or another visitor adopts the live or finished task.

marimo re-runs a cell when it, or anything upstream of it, changes, and `marimo run` runs the whole notebook once
per visitor; neither is a request for a new picture, yet each made a new GenerationWidget that started a new
generation. So in marimo the first run of a widget (its auto start, or a Gallery tile's first run) looks here first:
a task of the same request (the same account, server and key, and the same kind, prompt, model, size, n, duration
and seed) that is still running is followed, one that completed is shown, and only otherwise is a new one created. A
failed, cancelled or timed-out task is not adopted: running the cell again after one of those is a reason to try
again. An explicit `generate()`, Retry or Generate always creates a new task (and becomes the one later runs adopt).

In Jupyter this is off: a Jupyter user re-running a cell usually wants a new picture, and nothing re-runs cells
behind their back. Detecting marimo never imports it (`sys.modules`): a lean install does not load it.

In `marimo run` each visitor's kernel is a thread of one process with an event loop of its own, and a Task lives
on the loop of the client that made it. A task adopted from another loop is therefore waited for, cancelled and
listened to on its owner's loop (`on_owner_loop`, `follow`), its updates handed back with call_soon_threadsafe:
trait changes still happen only on the adopting widget's own loop. A task whose loop has stopped is not adopted.
The memo holds at most `LIMIT` requests, the oldest forgotten first.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Final, TypeVar

from conduit_widget.client.models import TaskResult, TaskUpdate
from conduit_widget.client.task import Task
from conduit_widget.details import RunClock
from conduit_widget.run_inputs import RunInputs

T = TypeVar("T")
LIMIT: Final = 256
Key = tuple[Any, ...]

_lock = threading.Lock()  # visitors' kernels are threads: the memo is shared between them
_tasks: OrderedDict[Key, Task] = OrderedDict()
_owners: weakref.WeakKeyDictionary[Task, asyncio.AbstractEventLoop] = weakref.WeakKeyDictionary()
_clocks: weakref.WeakKeyDictionary[Task, RunClock] = weakref.WeakKeyDictionary()  # the timings of the run that made it
# Requests whose task is being created (on that loop): a second run of one waits for it rather than create another.
_creating: dict[Key, tuple[asyncio.AbstractEventLoop, asyncio.Future[Task | None]]] = {}


def applies() -> bool:
    """True inside a running marimo notebook or app (never imports marimo)."""
    marimo = sys.modules.get("marimo")
    if marimo is None:
        return False
    try:
        return bool(marimo.running_in_notebook())
    except Exception:  # an unexpected marimo: behave as Jupyter does
        return False


def key_of(account: Hashable, run: RunInputs) -> Key:
    """`account` is the client's (`ConduitClient.account`): a Conduit keeps each key's tasks to that key, and a
    visitor with another key must not be shown, or cancel, a task that is not theirs."""
    return (account, run.kind, run.prompt, run.model, run.size, run.n, run.duration, run.seed)


async def task_for(
    account: Hashable, run: RunInputs, adopt: bool, create: Callable[[], Awaitable[Task]], clock: RunClock
) -> Task:
    """The task of this run: outside marimo always `create()`d; in marimo adopted if `adopt` and there is one
    (or one is being created), else created and remembered for later runs. `create`'s errors pass through."""
    if not applies():
        return await create()
    key = key_of(account, run)
    if adopt:
        with _lock:
            pending = _creating.get(key)
        made = await _created(*pending) if pending is not None else None
        found = made or _adoptable(account, run)
        if found is not None:
            return found
    here = asyncio.get_running_loop()
    creation: asyncio.Future[Task | None] = here.create_future()
    with _lock:
        _creating[key] = (here, creation)
    task: Task | None = None
    try:
        task = await create()
        remember(account, run, task, clock)
        return task
    finally:
        creation.set_result(task)  # None when it failed: those waiting create their own
        with _lock:
            if _creating.get(key) == (here, creation):
                del _creating[key]


async def _created(owner: asyncio.AbstractEventLoop, creation: asyncio.Future[Task | None]) -> Task | None:
    if owner is asyncio.get_running_loop():
        return await asyncio.shield(creation)
    if not owner.is_running():
        return None

    async def there() -> Task | None:
        return await asyncio.shield(creation)

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(there(), owner))


def _adoptable(account: Hashable, run: RunInputs) -> Task | None:
    """The live or completed task of this request, if there is one to follow."""
    with _lock:
        task = _tasks.get(key_of(account, run))
        owner = _owners.get(task) if task is not None else None
    if task is None or owner is None:
        return None
    if task.done:
        return task if task.result is not None and task.result.ok else None
    return task if owner.is_running() and not owner.is_closed() else None


def clock_of(task: Task, mine: RunClock) -> RunClock:
    """The clock of the run that created `task` (an adopted task's timings are that run's), else `mine`."""
    with _lock:
        return _clocks.get(task, mine)


def remember(account: Hashable, run: RunInputs, task: Task, clock: RunClock | None = None) -> None:
    """`task` is the one later runs of this request adopt (made on the running loop), timed by `clock`."""
    key = key_of(account, run)
    with _lock:
        _tasks[key] = task
        if clock is not None:
            _clocks[task] = clock
        _tasks.move_to_end(key)
        _owners[task] = asyncio.get_running_loop()
        while len(_tasks) > LIMIT:
            _tasks.popitem(last=False)


def shared(task: Task) -> bool:
    """Whether others may adopt `task`: a widget that lets go of it must not stop its client following it."""
    with _lock:
        return task in _tasks.values()


def _owner(task: Task) -> asyncio.AbstractEventLoop | None:
    with _lock:
        owner = _owners.get(task)
    return None if owner is None or owner is asyncio.get_running_loop() else owner


async def on_owner_loop(task: Task, call: Callable[[], Awaitable[T]]) -> T:
    """`await call()` on the loop that follows `task` (this one, unless it was adopted from another visitor)."""
    owner = _owner(task)
    if owner is None:
        return await call()

    async def there() -> T:
        return await call()

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(there(), owner))


async def wait(task: Task) -> TaskResult:
    """`task.wait()`; a finished task's result at once, even when the loop that followed it has gone."""
    if task.done and task.result is not None:
        return task.result
    return await on_owner_loop(task, task.wait)


def follow(task: Task, callback: Callable[[TaskUpdate], Any]) -> Callable[[], None]:
    """`task.on_update(callback)`, the callback always called on this loop; returns what stops it."""
    owner = _owner(task)
    if owner is None:
        return task.on_update(callback)
    here = asyncio.get_running_loop()

    def relay(update: TaskUpdate) -> None:
        if not here.is_closed():
            here.call_soon_threadsafe(callback, update)

    unhooks: list[Callable[[], None]] = []
    owner.call_soon_threadsafe(lambda: unhooks.append(task.on_update(relay)))

    def stop() -> None:
        owner.call_soon_threadsafe(lambda: [unhook() for unhook in unhooks])

    return stop


def forget_all() -> None:
    """Empty the memo (tests)."""
    with _lock:
        _tasks.clear()
