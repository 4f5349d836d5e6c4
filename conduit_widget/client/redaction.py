"""Keeping keys out of the logs of the libraries the client drives.

websockets logs every handshake header at DEBUG, ``Authorization: Bearer condt_...`` among them, through
the logger pysignalr hands it. A filter on those loggers rewrites any bearer token or virtual key before a
handler sees the record. (Filters sit on loggers, not on their children, hence the explicit list.)
"""

from __future__ import annotations

import logging
import re
from typing import Final

_SECRETS: Final = re.compile(r"(?i)(bearer\s+)[^\s'\"]+|condt_[A-Za-z0-9_\-]+|(access_token=|api_key=)[^&\s'\"]+")
_LOGGERS: Final = ("pysignalr", "pysignalr.client", "pysignalr.transport", "websockets", "websockets.client")


def redact(text: str) -> str:
    return _SECRETS.sub(lambda m: (m.group(1) or m.group(2) or "condt_") + "[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install() -> None:
    """Idempotent: once per process is enough, more is harmless."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
        # Libraries should not print unless the application configured logging: without a handler of
        # their own, Python's last-resort handler would put pysignalr's warnings in notebook cells.
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
