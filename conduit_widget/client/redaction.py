"""Keeping keys out of everything this process writes: one redaction step for all text that could hold one.

A server may echo the key back (in a failure message, an error body, a hub refusal, a media URL), and libraries
log it (websockets logs every handshake header at DEBUG, ``Authorization: Bearer condt_...`` among them).
`redact` blanks out every key this process has been given (`remember`, called for each `Secret`), however it is
spelled (as is, URL-quoted, JSON-escaped), and anything shaped like a key or a bearer token. It runs:

- on every event from the server, before the task's state machine sees it (so no trait, static copy or notebook
  gets what it removes: `conduit_widget.client.follower`);
- on every `ConduitError` message, when the error is made;
- on every log record of every logger in the process, when the record is made: `install` wraps the log record
  factory, because a filter on a logger misses its children's records and a filter on a handler misses
  handlers added later.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import quote

# Shaped like a key or a token, whoever's it is; case-insensitive, as HTTP's "Bearer" is.
_SHAPES: Final = (
    r"(?i:(?P<bearer>bearer\s+)[^\s'\"]+|condt_[A-Za-z0-9_\-]+|(?P<param>access_token=|api_key=)[^&\s'\"]+)"
)
_LOGGERS: Final = ("pysignalr", "pysignalr.client", "pysignalr.transport", "websockets", "websockets.client")
MIN_KEY_LENGTH: Final = 8  # a shorter "key" would blank out ordinary words everywhere; such keys are shaped-matched
REDACTED: Final = "[redacted]"

_lock = threading.Lock()
_spellings: set[str] = set()
_pattern = re.compile(f"(?P<key>(?!))|{_SHAPES}")  # (?!) matches nothing: no key given yet
_installed = False


def remember(key: str) -> None:
    """From now on, `key` is blanked out of everything `redact` sees, in this process, for good."""
    install()
    if len(key) < MIN_KEY_LENGTH:
        return
    global _pattern
    with _lock:
        new = {key, quote(key, safe=""), json.dumps(key)[1:-1]} - _spellings
        if not new:
            return
        _spellings.update(new)
        # Longest first, so that a spelling containing another is blanked out whole.
        exact = "|".join(re.escape(s) for s in sorted(_spellings, key=len, reverse=True))
        _pattern = re.compile(f"(?P<key>{exact})|{_SHAPES}")


def _replacement(match: re.Match[str]) -> str:
    if match.group("key") is not None:
        return REDACTED
    return (match.group("bearer") or match.group("param") or "condt_") + REDACTED


def redact(text: str) -> str:
    """`text` without any key in it."""
    return _pattern.sub(_replacement, text)


def redact_any(value: Any, depth: int = 0) -> Any:
    """`value` (strings, and strings inside lists and mappings, a few levels deep) without any key in it."""
    if isinstance(value, str):
        return redact(value)
    if depth > 8:
        return value
    if isinstance(value, Mapping):
        return {redact_any(k, depth + 1): redact_any(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_any(v, depth + 1) for v in value)
    return value


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        cleaned = redact(text)
        if cleaned != text:
            record.exc_text = cleaned  # formatters use it as is instead of formatting the exception again
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install() -> None:
    """Redact every log record of every logger in this process from now on. Idempotent."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(make_record)
    for name in _LOGGERS:
        # Libraries should not print unless the application configured logging: without a handler of their own,
        # Python's last-resort handler would put pysignalr's warnings in notebook cells.
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
