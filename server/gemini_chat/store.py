"""ConversationStore: one active conversation per workspace, in SQLite (WAL), shared by daemons.

Every change to a conversation is written with its row in the change feed, in the same
transaction, so every daemon on the store sees it (journal.py reads the feed).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from .db import Database, now
from .folderlock import FolderLocks
from .journal import Journal, record
from .protocol import Json

CACHED_WORKSPACES = 16
"""Conversations kept parsed in memory; others are read again from disk when used."""
TITLE_CHARS = 60
Staged = list[tuple[str, Json, Json]]


class Entry:
    """One stored Gemini Content with what the clients show of it.

    Built from the store, it keeps the JSON texts and parses each on first use: a long
    conversation held in memory is then a list of strings, not of nested dicts (which the
    garbage collector would walk on every collection).
    """

    __slots__ = ("_content", "_meta", "raw", "raw_meta", "role", "seq", "time", "turn")

    def __init__(
        self,
        seq: int,
        turn: int,
        role: str,
        content: Json | None,
        meta: Json | None,
        time: str,
        raw: str = "",
        raw_meta: str = "",
    ) -> None:
        self.seq = seq
        self.turn = turn
        self.role = role
        self.time = time
        self.raw = raw
        """The content's JSON text as stored, spliced into requests without re-encoding."""
        self.raw_meta = raw_meta
        self._content = content
        self._meta = meta

    @property
    def content(self) -> Json:
        """The Gemini Content (parsed from the stored text on first use)."""
        if self._content is None:
            self._content = cast(Json, json.loads(self.raw))
        return self._content

    @property
    def meta(self) -> Json:
        """What clients are shown of it (parsed on first use)."""
        if self._meta is None:
            self._meta = cast(Json, json.loads(self.raw_meta)) if self.raw_meta else {}
        return self._meta

    def __repr__(self) -> str:
        return f"Entry(seq={self.seq}, turn={self.turn}, role={self.role!r})"


class History(list[Entry]):
    """A conversation's entries, oldest first, with their stored JSON texts joined.

    `joined` is the request's history as sent (the entries' texts, comma-separated, in
    pieces), kept per conversation and extended by each commit rather than rebuilt per turn.
    `files`: whether an entry refers to an uploaded file (whose expiry changes what is sent).
    `conversation`: the active conversation's id, from the same read (None: there is none)."""

    def __init__(
        self,
        entries: list[Entry],
        joined: tuple[bytes, ...],
        files: bool,
        conversation: int | None = None,
    ) -> None:
        super().__init__(entries)
        self.joined = joined
        self.files = files
        self.conversation = conversation


BLOCK = 65536
"""Bytes of joined history sealed into one immutable block (sent as one piece)."""


@dataclass
class _Cached:
    conversation_id: int
    entries: list[Entry]
    blocks: list[bytes] = field(default_factory=list[bytes])
    """The entries' JSON texts joined with commas, in sealed blocks: the request's history,
    grown by each commit and sent piece by piece (never copied whole)."""
    tail: bytearray = field(default_factory=bytearray)
    files: bool = False
    """Whether an entry refers to an uploaded file (whose expiry changes what is sent)."""

    def extend(self, text: str) -> None:
        """Add one entry's JSON text to the joined history."""
        if self.blocks or self.tail:
            self.tail += b","
        self.tail += text.encode()
        if len(self.tail) >= BLOCK:
            self.blocks.append(bytes(self.tail))
            self.tail.clear()

    def joined(self) -> tuple[bytes, ...]:
        """The joined history as it is now, in pieces."""
        return (*self.blocks, bytes(self.tail)) if self.tail else tuple(self.blocks)


def _dumps(value: Json) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def title_of(text: str) -> str:
    """A conversation's default title: the first question's first line, at most 60 characters."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "") or "Untitled"
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class ConversationStore:
    """The conversations of every workspace, kept on disk; safe across threads and processes."""

    def __init__(self, data_dir: Path, origin: str | None = None) -> None:
        self.db = Database(data_dir)
        self.data_dir = data_dir
        self.path = self.db.path
        self.origin = origin or f"{os.getpid()}-{secrets.token_hex(4)}"
        """This store's writer, named in the change feed (one per daemon)."""
        self.journal = Journal(self.db, self.origin)
        self.locks = FolderLocks(data_dir)
        self._cache: dict[str, _Cached] = {}

    def check_writable(self) -> None:
        """Raise StorageError now when nothing could be saved (before a turn is paid for)."""
        if self.db.read_only is not None:
            raise self.db.error(self.db.read_only)

    def close(self) -> None:
        """Close the database and the folders' lock files."""
        self.db.close()
        self.locks.close()

    def forget(self, workspace: str) -> None:
        """Drop the parsed copy of a folder's conversation (another one became active)."""
        self._cache.pop(workspace, None)

    def active(self, workspace: str) -> int | None:
        """The id of a workspace's active conversation, if it has one."""
        with self.db.reading() as db:
            return _active_id(db, workspace)

    def history(self, workspace: str) -> History:
        """The active conversation's entries, oldest first (read fresh, cached incrementally)."""
        with self.db.reading() as db:
            conv = _active_id(db, workspace)
            if conv is None:
                self._cache.pop(workspace, None)
                return History([], (), False)
            cached = self._cache.pop(workspace, None)
            if cached is None or cached.conversation_id != conv:
                cached = _Cached(conv, [])
            self._cache[workspace] = cached  # most recently used last
            while len(self._cache) > CACHED_WORKSPACES:
                self._cache.pop(next(iter(self._cache)))
            last = cached.entries[-1].seq if cached.entries else -1
            rows = db.execute(
                "SELECT seq, turn, role, content, meta, time FROM entries"
                " WHERE conversation_id = ? AND seq > ? ORDER BY seq",
                (conv, last),
            ).fetchall()
            for seq, turn, role, content, meta, time in rows:
                cached.entries.append(Entry(seq, turn, role, None, None, time, content, meta))
                cached.extend(content)
                cached.files = cached.files or '"files":' in meta
            return History(cached.entries, cached.joined(), cached.files, conv)

    def commit(self, workspace: str, entries: Staged) -> int:
        """Store one exchange's contents (user, tool rounds, reply) atomically; return its turn.

        The folder's journal (turns in flight, interrupted ones) is cleared with it."""
        stamp = now()
        with self.db.writing() as db:
            conv = _active_id(db, workspace) or _new_conversation(db, workspace, stamp)
            turn = _append(db, conv, entries, stamp)
            db.execute("DELETE FROM journal WHERE workspace = ?", (workspace,))
            record(db, workspace, conv, "turn", turn, self.origin)
        return turn

    def replace(self, workspace: str, exchanges: list[Staged], expected_last: int) -> bool:
        """Start a new conversation holding `exchanges` in place of the active one (compaction);
        the original is kept with its conversation, out of the list.

        Refuses (returns False) when another daemon changed the conversation since it was read,
        i.e. when its last seq is no longer `expected_last`.
        """
        stamp = now()
        with self.db.writing() as db:
            conv = _active_id(db, workspace)
            (last,) = db.execute(
                "SELECT COALESCE(MAX(seq), -1) FROM entries WHERE conversation_id = ?",
                (conv or -1,),
            ).fetchone()
            if conv is None or int(last) != expected_last:
                return False
            (title, created) = db.execute(
                "SELECT title, created FROM conversations WHERE id = ?", (conv,)
            ).fetchone()
            db.execute("UPDATE conversations SET archived = ? WHERE id = ?", (stamp, conv))
            new = _new_conversation(db, workspace, created, title)
            db.execute("UPDATE conversations SET replaced_by = ? WHERE id = ?", (new, conv))
            turn = 0
            for entries in exchanges:
                turn = _append(db, new, entries, stamp)
            record(db, workspace, new, "compacted", turn, self.origin)
            self._cache.pop(workspace, None)
        return True

    def model(self, workspace: str) -> str | None:
        """The model chosen for a workspace, if any."""
        with self.db.reading() as db:
            row = db.execute(
                "SELECT model FROM workspace_models WHERE workspace = ?", (workspace,)
            ).fetchone()
        return None if row is None else str(row[0])

    def set_model(self, workspace: str, model: str | None) -> None:
        """Remember (or forget, with None) the model for a workspace."""
        with self.db.writing() as db:
            if model is None:
                db.execute("DELETE FROM workspace_models WHERE workspace = ?", (workspace,))
            else:
                db.execute(
                    "INSERT INTO workspace_models (workspace, model) VALUES (?, ?)"
                    " ON CONFLICT(workspace) DO UPDATE SET model = excluded.model",
                    (workspace, model),
                )
            conv = _active_id(db, workspace)
            record(db, workspace, conv, "model", _turns(db, conv), self.origin)

    def new_conversation(self, workspace: str) -> int:
        """Start an empty conversation as the folder's active one (the active one is archived);
        return its id."""
        stamp = now()
        with self.db.writing() as db:
            db.execute(
                "UPDATE conversations SET archived = ? WHERE workspace = ? AND archived IS NULL",
                (stamp, workspace),
            )
            db.execute("DELETE FROM journal WHERE workspace = ?", (workspace,))
            conv = _new_conversation(db, workspace, stamp)
            record(db, workspace, conv, "open", 0, self.origin)
            self._cache.pop(workspace, None)
        return conv

    def reset(self, workspace: str) -> int:
        """Archive the active conversation (kept, no longer active); return its entry count."""
        with self.db.writing() as db:
            conv = _active_id(db, workspace)
            db.execute("DELETE FROM journal WHERE workspace = ?", (workspace,))
            if conv is None:
                return 0
            (count,) = db.execute(
                "SELECT COUNT(*) FROM entries WHERE conversation_id = ?", (conv,)
            ).fetchone()
            db.execute("UPDATE conversations SET archived = ? WHERE id = ?", (now(), conv))
            record(db, workspace, conv, "reset", 0, self.origin)
            self._cache.pop(workspace, None)
        return int(count)


def _active_id(db: sqlite3.Connection, workspace: str) -> int | None:
    row = db.execute(
        "SELECT id FROM conversations WHERE workspace = ? AND archived IS NULL", (workspace,)
    ).fetchone()
    return None if row is None else int(row[0])


def _turns(db: sqlite3.Connection, conv: int | None) -> int:
    if conv is None:
        return 0
    row = db.execute("SELECT turns FROM conversations WHERE id = ?", (conv,)).fetchone()
    return int(row[0]) if row is not None else 0


def _new_conversation(
    db: sqlite3.Connection, workspace: str, created: str, title: str | None = None
) -> int:
    cur = db.execute(
        "INSERT INTO conversations (workspace, created, updated, title) VALUES (?, ?, ?, ?)",
        (workspace, created, created, title),
    )
    return int(cur.lastrowid or 0)


def _append(db: sqlite3.Connection, conv: int, entries: Staged, stamp: str) -> int:
    """Append entries as the next exchange of a conversation (inside a transaction)."""
    # The last row by primary key: O(log n), however long the conversation.
    row = db.execute(
        "SELECT seq, turn FROM entries WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1",
        (conv,),
    ).fetchone()
    seq, turn = row if row is not None else (-1, 0)
    rows = [
        (conv, int(seq) + 1 + i, int(turn) + 1, role, _dumps(content), _dumps(meta), stamp)
        for i, (role, content, meta) in enumerate(entries)
    ]
    db.executemany(
        "INSERT INTO entries (conversation_id, seq, turn, role, content, meta, time)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    first = str(entries[0][2].get("text", "")) if entries else ""
    db.execute(
        "UPDATE conversations SET updated = ?, turns = ?, title = COALESCE(title, ?) WHERE id = ?",
        (stamp, int(turn) + 1, title_of(first), conv),
    )
    return int(turn) + 1
