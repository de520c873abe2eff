"""SQLite persistence of saved models, scoped by project and unique on (project, name, version)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    model_id INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    model_saved_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    is_sample INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project, model_saved_name, model_version)
);
"""


class NotFound(Exception):
    """No model with that identity in the project."""


class Conflict(Exception):
    """A model with that identity already exists in the project."""


@dataclass(frozen=True)
class StoredModel:
    model_id: int
    project: str
    model_saved_name: str
    model_version: str
    body: dict[str, Any]
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str
    is_sample: bool


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def _row(row: sqlite3.Row) -> StoredModel:
    return StoredModel(
        model_id=int(row["model_id"]),
        project=row["project"],
        model_saved_name=row["model_saved_name"],
        model_version=row["model_version"],
        body=json.loads(row["body"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        created_by=row["created_by"],
        updated_by=row["updated_by"],
        is_sample=bool(row["is_sample"]),
    )


class Store:
    """One connection guarded by a lock; every write is a BEGIN IMMEDIATE transaction.

    The lock serialises this process's threads (a ``:memory:`` database is per connection, so it cannot be
    shared by a pool); BEGIN IMMEDIATE plus the UNIQUE index also keep two processes on one file honest.
    """

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a killed process; only power loss may drop the last commits.
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _find(self, db: sqlite3.Connection, project: str, name: str, version: str) -> StoredModel | None:
        row = db.execute(
            "SELECT * FROM models WHERE project = ? AND model_saved_name = ? AND model_version = ?",
            (project, name, version),
        ).fetchone()
        return _row(row) if row is not None else None

    def add(self, project: str, body: dict[str, Any], user: str, *, is_sample: bool = False) -> StoredModel:
        name, version = body["model_saved_name"], body["model_version"]
        stamp = now_iso()
        with self._write() as db:
            try:
                cur = db.execute(
                    "INSERT INTO models (project, model_saved_name, model_version, body, created_at, updated_at,"
                    " created_by, updated_by, is_sample) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (project, name, version, json.dumps(body), stamp, stamp, user, user, int(is_sample)),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(name, version) from exc
            row = db.execute("SELECT * FROM models WHERE model_id = ?", (cur.lastrowid,)).fetchone()
        return _row(row)

    def get(self, project: str, name: str, version: str) -> StoredModel | None:
        with self._lock:
            return self._find(self._db, project, name, version)

    def list(self, project: str) -> list[StoredModel]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM models WHERE project = ? ORDER BY model_id", (project,))
            return [_row(r) for r in rows.fetchall()]

    def modify(self, project: str, name: str, version: str, body: dict[str, Any], user: str) -> StoredModel:
        """Replace the whole body of (name, version); the body may carry a new identity (a rename)."""
        new_name, new_version = body["model_saved_name"], body["model_version"]
        with self._write() as db:
            current = self._find(db, project, name, version)
            if current is None:
                raise NotFound(name, version)
            if (new_name, new_version) != (name, version) and self._find(db, project, new_name, new_version):
                raise Conflict(new_name, new_version)
            stamp = now_iso()
            if stamp < current.updated_at:  # never move updated_at backwards if the clock steps back
                stamp = current.updated_at
            db.execute(
                "UPDATE models SET model_saved_name = ?, model_version = ?, body = ?, updated_at = ?,"
                " updated_by = ? WHERE model_id = ?",
                (new_name, new_version, json.dumps(body), stamp, user, current.model_id),
            )
            row = db.execute("SELECT * FROM models WHERE model_id = ?", (current.model_id,)).fetchone()
        return _row(row)

    def delete(self, project: str, name: str, version: str) -> bool:
        with self._write() as db:
            cur = db.execute(
                "DELETE FROM models WHERE project = ? AND model_saved_name = ? AND model_version = ?",
                (project, name, version),
            )
            return cur.rowcount > 0

    def wipe(self, project: str) -> int:
        with self._write() as db:
            return db.execute("DELETE FROM models WHERE project = ?", (project,)).rowcount

    def ensure(self, project: str, body: dict[str, Any], user: str, *, is_sample: bool) -> bool:
        """Insert unless the identity exists; True when inserted (used to seed samples idempotently)."""
        try:
            self.add(project, body, user, is_sample=is_sample)
        except Conflict:
            return False
        return True
