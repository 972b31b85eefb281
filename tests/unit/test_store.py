"""The conversation store: atomic exchanges, archives, sharing across connections, privacy."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

from gemini_chat.store import ConversationStore


def _user(text: str) -> dict[str, object]:
    return {"role": "user", "parts": [{"text": text}]}


def _model(text: str) -> dict[str, object]:
    return {"role": "model", "parts": [{"text": text, "thoughtSignature": "c2lnbmF0dXJl"}]}


def test_exchange_commits_both_contents_and_numbers_turns(tmp_path: Path) -> None:
    """Each commit adds a user and a model entry and returns the 1-based turn number."""
    s = ConversationStore(tmp_path)
    assert s.commit("/w", [("user", _user("a"), {}), ("model", _model("b"), {})]) == 1
    assert s.commit("/w", [("user", _user("c"), {}), ("model", _model("d"), {})]) == 2
    entries = s.history("/w")
    assert [e.role for e in entries] == ["user", "model", "user", "model"]
    assert entries[1].content == _model("b")


def test_parts_are_kept_verbatim(tmp_path: Path) -> None:
    """A model part's thoughtSignature and unknown fields come back unchanged."""
    s = ConversationStore(tmp_path)
    model = {"role": "model", "parts": [{"text": "x", "thoughtSignature": "AbC=", "future": 1}]}
    s.commit("/w", [("user", _user("q"), {}), ("model", model, {})])
    assert ConversationStore(tmp_path).history("/w")[1].content == model


def test_workspaces_are_isolated(tmp_path: Path) -> None:
    """Each workspace has its own conversation."""
    s = ConversationStore(tmp_path)
    s.commit("/a", [("user", _user("a"), {}), ("model", _model("A"), {})])
    assert s.history("/b") == []


def test_reset_archives_instead_of_deleting(tmp_path: Path) -> None:
    """Reset returns the entry count, starts fresh, and keeps the old conversation."""
    s = ConversationStore(tmp_path)
    s.commit("/w", [("user", _user("a"), {}), ("model", _model("A"), {})])
    assert s.reset("/w") == 2
    assert s.history("/w") == []
    archived = "SELECT COUNT(*) FROM conversations WHERE workspace = '/w' AND archived IS NOT NULL"
    assert s.db.conn.execute(archived).fetchone() == (1,)  # pyright: ignore[reportPrivateUsage]
    assert s.reset("/w") == 0
    assert s.commit("/w", [("user", _user("b"), {}), ("model", _model("B"), {})]) == 1


def test_two_connections_see_each_others_turns(tmp_path: Path) -> None:
    """Two stores on one folder (two daemons) continue one conversation, incl. resets."""
    a, b = ConversationStore(tmp_path), ConversationStore(tmp_path)
    a.commit("/w", [("user", _user("1"), {}), ("model", _model("1"), {})])
    assert len(b.history("/w")) == 2
    b.commit("/w", [("user", _user("2"), {}), ("model", _model("2"), {})])
    assert [e.content for e in a.history("/w")][-1] == _model("2")
    b.reset("/w")
    assert a.history("/w") == []


def test_concurrent_commits_keep_pairs(tmp_path: Path) -> None:
    """Threads committing at once leave whole, alternating exchanges."""
    stores = [ConversationStore(tmp_path) for _ in range(4)]

    def work(s: ConversationStore, n: int) -> None:
        for i in range(25):
            s.commit("/w", [("user", _user(f"{n}-{i}"), {}), ("model", _model(f"{n}-{i}"), {})])

    threads = [threading.Thread(target=work, args=(s, n)) for n, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = stores[0].history("/w")
    assert len(entries) == 200
    for u, m in zip(entries[::2], entries[1::2], strict=True):
        assert (u.role, m.role) == ("user", "model")
        assert u.content["parts"] == [{"text": m.content["parts"][0]["text"]}]  # type: ignore[index]


def test_files_are_private(tmp_path: Path) -> None:
    """The folder is 0700 and the database 0600."""
    d = tmp_path / "store"
    s = ConversationStore(d)
    s.commit("/w", [("user", _user("a"), {}), ("model", _model("A"), {})])
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE(s.path.stat().st_mode) == 0o600
    with sqlite3.connect(s.path) as db:
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
