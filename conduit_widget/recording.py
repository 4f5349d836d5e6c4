"""Final states sent again under the running cell, so that a notebook executor records them.

An executor (nbclient, so ``jupyter nbconvert --execute``, papermill and nbval) writes into the saved notebook only
the messages whose parent is the cell it is running. A widget's run goes on in an asyncio task that inherited the
parent of the cell that STARTED it (ipykernel 7 keeps the parent in a contextvar), which had finished long before:
its final state and static copy were dropped, and the saved notebook showed the widget pending at 0 %.

So a widget that finishes is remembered here, and its final state is sent again from the next cell the kernel runs
(an IPython ``pre_run_cell``/``post_run_cell`` hook, registered once, when the first widget finishes) or from the
cell that awaits it (``GenerationWidget.wait``). Only where the front end is an executor: one that allows input
(JupyterLab, Notebook 7, VS Code) holds the models itself and saves them from there, and sending full media again
would only cost its browser a second copy. An executor's requests say ``allow_stdin: false``.

Limit: a run that ends after the notebook's last cell has run is not recorded (nothing runs after it); a notebook
meant to be executed ends with a cell that awaits its widgets.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Record = Callable[[], None]  # sends the widget's final state (and its static copy) under the current parent

# Each owner's record as a weak method: a strong one would hold its widget, the dictionary's weak key, for good.
_unrecorded: weakref.WeakKeyDictionary[Any, weakref.WeakMethod[Record]] = weakref.WeakKeyDictionary()
_hooked_shells: weakref.WeakSet[Any] = weakref.WeakSet()


def finished(owner: Any, record: Record) -> None:
    """`owner` (a widget, a Gallery) has reached its final state: `record()`, a method of it, sends it again from
    the next cell an executor runs. A later call for the same owner replaces the earlier one."""
    shell = _shell()
    if shell is None:
        return  # not in an IPython kernel: no notebook to record into
    _unrecorded[owner] = weakref.WeakMethod(record)
    if shell not in _hooked_shells:
        shell.events.register("pre_run_cell", _record_finished)
        shell.events.register("post_run_cell", _record_finished)
        _hooked_shells.add(shell)


def record_now(owner: Any) -> None:
    """Send `owner`'s final state from the current cell (the one awaiting it), if an executor runs it."""
    record = _unrecorded.pop(owner, None)
    if record is not None and executed_by_executor():
        _run(record)


def executed_by_executor() -> bool:
    """Whether the request the kernel is running came from a notebook executor (it allows no input)."""
    shell = _shell()
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "get_parent"):
        return False
    try:
        parent = kernel.get_parent("shell")
    except Exception:  # an older or foreign kernel: then assume a person is at the keyboard
        return False
    content = parent.get("content") if isinstance(parent, dict) else None
    return isinstance(content, dict) and parent.get("msg_type") == "execute_request" and not content.get("allow_stdin")


def _record_finished(*_args: Any) -> None:
    if not _unrecorded:
        return
    if not executed_by_executor():
        _unrecorded.clear()  # the front end holds these states already
        return
    for record in list(_unrecorded.values()):
        _run(record)
    _unrecorded.clear()


def _run(record: weakref.WeakMethod[Record]) -> None:
    method = record()
    if method is None:
        return  # its widget is gone
    try:
        method()
    except Exception:  # a closed widget, a comm gone: the cell the user runs must not fail for it
        log.debug("could not record a final state", exc_info=True)


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
