"""SQLite persistence of saved objects: one table per kind, scoped by project, unique on (project, identity).

A kind's table is named after its collection (``models``) with its id column (``model_id``) and one column per
identity field, so the model table is exactly the one earlier releases made: their ``--db`` files keep working.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pulumi_enkrypt.kinds import Kind

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class NotFound(Exception):
    """No object with that identity in the project."""


class Conflict(Exception):
    """An object with that identity already exists in the project."""


@dataclass(frozen=True)
class Stored:
    object_id: int
    project: str
    identity: tuple[str, ...]
    body: dict[str, Any]
    created_at: str
    updated_at: str
    created_by: str
    updated_by: str
    is_sample: bool


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def table_ddl(kind: Kind) -> str:
    """The table of a kind (for models, the DDL of earlier releases, to the character)."""
    identity = "".join(f"    {column} TEXT NOT NULL,\n" for column in kind.identity)
    return f"""
CREATE TABLE IF NOT EXISTS {kind.collection} (
    {kind.api.id_field} INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
{identity}    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    is_sample INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project, {", ".join(kind.identity)})
);
"""


COUNTERS_DDL = """
CREATE TABLE IF NOT EXISTS id_counters (
    name TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
"""


class Store:
    """One connection guarded by a lock; every write is a BEGIN IMMEDIATE transaction.

    The lock serialises this process's threads (a ``:memory:`` database is per connection, so it cannot be
    shared by a pool); BEGIN IMMEDIATE plus the UNIQUE index also keep two processes on one file honest.
    """

    def __init__(self, path: str, kinds: Sequence[Kind]) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL survives a killed process; only power loss may drop the last commits.
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._collections: dict[str, Collection] = {}
        for kind in kinds:
            collection = Collection(self, kind)
            self._db.executescript(table_ddl(kind))
            self._collections[kind.name] = collection
        self._db.executescript(COUNTERS_DDL)
        # The tables whose ids each shared counter hands out (policies and guardrails: one policy_id).
        self._sharing: dict[str, list[Kind]] = {}
        for kind in kinds:
            if kind.api.shared_ids:
                self._sharing.setdefault(kind.api.shared_ids, []).append(kind)

    def next_shared_id(self, db: sqlite3.Connection, counter: str) -> int:
        """The next id of a shared counter (inside a write): never one any of its tables held."""
        row = db.execute("SELECT last FROM id_counters WHERE name = ?", (counter,)).fetchone()
        if row is not None:
            last = int(row[0])
        else:  # first use (or a database from before the counter): start above every table's ids
            highest = [
                db.execute(f"SELECT MAX({k.api.id_field}) FROM {k.collection}").fetchone()[0] or 0
                for k in self._sharing[counter]
            ]
            last = max(highest)
        db.execute("INSERT OR REPLACE INTO id_counters (name, last) VALUES (?, ?)", (counter, last + 1))
        return last + 1

    def __getitem__(self, kind: Kind) -> Collection:
        return self._collections[kind.name]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")


class Collection:
    """The saved objects of one kind."""

    def __init__(self, store: Store, kind: Kind) -> None:
        names = (kind.collection, kind.api.id_field, *kind.identity)
        bad = [name for name in names if not _NAME.match(name)]
        if bad:  # they become SQL identifiers
            raise ValueError(f"kind {kind.name}: not a plain lower-case identifier: {', '.join(bad)}")
        self.kind = kind
        self._store = store
        self._table = kind.collection
        self._id = kind.api.id_field
        self._where = " AND ".join(f"{column} = ?" for column in ("project", *kind.identity))
        columns = (self._id, "project", *kind.identity, "body", "created_at", "updated_at", "created_by", "updated_by")
        marks = ", ".join("?" * (len(columns) + 1))
        self._insert = f"INSERT INTO {self._table} ({', '.join(columns)}, is_sample) VALUES ({marks})"

    def _row(self, row: sqlite3.Row) -> Stored:
        return Stored(
            object_id=int(row[self._id]),
            project=row["project"],
            identity=tuple(row[column] for column in self.kind.identity),
            body=json.loads(row["body"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            created_by=row["created_by"],
            updated_by=row["updated_by"],
            is_sample=bool(row["is_sample"]),
        )

    def _find(self, db: sqlite3.Connection, project: str, identity: tuple[str, ...]) -> Stored | None:
        row = db.execute(f"SELECT * FROM {self._table} WHERE {self._where}", (project, *identity)).fetchone()
        return self._row(row) if row is not None else None

    def _by_id(self, db: sqlite3.Connection, object_id: int | None) -> Stored:
        return self._row(db.execute(f"SELECT * FROM {self._table} WHERE {self._id} = ?", (object_id,)).fetchone())

    def add(self, project: str, body: dict[str, Any], user: str, *, is_sample: bool = False) -> Stored:
        identity = self.kind.identity_of(body)
        stamp = now_iso()
        with self._store.write() as db:
            if self._find(db, project, identity) is not None:
                raise Conflict(*identity)  # before a shared id is spent
            # None: the table's own AUTOINCREMENT picks the id.
            new_id = self._store.next_shared_id(db, self.kind.api.shared_ids) if self.kind.api.shared_ids else None
            try:
                cur = db.execute(
                    self._insert,
                    (new_id, project, *identity, json.dumps(body), stamp, stamp, user, user, int(is_sample)),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict(*identity) from exc
            return self._by_id(db, cur.lastrowid)

    def get(self, project: str, identity: tuple[str, ...]) -> Stored | None:
        with self._store.read() as db:
            return self._find(db, project, identity)

    def list(self, project: str) -> list[Stored]:
        with self._store.read() as db:
            rows = db.execute(f"SELECT * FROM {self._table} WHERE project = ? ORDER BY {self._id}", (project,))
            return [self._row(r) for r in rows.fetchall()]

    def modify(self, project: str, identity: tuple[str, ...], body: dict[str, Any], user: str) -> Stored:
        """Replace the whole body of ``identity``; the body may carry a new identity (a rename)."""
        new_identity = self.kind.identity_of(body)
        with self._store.write() as db:
            current = self._find(db, project, identity)
            if current is None:
                raise NotFound(*identity)
            if new_identity != identity and self._find(db, project, new_identity):
                raise Conflict(*new_identity)
            stamp = now_iso()
            if stamp < current.updated_at:  # never move updated_at backwards if the clock steps back
                stamp = current.updated_at
            assignments = ", ".join(f"{column} = ?" for column in (*self.kind.identity, "body", "updated_at"))
            db.execute(
                f"UPDATE {self._table} SET {assignments}, updated_by = ? WHERE {self._id} = ?",
                (*new_identity, json.dumps(body), stamp, user, current.object_id),
            )
            return self._by_id(db, current.object_id)

    def delete(self, project: str, identity: tuple[str, ...]) -> Stored | None:
        """Delete ``identity``; what was deleted, or None when there was nothing."""
        with self._store.write() as db:
            current = self._find(db, project, identity)
            if current is not None:
                db.execute(f"DELETE FROM {self._table} WHERE {self._id} = ?", (current.object_id,))
            return current

    def wipe(self, project: str) -> int:
        with self._store.write() as db:
            return db.execute(f"DELETE FROM {self._table} WHERE project = ?", (project,)).rowcount

    def ensure(self, project: str, body: dict[str, Any], user: str, *, is_sample: bool) -> bool:
        """Insert unless the identity exists; True when inserted (used to seed samples idempotently)."""
        try:
            self.add(project, body, user, is_sample=is_sample)
        except Conflict:
            return False
        return True
