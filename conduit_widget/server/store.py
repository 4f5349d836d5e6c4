"""Task records in a SQLite file, so a restarted server still answers for every task it ever took.

Writes are small and few per task step, so they run on the event loop: a WAL-mode SQLite commit costs
tens of microseconds, less than handing it to a thread would.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conduit_widget.protocol import TERMINAL_STATUSES, Kind

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    record TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status);
"""


MAX_RETRIES = 3  # how often a failed video may be retried: AsyncTask.MaxRetries' default, on every version


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime | None) -> str | None:
    """ASP.NET's round-trip format, as Conduit sends DateTime values."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@dataclass
class TaskRecord:
    """One generation task as the server keeps it. Wire shapes are derived from this, never stored."""

    id: str
    kind: Kind
    owner: str  # a hash of the virtual key: the store never holds a key
    model: str
    prompt: str
    params: dict[str, Any]  # n, size, width, height, seed, duration, fps, ...
    base_url: str  # origin the task was created through, for absolute media URLs
    status: str = "pending"
    progress: int = 0
    message: str | None = None
    error: str | None = None
    error_code: str | None = None
    is_retryable: bool = False
    retry_count: int = 0
    media: list[str] = field(default_factory=list)  # file names under media/<id>/
    poster: str | None = None
    media_info: dict[str, Any] = field(default_factory=dict)  # duration, fps, file size, codec ...
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_json(self) -> str:
        data = asdict(self)
        for key in ("created_at", "updated_at", "started_at", "completed_at"):
            data[key] = isoformat(data[key])
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> TaskRecord:
        data = json.loads(text)
        for key in ("created_at", "updated_at", "started_at", "completed_at"):
            if data[key] is not None:
                data[key] = datetime.fromisoformat(data[key])
        return cls(**data)


class TaskStore:
    """A dict of records in memory, written through to SQLite on every change."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a killed process loses nothing; a power cut may
        self._db.executescript(_SCHEMA)
        self._records: dict[str, TaskRecord] = {
            row[0]: TaskRecord.from_json(row[1]) for row in self._db.execute("SELECT id, record FROM tasks")
        }

    def get(self, task_id: str) -> TaskRecord | None:
        return self._records.get(task_id)

    def save(self, record: TaskRecord) -> None:
        record.updated_at = utcnow()
        self._records[record.id] = record
        self._db.execute(
            "INSERT OR REPLACE INTO tasks (id, kind, owner, record, status) VALUES (?, ?, ?, ?, ?)",
            (record.id, record.kind, record.owner, record.to_json(), record.status),
        )

    def records(self) -> list[TaskRecord]:
        """Every task, as copies (a caller on another thread reads them while the server changes its own)."""
        return [replace(r, params=dict(r.params), media=list(r.media)) for r in self._records.values()]

    def unfinished(self) -> list[TaskRecord]:
        return [r for r in self._records.values() if not r.is_terminal]

    def close(self) -> None:
        self._db.close()
