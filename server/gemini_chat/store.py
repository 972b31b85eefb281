"""ConversationStore: one active conversation per workspace, in SQLite (WAL), shared by daemons."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

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
    role TEXT NOT NULL CHECK (role IN ('user', 'model')),
    content TEXT NOT NULL,
    meta TEXT NOT NULL,
    time TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
"""

Json: TypeAlias = dict[str, object]


@dataclass(frozen=True)
class Entry:
    """One stored Gemini Content with what the clients show of it."""

    seq: int
    role: str
    content: Json
    meta: Json
    time: str


@dataclass
class _Cached:
    conversation_id: int
    entries: list[Entry]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ConversationStore:
    """The conversations of every workspace, kept on disk; safe across threads and processes."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(data_dir, 0o700)
        self.path = data_dir / "conversations.sqlite3"
        old_umask = os.umask(0o077)
        try:
            self._db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
        finally:
            os.umask(old_umask)
        self._lock = threading.Lock()
        self._cache: dict[str, _Cached] = {}
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._db.executescript(SCHEMA)
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{self.path}{suffix}")
            if p.exists():
                os.chmod(p, 0o600)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def _active_id(self, workspace: str) -> int | None:
        row = self._db.execute(
            "SELECT id FROM conversations WHERE workspace = ? AND archived IS NULL", (workspace,)
        ).fetchone()
        return None if row is None else int(row[0])

    def history(self, workspace: str) -> list[Entry]:
        """The active conversation's entries, oldest first (read fresh, cached incrementally)."""
        with self._lock:
            conv = self._active_id(workspace)
            if conv is None:
                self._cache.pop(workspace, None)
                return []
            cached = self._cache.get(workspace)
            if cached is None or cached.conversation_id != conv:
                cached = _Cached(conv, [])
                self._cache[workspace] = cached
            last = cached.entries[-1].seq if cached.entries else -1
            rows = self._db.execute(
                "SELECT seq, role, content, meta, time FROM entries"
                " WHERE conversation_id = ? AND seq > ? ORDER BY seq",
                (conv, last),
            ).fetchall()
            for seq, role, content, meta, time in rows:
                cached.entries.append(Entry(seq, role, json.loads(content), json.loads(meta), time))
            return list(cached.entries)

    def commit_exchange(
        self, workspace: str, user: Json, user_meta: Json, model: Json, model_meta: Json
    ) -> int:
        """Store a user content and its reply in one transaction; return the turn number."""
        user_text = json.dumps(user, ensure_ascii=False, separators=(",", ":"))
        model_text = json.dumps(model, ensure_ascii=False, separators=(",", ":"))
        now = _now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                conv = self._active_id(workspace)
                if conv is None:
                    cur = self._db.execute(
                        "INSERT INTO conversations (workspace, created) VALUES (?, ?)",
                        (workspace, now),
                    )
                    conv = int(cur.lastrowid or 0)
                row = self._db.execute(
                    "SELECT COALESCE(MAX(seq), -1) FROM entries WHERE conversation_id = ?",
                    (conv,),
                ).fetchone()
                seq = int(row[0]) + 1
                self._db.executemany(
                    "INSERT INTO entries (conversation_id, seq, role, content, meta, time)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (conv, seq, "user", user_text, json.dumps(user_meta), now),
                        (conv, seq + 1, "model", model_text, json.dumps(model_meta), now),
                    ],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return seq // 2 + 1

    def reset(self, workspace: str) -> int:
        """Archive the active conversation (kept, no longer active); return its entry count."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                conv = self._active_id(workspace)
                if conv is None:
                    self._db.execute("COMMIT")
                    return 0
                (count,) = self._db.execute(
                    "SELECT COUNT(*) FROM entries WHERE conversation_id = ?", (conv,)
                ).fetchone()
                self._db.execute(
                    "UPDATE conversations SET archived = ? WHERE id = ?", (_now(), conv)
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._cache.pop(workspace, None)
            return int(count)

    def archived_count(self, workspace: str) -> int:
        """How many archived conversations a workspace has."""
        with self._lock:
            (n,) = self._db.execute(
                "SELECT COUNT(*) FROM conversations WHERE workspace = ? AND archived IS NOT NULL",
                (workspace,),
            ).fetchone()
            return int(n)
