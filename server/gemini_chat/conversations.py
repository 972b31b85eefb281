"""The conversations of a folder: list, open, rename, delete, and the whole of one for export.

Operations on the store's database; each change is written with its row in the change feed.
A compacted conversation's originals (`replaced_by` set) belong to it: they are not listed, are
deleted with it, and give back its summarised exchanges on export.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from .db import now
from .journal import record
from .protocol import FieldError, Json, objects
from .store import ConversationStore, Entry, title_of

MAX_LIST = 1000


@dataclass(frozen=True)
class Listed:
    """One conversation as `gemini/conversations` lists it."""

    id: int
    title: str
    created: str
    updated: str
    turns: int
    active: bool

    def json(self) -> Json:
        """The protocol's object."""
        return {
            "id": str(self.id),
            "title": self.title,
            "created": self.created,
            "updated": self.updated,
            "turns": self.turns,
            "active": self.active,
        }


def conversation_id(value: str) -> int:
    """A conversation id as the protocol spells it (an opaque string), or -32602 naming `id`."""
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise FieldError(f"{value!r} is not a conversation id", "id")
    return int(value)


def listed(
    store: ConversationStore, workspace: str, limit: int, offset: int
) -> tuple[list[Listed], int]:
    """A page of the folder's conversations, most recently updated first, and their count."""
    with store.db.reading() as db:
        # Compacted originals belong to their conversation; an empty archived one is noise.
        where = "workspace = ? AND replaced_by IS NULL AND (turns > 0 OR archived IS NULL)"
        (total,) = db.execute(
            f"SELECT COUNT(*) FROM conversations WHERE {where}", (workspace,)
        ).fetchone()
        rows = db.execute(
            f"SELECT id, title, created, updated, turns, archived IS NULL FROM conversations"
            f" WHERE {where} ORDER BY updated DESC, id DESC LIMIT ? OFFSET ?",
            (workspace, min(limit, MAX_LIST), offset),
        ).fetchall()
        return [
            Listed(int(r[0]), r[1] or _first_question(db, int(r[0])), str(r[2]),
                   str(r[3] or r[2]), int(r[4]), bool(r[5]))
            for r in rows
        ], int(total)  # fmt: skip


def _first_question(db: sqlite3.Connection, conv: int) -> str:
    """The default title of a conversation stored before titles were (its first question)."""
    row = db.execute(
        "SELECT meta FROM entries WHERE conversation_id = ? AND role = 'user' ORDER BY seq LIMIT 1",
        (conv,),
    ).fetchone()
    return title_of(str(json.loads(row[0]).get("text", ""))) if row else title_of("")


def _owned(db: sqlite3.Connection, workspace: str, conv: int) -> tuple[str | None, int]:
    """A listed conversation of the folder: (archived, turns); -32602 naming `id` otherwise."""
    row = db.execute(
        "SELECT archived, turns FROM conversations"
        " WHERE id = ? AND workspace = ? AND replaced_by IS NULL",
        (conv, workspace),
    ).fetchone()
    if row is None:
        raise FieldError(f"{conv} is not a conversation of this folder", "id")
    return row[0], int(row[1])


def open_conversation(store: ConversationStore, workspace: str, conv: int) -> None:
    """Make a conversation the folder's active one; the active one is archived, not lost."""
    with store.db.writing() as db:
        archived, turns = _owned(db, workspace, conv)
        if archived is None:
            return
        db.execute(
            "UPDATE conversations SET archived = ? WHERE workspace = ? AND archived IS NULL",
            (now(), workspace),
        )
        db.execute("UPDATE conversations SET archived = NULL WHERE id = ?", (conv,))
        db.execute("DELETE FROM journal WHERE workspace = ?", (workspace,))
        record(db, workspace, conv, "open", turns, store.origin)
        store.forget(workspace)


def rename(store: ConversationStore, workspace: str, conv: int, title: str) -> str:
    """Give a conversation a title (blank: back to its first question); return the title."""
    with store.db.writing() as db:
        _, turns = _owned(db, workspace, conv)
        clean = " ".join(title.split())
        db.execute("UPDATE conversations SET title = ? WHERE id = ?", (clean or None, conv))
        shown = clean or _first_question(db, conv)
        record(db, workspace, conv, "renamed", turns, store.origin)
    return shown


def delete(store: ConversationStore, workspace: str, conv: int) -> list[Path]:
    """Remove a conversation and its compacted originals for good; return the image files
    no other conversation shows (the caller deletes them)."""
    with store.db.writing() as db:
        archived, _ = _owned(db, workspace, conv)
        ids = [conv, *_originals(db, conv)]
        marks = ",".join("?" * len(ids))
        images = _images(db, ids)
        db.execute(f"DELETE FROM entries WHERE conversation_id IN ({marks})", ids)
        db.execute(f"DELETE FROM conversations WHERE id IN ({marks})", ids)
        if archived is None:
            db.execute("DELETE FROM journal WHERE workspace = ?", (workspace,))
        record(db, workspace, conv, "deleted", 0, store.origin)
        kept: set[str] = _images(db, None) if images else set()  # shared by content
        store.forget(workspace)
    return [Path(p) for p in images - kept]


def _originals(db: sqlite3.Connection, conv: int) -> list[int]:
    rows = db.execute(
        "WITH RECURSIVE chain(id) AS (SELECT id FROM conversations WHERE replaced_by = ?"
        " UNION SELECT c.id FROM conversations c JOIN chain ON c.replaced_by = chain.id)"
        " SELECT id FROM chain",
        (conv,),
    ).fetchall()
    return [int(r[0]) for r in rows]


def _images(db: sqlite3.Connection, ids: list[int] | None) -> set[str]:
    """The image files the replies of these conversations (None: of all) show."""
    where = "role = 'model' AND meta LIKE '%\"images\"%'"
    if ids is None:
        rows = db.execute(f"SELECT meta FROM entries WHERE {where}").fetchall()
    else:
        marks = ",".join("?" * len(ids))
        sql = f"SELECT meta FROM entries WHERE conversation_id IN ({marks}) AND {where}"
        rows = db.execute(sql, ids).fetchall()
    paths: set[str] = set()
    for (meta,) in rows:
        for image in objects(cast(Json, json.loads(meta)).get("images")):
            path = image.get("path")
            if isinstance(path, str):
                paths.add(path)
    return paths


def whole(store: ConversationStore, workspace: str, conv: int) -> tuple[Listed, list[list[Entry]]]:
    """A conversation and all its exchanges, the ones compaction summarised given back."""
    with store.db.reading() as db:
        archived, _ = _owned(db, workspace, conv)
        (title, created, updated, turns) = db.execute(
            "SELECT title, created, updated, turns FROM conversations WHERE id = ?", (conv,)
        ).fetchone()
        info = Listed(conv, title or _first_question(db, conv), str(created),
                      str(updated or created), int(turns), archived is None)  # fmt: skip
        return info, _exchanges(db, conv)


def _exchanges(db: sqlite3.Connection, conv: int, upto: int | None = None) -> list[list[Entry]]:
    """The conversation's first `upto` stored exchanges (all by default), a summary exchange
    replaced by the exchanges it summarised (its count is of the predecessor's stored ones)."""
    rows = db.execute(
        "SELECT seq, turn, role, content, meta, time FROM entries WHERE conversation_id = ?"
        " ORDER BY seq",
        (conv,),
    ).fetchall()
    groups: dict[int, list[Entry]] = {}
    for seq, turn, role, content, meta, time in rows:
        entry = Entry(seq, turn, role, None, None, time, content, meta)
        groups.setdefault(turn, []).append(entry)
    exchanges = list(groups.values())[:upto]
    summarised: object = exchanges[0][0].meta.get("compacted") if exchanges else None
    before = db.execute("SELECT id FROM conversations WHERE replaced_by = ?", (conv,)).fetchone()
    if isinstance(summarised, int) and before is not None:
        return _exchanges(db, int(before[0]), summarised) + exchanges[1:]
    return exchanges
