"""The store's SQLite database: schema, private files, and failures named (read-only, full,
foreign). Shared by the conversation store, the journal and the change feed."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Generator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from .gemini.errors import StorageError

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace TEXT NOT NULL,
    created TEXT NOT NULL,
    archived TEXT
);
-- Columns added since the first version (MIGRATIONS adds them to older stores):
-- title, updated, turns (exchanges), replaced_by (a compacted original's successor).
CREATE UNIQUE INDEX IF NOT EXISTS one_active_per_workspace
    ON conversations(workspace) WHERE archived IS NULL;
CREATE TABLE IF NOT EXISTS entries (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    seq INTEGER NOT NULL,
    turn INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'model')),
    content TEXT NOT NULL,
    meta TEXT NOT NULL,
    time TEXT NOT NULL
);
-- Rows are large (whole contents): keep them in the rowid table, appended at its right edge,
-- and the ordering key in a small index, so a commit costs the same at 10 or 10,000 turns.
CREATE UNIQUE INDEX IF NOT EXISTS entries_order ON entries(conversation_id, seq);
CREATE TABLE IF NOT EXISTS workspace_models (
    workspace TEXT PRIMARY KEY,
    model TEXT NOT NULL
);
-- The change feed: every change to a folder's conversations, in commit order.
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace TEXT NOT NULL,
    conversation INTEGER,
    reason TEXT NOT NULL,
    turn INTEGER NOT NULL,
    origin TEXT NOT NULL,
    time REAL NOT NULL
);
-- Turns in flight: the question and the reply so far (the most recent survives its daemon).
CREATE TABLE IF NOT EXISTS journal (
    token TEXT PRIMARY KEY,
    workspace TEXT NOT NULL,
    origin TEXT NOT NULL,
    conversation INTEGER,
    turn INTEGER NOT NULL,
    message TEXT NOT NULL,
    attachments TEXT NOT NULL,
    text TEXT NOT NULL,
    thoughts TEXT NOT NULL,
    started TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_workspace ON journal(workspace);
-- Journal columns added since (MIGRATIONS): image (a generateImage's parameters).
"""
MIGRATIONS = {  # (table, column): its definition, added to a store that lacks it
    ("conversations", "title"): "TEXT",
    ("conversations", "updated"): "TEXT",
    ("conversations", "turns"): "INTEGER NOT NULL DEFAULT 0",
    ("conversations", "replaced_by"): "INTEGER",
    ("journal", "image"): "TEXT",
}
INDEXES = """
CREATE INDEX IF NOT EXISTS conversations_listed ON conversations(workspace, updated);
"""
# `turn` numbers exchanges; every entry of one exchange (user, tool rounds, reply) shares it.


def now() -> str:
    """The current time as the store writes it (ISO 8601, UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Database:
    """One SQLite connection to a data folder's store, used under one lock."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "conversations.sqlite3"
        self.read_only: str | None = None
        """Why the store cannot be written (opened read-only), else None."""
        self.unreadable: str | None = None
        """Why the store cannot be read either (a corrupt or foreign file), else None."""
        self.lock = threading.Lock()
        self._copy: Path | None = None
        try:
            self.conn = self._open()
        except sqlite3.Error as exc:  # a folder we may not write: read what is there
            self.read_only = _cause(exc)
            self.conn = self._open_read_only()

    def _open(self) -> sqlite3.Connection:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.data_dir, 0o700)
        except OSError as exc:
            raise sqlite3.OperationalError(exc.strerror or str(exc)) from None
        old_umask = os.umask(0o077)
        try:
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            try:
                _write_ahead_log(db)
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA busy_timeout=30000")
                _create(db)
            except sqlite3.Error:
                db.close()
                raise
        finally:
            os.umask(old_umask)
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{self.path}{suffix}")
            if p.exists():
                os.chmod(p, 0o600)
        return db

    def _open_read_only(self) -> sqlite3.Connection:
        """The store as it is on disk, or an empty one when there is none; a file that is not
        our store reads as an error, never as an empty history.

        Read-only storage cannot take SQLite's shared-memory file, and `immutable` would ignore
        the write-ahead log (the newest turns, when the last daemon did not close cleanly): a
        private copy of the database and its log is read instead (and writes stay refused).
        """
        if not self.path.exists():
            return _empty()
        try:
            self._copy = _private_copy(self.path)
            db = sqlite3.connect(self._copy, isolation_level=None, check_same_thread=False)
            db.execute("SELECT id, workspace FROM conversations LIMIT 1")
            db.execute("SELECT seq, turn, role, content, meta FROM entries LIMIT 1")
            _create(db)  # what an older store lacks, in the copy
            return db
        except (sqlite3.Error, OSError) as exc:
            self.unreadable = self.read_only = _cause(exc)
        return _empty()

    @contextmanager
    def reading(self) -> Generator[sqlite3.Connection]:
        """A read under the lock; a store that cannot be read says where and why."""
        with self.lock:
            if self.unreadable is not None:
                raise self.error(self.unreadable, reading=True)
            try:
                yield self.conn
            except sqlite3.Error as exc:
                raise self.error(_cause(exc), reading=True) from None

    @contextmanager
    def writing(self) -> Generator[sqlite3.Connection]:
        """One write transaction; a store that cannot be written says where and why."""
        with self.lock:
            if self.read_only is not None:
                raise self.error(self.read_only)
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self.error(_cause(exc)) from None
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException as exc:
                with suppress(sqlite3.Error):  # a failed COMMIT may have rolled back already
                    self.conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self.error(_cause(exc)) from None
                raise

    def error(self, cause: str, *, reading: bool = False) -> StorageError:
        """The StorageError of a failed read or write: the file, the cause, what to do."""
        if reading and self.unreadable is not None:
            return StorageError(
                f"Cannot read the conversation store {self.path}: {cause}. Move the file "
                "away (it is not a gemini-chat store) or choose another dataDir setting."
            )
        if reading:
            return StorageError(f"Cannot read the conversation store {self.path}: {cause}.")
        return StorageError(
            f"Cannot save to the conversation store {self.path}: {cause}. "
            "Free some disk space or make the data folder writable (the dataDir setting)."
        )

    def close(self) -> None:
        """Close the connection (and drop a read-only store's private copy)."""
        with self.lock:
            self.conn.close()
        if self._copy is not None:
            shutil.rmtree(self._copy.parent, ignore_errors=True)


def _cause(exc: sqlite3.Error | OSError) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


def _create(db: sqlite3.Connection) -> None:
    """The schema, with the columns an older store lacks added and filled in: one write
    transaction, so daemons opening a new or older store at once never both migrate it."""
    db.execute("BEGIN IMMEDIATE")
    try:
        feed = _columns(db, "changes")
        if feed and "time" not in feed:  # the feed of a development version: nothing lasting
            db.execute("DROP TABLE changes")
        _run(db, SCHEMA)
        columns = {table: _columns(db, table) for table in {t for t, _ in MIGRATIONS}}
        missing = [(t, c) for t, c in MIGRATIONS if c not in columns[t]]
        for table, column in missing:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {MIGRATIONS[table, column]}")
        if any(table == "conversations" for table, _ in missing):
            db.execute(
                "UPDATE conversations SET"
                " turns = (SELECT COALESCE(MAX(turn), 0) FROM entries WHERE conversation_id = id),"
                " updated = COALESCE((SELECT MAX(time) FROM entries WHERE conversation_id = id),"
                " created) WHERE updated IS NULL"
            )
        _run(db, INDEXES)
        db.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise


def _write_ahead_log(db: sqlite3.Connection) -> None:
    """Switch a store to WAL. The switch takes SQLite's exclusive lock without waiting on the
    busy timeout: while another daemon creates the same new store it fails "database is
    locked", so it is tried again for up to 3 s (WAL is then usually on already)."""
    for _ in range(300):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.01)
    db.execute("PRAGMA journal_mode=WAL")


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")}


def _run(db: sqlite3.Connection, script: str) -> None:
    """A script's statements one by one, inside the caller's transaction (executescript would
    commit it first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        if not statement and line.lstrip().startswith("--"):
            continue
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


def _empty() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    _create(db)
    return db


def _private_copy(path: Path) -> Path:
    """A copy of a database and its write-ahead log in a private temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="gemini-chat-store-"))
    for suffix in ("", "-wal"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            shutil.copyfile(source, folder / f"{path.name}{suffix}")
    return folder / path.name
