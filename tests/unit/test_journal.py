"""The change feed and the journal of turns in flight, seen by two stores on one data folder
(two daemons): every change is a feed row in commit order; a journaled turn carries its
question and its reply so far until it ends or is committed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gemini_chat import journal
from gemini_chat.journal import Change
from gemini_chat.store import ConversationStore

from .core_fakes import moment, staged

Stores = tuple[ConversationStore, ConversationStore]


@pytest.fixture
def two(tmp_path: Path) -> Iterator[Stores]:
    """Two stores on one data folder, origins "A" and "B"."""
    a = ConversationStore(tmp_path, origin="A")
    b = ConversationStore(tmp_path, origin="B")
    yield a, b
    a.close()
    b.close()


def feed(store: ConversationStore, since: int = 0) -> list[tuple[str, int | None, str, int, str]]:
    """The feed after `since` as (workspace, conversation, reason, turn, origin)."""
    return [
        (c.workspace, c.conversation, c.reason, c.turn, c.origin)
        for c in store.journal.changes_since(since)
    ]


def test_every_change_is_a_feed_row_in_order_seen_by_the_other_store(two: Stores) -> None:
    """Commit, model, new conversation and reset by A, each a row naming A, its conversation
    and the turn count after it; B reads the same rows in the same order."""
    a, b = two
    a.commit("/w", staged("q1", "a1"))
    first = a.active("/w")
    a.commit("/w", staged("q2", "a2"))
    a.set_model("/w", "gemini-2.5-pro")
    second = a.new_conversation("/w")
    a.reset("/w")
    assert feed(b) == [
        ("/w", first, "turn", 1, "A"),
        ("/w", first, "turn", 2, "A"),
        ("/w", first, "model", 2, "A"),
        ("/w", second, "open", 0, "A"),
        ("/w", second, "reset", 0, "A"),
    ]
    seqs = [c.seq for c in b.journal.changes_since(0)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert feed(b, seqs[2]) == feed(b)[3:]
    assert b.journal.last_change() == seqs[-1]


def test_a_model_chosen_before_any_turn_is_a_row_with_no_conversation(two: Stores) -> None:
    """set_model on a folder without a conversation: conversation None, turn 0."""
    a, b = two
    a.set_model("/fresh", "gemini-2.5-pro")
    assert feed(b) == [("/fresh", None, "model", 0, "A")]


def test_last_change_before_a_time_leaves_out_later_rows(two: Stores) -> None:
    """last_change(before) is the newest row written before that time: a watcher started at
    `before` is then told of the rows written after it."""
    a, b = two
    assert b.journal.last_change() == 0
    a.commit("/w", staged("q1", "a1"))
    cut = moment()  # the next row's time must be later than the cut
    a.commit("/w", staged("q2", "a2"))
    (one, two_) = b.journal.changes_since(0)
    assert b.journal.last_change(cut) == one.seq
    assert b.journal.last_change() == two_.seq
    assert b.journal.last_change(0.0) == 0


def test_a_journaled_turn_is_seen_by_the_other_store_until_it_ends(two: Stores) -> None:
    """start: B sees the question, attachments, the next turn number and a `started` row;
    update: the whole reply so far and a `progress` row; end: nothing left, a `failed` row."""
    a, b = two
    a.commit("/w", staged("q1", "a1"))
    conv = a.active("/w")
    mark = b.journal.last_change()
    live = a.journal.start("/w", "Explain this", [{"name": "app.py", "mimeType": "text/x-python"}])
    assert (live.origin, live.conversation, live.turn, live.text) == ("A", conv, 2, "")
    a.journal.update(live, "/w", "It adds", "Thinking")
    (seen,) = b.journal.in_flight("/w")
    assert seen.token == live.token and seen.token.startswith("A-")
    assert (seen.message, seen.text, seen.thoughts, seen.turn) == (
        "Explain this", "It adds", "Thinking", 2,
    )  # fmt: skip
    assert seen.interrupted() == {
        "message": "Explain this",
        "attachments": [{"name": "app.py", "mimeType": "text/x-python"}],
        "text": "It adds",
        "thoughts": "Thinking",
        "time": live.started,
    }
    a.journal.end(live, "/w", "failed")
    assert b.journal.in_flight("/w") == []
    assert [(c.reason, c.turn, c.conversation) for c in b.journal.changes_since(mark)] == [
        ("started", 2, conv),
        ("progress", 2, conv),
        ("failed", 2, conv),
    ]


def test_a_turn_on_a_folder_without_conversation_is_turn_one(two: Stores) -> None:
    """The first turn of a folder journals conversation None, turn 1; tokens are unique."""
    a, _ = two
    first = a.journal.start("/new", "hi", [])
    second = a.journal.start("/new", "again", [])
    assert (first.conversation, first.turn) == (None, 1)
    assert first.token != second.token
    assert [t.message for t in a.journal.in_flight("/new")] == ["hi", "again"]


def test_a_commit_new_conversation_or_reset_clears_the_journal(two: Stores) -> None:
    """A journaled turn is cleared by the folder's commit, new conversation and reset (the
    interrupted turn lasts until then); another folder's journal is kept."""
    a, b = two
    for clear in (
        lambda: a.commit("/w", staged("q", "a")),
        lambda: a.new_conversation("/w"),
        lambda: a.reset("/w"),
    ):
        b.journal.start("/w", "pending", [])
        b.journal.start("/elsewhere", "kept", [])
        clear()
        assert a.journal.in_flight("/w") == []
    assert len(b.journal.in_flight("/elsewhere")) == 3


def test_the_feed_keeps_its_newest_rows(two: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every thousandth row trims the feed to its newest KEEP_CHANGES rows."""
    a, b = two
    monkeypatch.setattr(journal, "KEEP_CHANGES", 10)
    with a.db.writing() as db:
        for i in range(999):
            journal.record(db, "/w", None, "model", i, "A")
    assert len(b.journal.changes_since(0)) == 999
    a.set_model("/w", "gemini-2.5-pro")  # row 1000
    rows = b.journal.changes_since(0)
    assert [r.seq for r in rows] == list(range(991, 1001))
    assert rows[-1] == Change(1000, "/w", None, "model", 0, "A")
