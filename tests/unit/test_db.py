"""The store's SQLite database: a read-only folder read through a private copy (write-ahead
log included), a foreign file named as such, older stores migrated, failures named.

The tests run as root, where file modes do not stop writes: a folder that cannot be written is
simulated by making the writable open fail the way SQLite does on read-only storage.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import pytest

from gemini_chat import conversations
from gemini_chat.db import Database
from gemini_chat.gemini.errors import StorageError
from gemini_chat.store import ConversationStore

from .core_fakes import staged

READ_ONLY = "attempt to write a readonly database"


def refuse(self: Database) -> sqlite3.Connection:
    """Database._open on read-only storage: SQLite's refusal."""
    raise sqlite3.OperationalError(READ_ONLY)


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening any store for writing fails as it does on read-only storage."""
    monkeypatch.setattr(Database, "_open", refuse)


def rows_in_main_file(path: Path, tmp: Path) -> int:
    """The entries a copy of the database file alone holds (without its write-ahead log);
    0 when even the table is only in the log."""
    alone = tmp / "alone.sqlite3"
    shutil.copyfile(path, alone)
    db = sqlite3.connect(alone)
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        if "entries" not in tables:
            return 0
        return int(db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
    finally:
        db.close()


def test_a_read_only_folder_reads_the_newest_turns_from_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store a writing daemon left with turns only in its write-ahead log: a daemon that
    cannot write the folder sees them all (history, list, model), from a private copy."""
    writer = ConversationStore(tmp_path / "data")
    writer.db.conn.execute("PRAGMA wal_autocheckpoint=0")  # the turns stay in the log
    writer.commit("/w", staged("q1", "a1"))
    writer.commit("/w", staged("q2", "a2"))
    writer.set_model("/w", "gemini-2.5-pro")
    assert rows_in_main_file(writer.path, tmp_path) < 4  # the log holds what the check needs
    with monkeypatch.context() as m:
        m.setattr(Database, "_open", refuse)
        reader = ConversationStore(tmp_path / "data")
    assert reader.db.read_only == READ_ONLY and reader.db.unreadable is None
    assert [e.meta["text"] for e in reader.history("/w")] == ["q1", "a1", "q2", "a2"]
    assert reader.model("/w") == "gemini-2.5-pro"
    items, total = conversations.listed(reader, "/w", 10, 0)
    assert (total, items[0].title, items[0].turns) == (1, "q1", 2)
    copy = reader.db.conn.execute("PRAGMA database_list").fetchone()[2]
    assert (
        Path(copy).parent != reader.data_dir and Path(copy).parent.stat().st_mode & 0o777 == 0o700
    )
    reader.close()
    assert not Path(copy).parent.exists()
    writer.close()


def test_a_read_only_folder_refuses_writes_naming_the_store(
    tmp_path: Path, read_only: None
) -> None:
    """Every write to a read-only store is StorageError: the file, SQLite's cause, and what to
    do; the feed and the journal refuse too; nothing is written."""
    store = ConversationStore(tmp_path)
    expected = (
        f"Cannot save to the conversation store {tmp_path / 'conversations.sqlite3'}: "
        f"{READ_ONLY}. Free some disk space or make the data folder writable (the dataDir "
        "setting)."
    )
    for write in (
        store.check_writable,
        lambda: store.commit("/w", staged("q", "a")),
        lambda: store.new_conversation("/w"),
        lambda: store.journal.start("/w", "q", []),
    ):
        with pytest.raises(StorageError) as info:
            write()
        assert info.value.message == expected
    assert store.history("/w") == [] and store.journal.changes_since(0) == []
    assert not (tmp_path / "conversations.sqlite3").exists()
    assert store.locks.held("/w") is False
    store.close()


def test_a_foreign_file_is_unreadable_with_a_named_error(tmp_path: Path) -> None:
    """A file that is not SQLite: reading says the path, the cause and to move the file
    away; both read_only and unreadable name the cause; the file is left as it was."""
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(b"\x00" * 8 + b"some other program's data" * 100)
    db = Database(tmp_path)
    assert db.unreadable == db.read_only == "file is not a database"
    with pytest.raises(StorageError) as info, db.reading():
        pass
    assert info.value.message == (
        f"Cannot read the conversation store {path}: file is not a database. Move the file "
        "away (it is not a gemini-chat store) or choose another dataDir setting."
    )
    with pytest.raises(StorageError, match="Cannot save"), db.writing():
        pass
    db.close()
    assert path.read_bytes().startswith(b"\x00" * 8 + b"some other")


def test_another_sqlite_database_is_not_taken_for_an_empty_store(
    tmp_path: Path, read_only: None
) -> None:
    """A read-only SQLite file without our tables (another program's database) is unreadable,
    naming the missing table, rather than read as a store without conversations."""
    other = sqlite3.connect(tmp_path / "conversations.sqlite3")
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()
    store = ConversationStore(tmp_path)
    assert store.db.unreadable == "no such table: conversations"
    with pytest.raises(StorageError, match=r"no such table: conversations\. Move the file away"):
        store.history("/w")
    store.close()


def test_a_read_only_folder_without_a_store_reads_as_empty(tmp_path: Path, read_only: None) -> None:
    """No store file yet and no way to make one: reads give an empty history and feed."""
    store = ConversationStore(tmp_path)
    assert store.db.unreadable is None and store.db.read_only == READ_ONLY
    assert store.history("/w") == [] and store.active("/w") is None
    assert store.journal.last_change() == 0
    store.close()


OLD_SCHEMA = """
CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL,
    created TEXT NOT NULL, archived TEXT);
CREATE TABLE entries (conversation_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    turn INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, meta TEXT NOT NULL,
    time TEXT NOT NULL);
CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, workspace TEXT NOT NULL,
    reason TEXT NOT NULL);
INSERT INTO changes (workspace, reason) VALUES ('/w', 'turn');
INSERT INTO conversations VALUES (1, '/w', '2024-01-01T00:00:00.000Z', '2024-01-03T00:00:00.000Z');
INSERT INTO conversations VALUES (2, '/w', '2024-02-01T00:00:00.000Z', NULL);
INSERT INTO conversations VALUES (3, '/w', '2024-03-01T00:00:00.000Z', '2024-03-02T00:00:00.000Z');
"""


def old_store(folder: Path) -> Path:
    """A store of the first version: no title/updated/turns/replaced_by, a development feed
    without `time`; conversation 1 has two exchanges, 2 (active) one, 3 none."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "conversations.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    entries = [
        (1, 0, 1, "user", "Why is the sky blue?\nDetails please", "2024-01-01T00:01:00.000Z"),
        (1, 1, 1, "model", "Scattering.", "2024-01-01T00:02:00.000Z"),
        (1, 2, 2, "user", "And red at dusk?", "2024-01-02T00:01:00.000Z"),
        (1, 3, 2, "model", "Longer path.", "2024-01-02T00:02:00.000Z"),
        (2, 0, 1, "user", "Hello", "2024-02-05T00:00:00.000Z"),
        (2, 1, 1, "model", "Hi.", "2024-02-05T00:00:01.000Z"),
    ]
    for conv, seq, turn, role, text, time in entries:
        content = json.dumps({"role": role, "parts": [{"text": text}]})
        meta = json.dumps({"text": text})
        db.execute(
            "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)",
            (conv, seq, turn, role, content, meta, time),
        )
    db.commit()
    db.close()
    return path


def listed(store: ConversationStore) -> list[tuple[int, str, str, int, bool]]:
    """The folder's conversations as (id, title, updated, turns, active)."""
    items, _ = conversations.listed(store, "/w", 10, 0)
    return [(c.id, c.title, c.updated, c.turns, c.active) for c in items]


EXPECTED_LIST = [
    (2, "Hello", "2024-02-05T00:00:01.000Z", 1, True),
    (1, "Why is the sky blue?", "2024-01-02T00:02:00.000Z", 2, False),
]
"""The old store as listed after migration: turns and updated filled from the entries,
titles from the first questions, the empty archived conversation left out."""


def test_an_old_store_gains_the_new_columns_filled_in(tmp_path: Path) -> None:
    """Opening a first-version store adds title, updated, turns and replaced_by; turns and
    updated are filled from its entries (updated falls back to created); the development
    feed is replaced by the current one; the next commit continues the active conversation."""
    path = old_store(tmp_path)
    store = ConversationStore(tmp_path)
    db = sqlite3.connect(path)
    columns = {r[1] for r in db.execute("PRAGMA table_info(conversations)")}
    assert {"title", "updated", "turns", "replaced_by"} <= columns
    assert db.execute("SELECT id, turns, updated FROM conversations ORDER BY id").fetchall() == [
        (1, 2, "2024-01-02T00:02:00.000Z"),
        (2, 1, "2024-02-05T00:00:01.000Z"),
        (3, 0, "2024-03-01T00:00:00.000Z"),
    ]
    db.close()
    assert listed(store) == EXPECTED_LIST
    assert store.journal.changes_since(0) == []
    assert store.commit("/w", staged("Again", "Yes.")) == 2
    assert [c.reason for c in store.journal.changes_since(0)] == ["turn"]
    store.close()
    again = ConversationStore(tmp_path)
    assert listed(again)[0][3] == 2  # migrated once, kept
    again.close()


def _open_at_once(folder: str, start: object, answers: object) -> None:
    """One "daemon" of the race below: open the store when all are ready, tell how it went."""
    start.wait()  # type: ignore[attr-defined]
    db = Database(Path(folder))
    answers.put(db.read_only or db.unreadable or "writable")  # type: ignore[attr-defined]
    db.close()


def open_at_once(folder: Path, daemons: int) -> list[str]:
    """Open one store from `daemons` processes released together; how each one opened it."""
    fork = multiprocessing.get_context("fork")
    start, answers = fork.Barrier(daemons), fork.Queue()
    procs = [
        fork.Process(target=_open_at_once, args=(str(folder), start, answers))
        for _ in range(daemons)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    return sorted(answers.get(timeout=5) for _ in procs)


def test_daemons_opening_a_new_or_old_store_at_once_all_write_it(tmp_path: Path) -> None:
    """Four processes opening one new store at the same moment (two editors started on a
    folder together), then one first-version store: every one opens it writable. Before,
    one of them often lost the race ("database is locked" switching to WAL, or "duplicate
    column name" migrating) and fell back to a read-only private copy, seeing nobody's turns."""
    for round_ in range(12):
        assert open_at_once(tmp_path / f"new{round_}", 4) == ["writable"] * 4
        old = tmp_path / f"old{round_}"
        old_store(old)
        assert open_at_once(old, 4) == ["writable"] * 4
        store = ConversationStore(old)
        assert listed(store) == EXPECTED_LIST  # migrated once
        store.close()


def test_an_old_store_on_read_only_storage_is_read_migrated_in_the_copy(
    tmp_path: Path, read_only: None
) -> None:
    """A first-version store that cannot be written: listed as if migrated (the copy is),
    the file itself unchanged."""
    path = old_store(tmp_path)
    before = path.read_bytes()
    store = ConversationStore(tmp_path)
    assert listed(store) == EXPECTED_LIST
    assert [e.meta["text"] for e in store.history("/w")] == ["Hello", "Hi."]
    store.close()
    assert path.read_bytes() == before


def read(db: Database, sql: str) -> None:
    """Run one statement in a read."""
    with db.reading() as conn:
        conn.execute(sql)


def write(db: Database, *statements: str, then: BaseException | None = None) -> None:
    """Run statements in one write transaction, then raise `then` inside it if given."""
    with db.writing() as conn:
        for sql in statements:
            conn.execute(sql)
        if then is not None:
            raise then


KEPT = "INSERT INTO workspace_models VALUES ('/w', 'kept?')"


def test_a_failed_read_or_write_names_the_store_and_cause(tmp_path: Path) -> None:
    """A SQL failure inside reading() is StorageError "Cannot read" with SQLite's cause; inside
    writing() it is "Cannot save" and the transaction is rolled back; any other exception
    passes unchanged, rolled back too."""
    db = Database(tmp_path)
    with pytest.raises(StorageError, match=r"Cannot read .*: no such table: nowhere\.$"):
        read(db, "SELECT * FROM nowhere")
    with pytest.raises(StorageError, match=r"Cannot save .*: no such table: nowhere\. Free"):
        write(db, KEPT, "INSERT INTO nowhere VALUES (1)")
    with pytest.raises(KeyError):
        write(db, KEPT, then=KeyError("boom"))
    with db.reading() as conn:
        assert conn.execute("SELECT COUNT(*) FROM workspace_models").fetchone() == (0,)
    db.close()


def test_a_store_locked_by_another_writer_is_a_named_save_error(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE refused (another connection holds the write lock past the busy
    timeout): StorageError "Cannot save ... database is locked"."""
    db = Database(tmp_path)
    db.conn.execute("PRAGMA busy_timeout=0")
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageError, match=r"Cannot save .*: database is locked"):
            write(db)
    finally:
        other.execute("ROLLBACK")
        other.close()
    write(db, KEPT)  # free again
    db.close()


def test_a_journal_without_the_image_column_gets_it_and_keeps_its_rows(tmp_path: Path) -> None:
    """A store whose journal predates image requests' parameters: opening it adds the column;
    the turn it had in flight reads back as a chat turn (no image), and a new image request's
    parameters are stored and read back."""
    first = ConversationStore(tmp_path)
    first.journal.start("/w", "An old question", [])
    first.close()
    path = tmp_path / "conversations.sqlite3"
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE journal DROP COLUMN image")
    db.commit()
    db.close()
    store = ConversationStore(tmp_path)
    store.journal.start("/w", "A red fox", [], {"numberOfImages": 2, "model": "imagen-4"})
    old, new = store.journal.in_flight("/w")
    assert (old.message, old.image) == ("An old question", None)
    assert "image" not in old.interrupted()
    assert new.interrupted()["image"] == {"numberOfImages": 2, "model": "imagen-4"}
    store.close()
