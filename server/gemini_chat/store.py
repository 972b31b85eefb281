"""ConversationStore: one active conversation per workspace, in SQLite (WAL), shared by daemons."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Generator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

from .gemini.errors import StorageError

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace TEXT NOT NULL,
    created TEXT NOT NULL,
    archived TEXT
);
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
"""
# `turn` numbers exchanges; every entry of one exchange (user, tool rounds, reply) shares it.

Json: TypeAlias = dict[str, object]
CACHED_WORKSPACES = 16
"""Conversations kept parsed in memory; others are read again from disk when used."""


@dataclass(frozen=True)
class Entry:
    """One stored Gemini Content with what the clients show of it."""

    seq: int
    turn: int
    role: str
    content: Json
    meta: Json
    time: str
    raw: str = ""
    """The content's JSON text as stored, spliced into requests without re-encoding."""


@dataclass
class _Cached:
    conversation_id: int
    entries: list[Entry]


def _dumps(value: Json) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _cause(exc: sqlite3.Error | OSError) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


def _empty() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    db.executescript(SCHEMA)
    return db


def _private_copy(path: Path) -> Path:
    """A copy of a database and its write-ahead log in a private temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="gemini-chat-store-"))
    for suffix in ("", "-wal"):
        source = Path(f"{path}{suffix}")
        shutil.copyfile(source, folder / f"{path.name}{suffix}")
    return folder / path.name


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ConversationStore:
    """The conversations of every workspace, kept on disk; safe across threads and processes."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "conversations.sqlite3"
        self.read_only: str | None = None
        """Why the store cannot be written (opened read-only), else None."""
        self.unreadable: str | None = None
        """Why the store cannot be read either (a corrupt or foreign file), else None."""
        self._lock = threading.Lock()
        self._cache: dict[str, _Cached] = {}
        self._copy: Path | None = None
        try:
            self._db = self._open()
        except sqlite3.Error as exc:  # a folder we may not write: read what is there
            self.read_only = _cause(exc)
            self._db = self._open_read_only()

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
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA busy_timeout=30000")
                db.executescript(SCHEMA)
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

        Read-only storage cannot take SQLite's shared-memory file, and a WAL-mode database opens
        there only as `immutable`, which ignores the write-ahead log (the newest turns, when the
        last daemon did not close cleanly): a private copy with its log is read instead.
        """
        if not self.path.exists():
            return _empty()
        try:
            wal = Path(f"{self.path}-wal")
            if wal.exists() and wal.stat().st_size:
                self._copy = _private_copy(self.path)
                db = sqlite3.connect(self._copy, check_same_thread=False)
            else:
                uri = f"{self.path.as_uri()}?immutable=1"
                db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            db.isolation_level = None
            db.execute("SELECT id, workspace FROM conversations LIMIT 1")
            db.execute("SELECT seq, turn, role, content, meta FROM entries LIMIT 1")
            return db
        except (sqlite3.Error, OSError) as exc:
            self.unreadable = self.read_only = _cause(exc)
        return _empty()

    @contextmanager
    def _reading(self) -> Generator[None]:
        """A read; a store that cannot be read says where and why."""
        with self._lock:
            if self.unreadable is not None:
                raise self._error(self.unreadable, reading=True)
            try:
                yield
            except sqlite3.Error as exc:
                raise self._error(_cause(exc), reading=True) from None

    def check_writable(self) -> None:
        """Raise StorageError now when nothing could be saved (before a turn is paid for)."""
        if self.read_only is not None:
            raise self._error(self.read_only)

    @contextmanager
    def _writing(self) -> Generator[None]:
        """One write transaction; a store that cannot be written says where and why."""
        with self._lock:
            if self.read_only is not None:
                raise self._error(self.read_only)
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error(_cause(exc)) from None
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException as exc:
                with suppress(sqlite3.Error):  # a failed COMMIT may have rolled back already
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._error(_cause(exc)) from None
                raise

    def _error(self, cause: str, *, reading: bool = False) -> StorageError:
        if reading:
            return StorageError(
                f"Cannot read the conversation store {self.path}: {cause}. Move the file "
                "away (it is not a gemini-chat store) or choose another dataDir setting."
            )
        return StorageError(
            f"Cannot save to the conversation store {self.path}: {cause}. "
            "Free some disk space or make the data folder writable (the dataDir setting)."
        )

    def close(self) -> None:
        """Close the database connection (and drop a read-only store's private copy)."""
        with self._lock:
            self._db.close()
        if self._copy is not None:
            shutil.rmtree(self._copy.parent, ignore_errors=True)

    def _active_id(self, workspace: str) -> int | None:
        row = self._db.execute(
            "SELECT id FROM conversations WHERE workspace = ? AND archived IS NULL", (workspace,)
        ).fetchone()
        return None if row is None else int(row[0])

    def history(self, workspace: str) -> list[Entry]:
        """The active conversation's entries, oldest first (read fresh, cached incrementally)."""
        with self._reading():
            conv = self._active_id(workspace)
            if conv is None:
                self._cache.pop(workspace, None)
                return []
            cached = self._cache.pop(workspace, None)
            if cached is None or cached.conversation_id != conv:
                cached = _Cached(conv, [])
            self._cache[workspace] = cached  # most recently used last
            while len(self._cache) > CACHED_WORKSPACES:
                self._cache.pop(next(iter(self._cache)))
            last = cached.entries[-1].seq if cached.entries else -1
            rows = self._db.execute(
                "SELECT seq, turn, role, content, meta, time FROM entries"
                " WHERE conversation_id = ? AND seq > ? ORDER BY seq",
                (conv, last),
            ).fetchall()
            for seq, turn, role, content, meta, time in rows:
                cached.entries.append(
                    Entry(seq, turn, role, json.loads(content), json.loads(meta), time, content)
                )
            return list(cached.entries)

    def commit(self, workspace: str, entries: list[tuple[str, Json, Json]]) -> int:
        """Store one exchange's contents (user, tool rounds, reply) atomically; return its turn."""
        now = _now()
        with self._writing():
            conv = self._active_id(workspace) or self._new_conversation(workspace, now)
            turn = self._append(conv, entries, now)
        return turn

    def _new_conversation(self, workspace: str, now: str) -> int:
        cur = self._db.execute(
            "INSERT INTO conversations (workspace, created) VALUES (?, ?)", (workspace, now)
        )
        return int(cur.lastrowid or 0)

    def _append(self, conv: int, entries: list[tuple[str, Json, Json]], now: str) -> int:
        """Append entries as the next exchange of a conversation (inside a transaction)."""
        # The last row by primary key: O(log n), however long the conversation.
        row = self._db.execute(
            "SELECT seq, turn FROM entries WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1",
            (conv,),
        ).fetchone()
        seq, turn = row if row is not None else (-1, 0)
        rows = [
            (conv, int(seq) + 1 + i, int(turn) + 1, role, _dumps(content), _dumps(meta), now)
            for i, (role, content, meta) in enumerate(entries)
        ]
        self._db.executemany(
            "INSERT INTO entries (conversation_id, seq, turn, role, content, meta, time)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return int(turn) + 1

    def replace(
        self, workspace: str, exchanges: list[list[tuple[str, Json, Json]]], expected_last: int
    ) -> bool:
        """Archive the active conversation and start a new one holding `exchanges` (compaction).

        Refuses (returns False) when another daemon changed the conversation since it was read,
        i.e. when its last seq is no longer `expected_last`.
        """
        now = _now()
        with self._writing():
            conv = self._active_id(workspace)
            (last,) = self._db.execute(
                "SELECT COALESCE(MAX(seq), -1) FROM entries WHERE conversation_id = ?",
                (conv or -1,),
            ).fetchone()
            if conv is None or int(last) != expected_last:
                return False
            self._db.execute("UPDATE conversations SET archived = ? WHERE id = ?", (now, conv))
            new = self._new_conversation(workspace, now)
            for entries in exchanges:
                self._append(new, entries, now)
            self._cache.pop(workspace, None)
        return True

    def model(self, workspace: str) -> str | None:
        """The model chosen for a workspace, if any."""
        with self._reading():
            row = self._db.execute(
                "SELECT model FROM workspace_models WHERE workspace = ?", (workspace,)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_model(self, workspace: str, model: str | None) -> None:
        """Remember (or forget, with None) the model for a workspace."""
        with self._writing():
            if model is None:
                self._db.execute("DELETE FROM workspace_models WHERE workspace = ?", (workspace,))
            else:
                self._db.execute(
                    "INSERT INTO workspace_models (workspace, model) VALUES (?, ?)"
                    " ON CONFLICT(workspace) DO UPDATE SET model = excluded.model",
                    (workspace, model),
                )

    def reset(self, workspace: str) -> int:
        """Archive the active conversation (kept, no longer active); return its entry count."""
        with self._writing():
            conv = self._active_id(workspace)
            if conv is None:
                return 0
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM entries WHERE conversation_id = ?", (conv,)
            ).fetchone()
            self._db.execute("UPDATE conversations SET archived = ? WHERE id = ?", (_now(), conv))
            self._cache.pop(workspace, None)
        return int(count)
