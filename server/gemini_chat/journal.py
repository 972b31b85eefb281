"""The live records of a store: the change feed, and the journal of turns in flight.

Every change to a folder's conversations is a row in `changes`, written in the transaction
that made it, so any daemon on the store can follow them in order (`changes_since`). A turn in
flight keeps its question and its reply so far in `journal`: other daemons mirror it from
there, and when its daemon dies the row is what `interrupted` shows.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .db import Database, now
from .protocol import Json

KEEP_CHANGES = 10_000
"""Rows of the change feed kept; a daemon reads the feed every few hundred milliseconds."""
LIVE_REASONS = frozenset({"started", "progress", "failed", "cancelled"})
"""Feed reasons about a turn in flight, not a stored change (gemini/turnProgress)."""


@dataclass(frozen=True)
class Change:
    """One row of the change feed."""

    seq: int
    workspace: str
    conversation: int | None
    reason: str
    turn: int
    origin: str


@dataclass(frozen=True)
class InFlight:
    """A journaled turn: its question, attachments and the reply so far."""

    token: str
    origin: str
    conversation: int | None
    turn: int
    message: str
    attachments: list[object]
    text: str
    thoughts: str
    started: str
    image: Json | None = None
    """A `gemini/generateImage`'s parameters (numberOfImages, aspectRatio, model); None for
    a chat turn."""

    def interrupted(self) -> Json:
        """`gemini/history`'s `interrupted` object (with `image` for an image request, so a
        client sends it again as one)."""
        shown: Json = {
            "message": self.message,
            "attachments": self.attachments,
            "text": self.text,
            "thoughts": self.thoughts,
            "time": self.started,
        }
        if self.image is not None:
            shown["image"] = self.image
        return shown


def record(
    db: sqlite3.Connection,
    workspace: str,
    conversation: int | None,
    reason: str,
    turn: int,
    origin: str,
) -> None:
    """Add a change to the feed (inside the transaction that made it)."""
    cur = db.execute(
        "INSERT INTO changes (workspace, conversation, reason, turn, origin, time)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (workspace, conversation, reason, turn, origin, time.time()),
    )
    seq = int(cur.lastrowid or 0)
    if seq % 1000 == 0:
        db.execute("DELETE FROM changes WHERE seq <= ?", (seq - KEEP_CHANGES,))


class Journal:
    """Turns in flight and the change feed of one store, as one daemon (`origin`) sees them."""

    def __init__(self, db: Database, origin: str) -> None:
        self._db = db
        self.origin = origin
        self._tokens = itertools.count(1)

    def start(
        self,
        workspace: str,
        message: str,
        attachments: Sequence[object],
        image: Json | None = None,
    ) -> InFlight:
        """Journal a turn that starts (its number is the next one of the active conversation);
        `image`: the parameters of an image request."""
        token = f"{self.origin}-{next(self._tokens)}"
        stamp = now()
        with self._db.writing() as db:
            row = db.execute(
                "SELECT id, turns FROM conversations WHERE workspace = ? AND archived IS NULL",
                (workspace,),
            ).fetchone()
            conv, turns = (int(row[0]), int(row[1])) if row else (None, 0)
            db.execute(
                "INSERT INTO journal (token, workspace, origin, conversation, turn, message,"
                " attachments, text, thoughts, started, image)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, '', '', ?, ?)",
                (token, workspace, self.origin, conv, turns + 1, message, _dumps(attachments),
                 stamp, None if image is None else _dumps(image)),
            )  # fmt: skip
            record(db, workspace, conv, "started", turns + 1, self.origin)
        return InFlight(
            token, self.origin, conv, turns + 1, message, list(attachments), "", "", stamp, image
        )

    def update(self, turn: InFlight, workspace: str, text: str, thoughts: str) -> None:
        """The reply so far (whole, not a delta)."""
        with self._db.writing() as db:
            db.execute(
                "UPDATE journal SET text = ?, thoughts = ? WHERE token = ?",
                (text, thoughts, turn.token),
            )
            record(db, workspace, turn.conversation, "progress", turn.turn, self.origin)

    def end(self, turn: InFlight, workspace: str, reason: str) -> None:
        """A turn that failed or was cancelled: it leaves nothing (a commit clears it itself)."""
        with self._db.writing() as db:
            db.execute("DELETE FROM journal WHERE token = ?", (turn.token,))
            record(db, workspace, turn.conversation, reason, turn.turn, self.origin)

    def in_flight(self, workspace: str) -> list[InFlight]:
        """The folder's journaled turns, oldest first."""
        with self._db.reading() as db:
            rows = db.execute(
                "SELECT token, origin, conversation, turn, message, attachments, text, thoughts,"
                " started, image FROM journal WHERE workspace = ? ORDER BY rowid",
                (workspace,),
            ).fetchall()
        return [
            InFlight(str(r[0]), str(r[1]), r[2], int(r[3]), str(r[4]), json.loads(r[5]),
                     str(r[6]), str(r[7]), str(r[8]), None if r[9] is None else json.loads(r[9]))
            for r in rows
        ]  # fmt: skip

    def last_change(self, before: float | None = None) -> int:
        """The feed's newest row, or the newest written before the time `before` (a watcher
        follows the changes after it)."""
        with self._db.reading() as db:
            (seq,) = db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM changes WHERE time < ?",
                (time.time() + 1 if before is None else before,),
            ).fetchone()
        return int(seq)

    def changes_since(self, seq: int) -> list[Change]:
        """The feed's rows after `seq`, in order."""
        with self._db.reading() as db:
            rows = db.execute(
                "SELECT seq, workspace, conversation, reason, turn, origin FROM changes"
                " WHERE seq > ? ORDER BY seq",
                (seq,),
            ).fetchall()
        return [Change(int(r[0]), str(r[1]), r[2], str(r[3]), int(r[4]), str(r[5])) for r in rows]


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
