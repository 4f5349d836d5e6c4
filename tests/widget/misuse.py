"""What every misuse must come to: one ConduitError, on one line, naming what was wrong (issue 17).

Shared by the misuse tables of the widget (tests/widget/test_misuse.py) and of the client
(tests/client/test_misuse.py).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

from conduit_widget import ConduitError

HANG: float = 10.0  # seconds: a call that has not answered by then is a hang, whatever it would have said


async def outcome(call: Callable[[], Awaitable[Any] | Any]) -> BaseException | None:
    """What `call` raised (None if nothing), within `HANG` seconds. A CancelledError that escapes it is returned as
    what it raised; a hang fails the test."""
    try:
        async with asyncio.timeout(HANG) as deadline:
            result = call()
            if isinstance(result, Awaitable):
                await result
    except asyncio.CancelledError as exc:
        return exc
    except Exception as exc:
        assert not deadline.expired(), f"it hung for {HANG:g} s"
        return exc
    return None


async def then(first: Awaitable[Any], call: Callable[[Any], Any]) -> Any:
    """`call` on what `first` gives (a widget that finished, a client that was closed), awaited if need be."""
    made = await first
    result = call(made)
    return await result if isinstance(result, Awaitable) else result


def assert_one_line_error(error: BaseException | None, *words: str, kind: type[ConduitError] = ConduitError) -> None:
    """`error` is a `kind` (a ConduitError subclass: a builtin exception only through one of ours, never a
    CancelledError), its message one line that contains each of `words`, and IPython shows it as that line."""
    assert error is not None, "nothing was raised"
    assert isinstance(error, kind), f"{type(error).__module__}.{type(error).__name__}: {error}"
    text = str(error)
    assert text.strip() and "\n" not in text, f"not one line: {text!r}"
    for word in words:
        assert re.search(re.escape(word), text, re.IGNORECASE), f"{word!r} is not in {text!r}"
    shown = error._render_traceback_()
    assert len(shown) == 1 and "\n" not in shown[0], shown
