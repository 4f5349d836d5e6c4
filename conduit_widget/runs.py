"""A widget's runs on the kernel's event loop, as its public calls see them: always awaitable, ended by a
ConduitError one-liner (never a builtin TimeoutError, a CancelledError or a traceback).

A run is the `asyncio.Task` a `generate()` starts. A new `generate()` or `close()` cancels it; someone awaiting
`widget.wait()` then follows the run that replaced it, or hears that the widget was closed.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from conduit_widget.client import ConduitError, ConfigurationError, DeadlineExceededError, inputs

if TYPE_CHECKING:
    from conduit_widget.client.task import Task

log = logging.getLogger(__name__)

Run = asyncio.Task["Task | None"]
CLOSED: Final = "the widget was closed (its task goes on on the server): make a new GenerationWidget"


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def settled(value: Any) -> asyncio.Future[Any] | None:
    """An awaitable of `value` (so that `await widget.cancel()` works when there was nothing to cancel), or None
    where no loop runs (and nothing could be awaited)."""
    loop = running_loop()
    if loop is None:
        return None
    future = loop.create_future()
    future.set_result(value)
    return future


def as_conduit_error(exc: BaseException | None) -> ConduitError:
    """A run's failure as a one-line ConduitError; an unexpected one is logged with its traceback first."""
    if isinstance(exc, ConduitError):
        return exc
    log.error("a widget's run failed", exc_info=exc)
    return ConduitError(f"the generation failed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")


async def outcome(
    current: Callable[[], Run | None], closed: Callable[[], bool], timeout: Any, describe: Callable[[], str]
) -> Task | None:
    """What the current run (`current()`) ends with, within `timeout` seconds. `describe` says where the widget is
    (its repr: kind, prompt, status, progress), for the message of a timeout."""
    inputs.seconds("timeout", timeout, optional=True)
    try:
        async with asyncio.timeout(timeout):
            return await _followed(current, closed)
    except DeadlineExceededError:
        raise  # the client's own deadline, inside the run: its message says which
    except builtins.TimeoutError:
        raise DeadlineExceededError(
            f"the task did not finish within {timeout:g} s ({describe()}); it goes on: `await widget.wait()` again "
            "to keep waiting, or widget.cancel() to stop it"
        ) from None


async def _followed(current: Callable[[], Run | None], closed: Callable[[], bool]) -> Task | None:
    while True:
        if closed():
            raise ConduitError(CLOSED)
        run = current()
        if run is None:
            raise ConfigurationError("Nothing to wait for: call generate() first (or create with auto_start=True).")
        try:
            return await asyncio.shield(run)  # shielded: a wait that times out leaves the run going
        except asyncio.CancelledError:
            if not run.cancelled() or (current() is run and not closed()):
                raise  # the wait itself was cancelled (an interrupted cell)
        except Exception as exc:
            raise as_conduit_error(exc) from None
