"""The live conversation: a turn's reply journaled as it streams (JournaledEvents), and the
Watcher turning the store's change feed into conversationChanged / turnProgress.

Two ConversationStores on one data folder stand for two daemons: "A" is the watching daemon,
"B" the other one. B holds the folder lock through its turn, as a daemon does (the watcher
reads a folder lock found free during a journaled turn as that turn's daemon having died).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gemini_chat import live
from gemini_chat.gemini.client import RetryNotice
from gemini_chat.gemini.errors import StorageError, UpstreamUnavailableError
from gemini_chat.live import JournaledEvents, Watcher
from gemini_chat.protocol import Json
from gemini_chat.store import ConversationStore
from gemini_chat.turn import TurnEvents
from polling import until

from .core_fakes import Events, Gate, Rig, Sink, full_disk, moment, sse, staged

W = "/work/w"
URI = "file:///work/w"


async def nothing() -> None:
    """An on_wait for holds that are not expected to wait."""


@dataclass
class Daemons:
    """The watching store A, the other store B, A's watcher over folder W, and its sink."""

    a: ConversationStore
    b: ConversationStore
    sink: Sink
    folders: dict[str, str] = field(default_factory=lambda: {W: URI})
    current: list[ConversationStore] = field(default_factory=list[ConversationStore])
    watcher: Watcher | None = None

    def watch(self, since: float | None = None) -> Watcher:
        """A's watcher (from now, or from `since`)."""
        self.current = [self.a]
        self.watcher = Watcher(lambda: self.current[0], lambda: self.folders, self.sink, since)
        return self.watcher

    def poll(self) -> list[tuple[str, Json]]:
        """Poll once; what the watcher sent."""
        assert self.watcher is not None
        self.watcher.poll()
        return self.sink.take()


@pytest.fixture
async def d(tmp_path: Path) -> AsyncIterator[Daemons]:
    """Two stores on one data folder; A's watcher follows the feed from now."""
    daemons = Daemons(
        ConversationStore(tmp_path / "data", origin="A"),
        ConversationStore(tmp_path / "data", origin="B"),
        Sink(),
    )
    daemons.watch()
    yield daemons
    daemons.a.close()
    daemons.b.close()


def changed(reason: str, conv: int | None, turn: int) -> tuple[str, Json]:
    """The conversationChanged notification expected for W."""
    return (
        "conversationChanged",
        {"workspace": URI, "conversation": None if conv is None else str(conv),
         "reason": reason, "turn": turn},
    )  # fmt: skip


def progress(state: str, conv: int | None, turn: int, **more: object) -> tuple[str, Json]:
    """The turnProgress notification expected for W."""
    params: Json = {
        "workspace": URI,
        "conversation": None if conv is None else str(conv),
        "turn": turn,
        "state": state,
    }
    return ("turnProgress", params | more)


# --- the watcher ---------------------------------------------------------------------------


async def test_another_daemons_streamed_turn_is_started_streaming_finished(d: Daemons) -> None:
    """B's journaled turn: `started` with the question (and the empty reply), `streaming` with
    the whole reply so far (only the newest of several updates), then on commit `finished`
    with the stored reply and thoughts, and conversationChanged turn."""
    d.b.commit(W, staged("first", "one"))
    conv = d.b.active(W)
    assert d.poll() == [changed("turn", conv, 1)]
    async with d.b.locks.hold(W, nothing):
        live_turn = d.b.journal.start(W, "Explain", [])
        assert d.poll() == [progress("started", conv, 2, text="", thoughts="", message="Explain")]
        d.b.journal.update(live_turn, W, "It", "")
        d.b.journal.update(live_turn, W, "It adds", "hmm")
        assert d.poll() == [progress("streaming", conv, 2, text="It adds", thoughts="hmm")]
        assert d.poll() == []
        d.b.commit(W, staged("Explain", "It adds two numbers.", thoughts="hmm, adding"))
    assert d.poll() == [
        progress("finished", conv, 2, text="It adds two numbers.", thoughts="hmm, adding"),
        changed("turn", conv, 2),
    ]
    assert d.poll() == []


async def test_a_quick_turn_already_stored_is_started_with_its_stored_question(
    d: Daemons,
) -> None:
    """B starts and commits between two polls: `started` carries the question from the store
    (the journal row is gone), then `finished` and conversationChanged; the folder had no
    conversation when the turn started, so only the commit names the one it made."""
    async with d.b.locks.hold(W, nothing):
        d.b.journal.start(W, "Quick?", [])
        d.b.commit(W, staged("Quick?", "Yes."))
    conv = d.b.active(W)
    assert d.poll() == [
        progress("started", None, 1, message="Quick?"),
        progress("finished", conv, 1, text="Yes.", thoughts=""),
        changed("turn", conv, 1),
    ]


async def test_another_daemons_image_request_is_started_with_its_parameters(d: Daemons) -> None:
    """B's journaled `gemini/generateImage`: `started` carries the prompt as `message` and the
    request's `image` parameters (count, model, aspect ratio), so a client shows it as an image
    request, not as a question to the chat model."""
    asked: Json = {"numberOfImages": 2, "model": "imagen-4.0-generate-001", "aspectRatio": "16:9"}
    async with d.b.locks.hold(W, nothing):
        d.b.journal.start(W, "a red fox", [], image=asked)
        assert d.poll() == [
            progress("started", None, 1, text="", thoughts="", message="a red fox", image=asked)
        ]


async def test_a_quick_image_request_already_stored_is_started_with_its_stored_parameters(
    d: Daemons,
) -> None:
    """B's image request starts and is stored between two polls: `started` takes the prompt and
    the `image` parameters from the stored question's `imagen` marker (the journal row is gone)."""
    asked: Json = {"model": "imagen-4.0-generate-001", "numberOfImages": 1}
    question, reply = staged("a blue whale", "")
    question[2]["imagen"] = asked
    async with d.b.locks.hold(W, nothing):
        d.b.journal.start(W, "a blue whale", [], image=asked)
        d.b.commit(W, [question, reply])
    started = d.poll()[0]
    assert started == progress("started", None, 1, message="a blue whale", image=asked)


async def test_a_failed_or_cancelled_turn_is_told_so(d: Daemons) -> None:
    """B's turn that ends without a commit: turnProgress with the reason as its state, and the
    folder is no longer watched as in flight (no `interrupted` afterwards)."""
    async with d.b.locks.hold(W, nothing):
        for reason in ("failed", "cancelled"):
            turn = d.b.journal.start(W, "q", [])
            assert d.poll()[0][1]["state"] == "started"
            d.b.journal.end(turn, W, reason)
            assert d.poll() == [progress(reason, None, 1)]
    assert d.poll() == []


async def test_a_daemon_that_died_mid_turn_is_failed_interrupted(d: Daemons) -> None:
    """B's folder lock freed without an end (its process died): `failed` with interrupted."""
    holding = d.b.locks.hold(W, nothing)
    await holding.__aenter__()
    turn = d.b.journal.start(W, "q", [])
    assert [p["state"] for _, p in d.poll()] == ["started"]
    d.b.journal.update(turn, W, "partial", "")
    assert [p["state"] for _, p in d.poll()] == ["streaming"]
    assert d.poll() == []  # B still holds the folder: still in flight
    await holding.__aexit__(None, None, None)  # the lock freed, the journal row left behind
    assert d.poll() == [progress("failed", None, 1, interrupted=True)]
    assert d.poll() == []


async def test_own_live_changes_are_not_mirrored_but_own_commits_are_told(d: Daemons) -> None:
    """A's own journaled turn gives no turnProgress (its client has the turn already); A's
    commit and its model choice still give conversationChanged."""
    async with d.a.locks.hold(W, nothing):
        turn = d.a.journal.start(W, "mine", [])
        d.a.journal.update(turn, W, "so far", "")
        assert d.poll() == []
        d.a.commit(W, staged("mine", "done"))
    conv = d.a.active(W)
    d.a.set_model(W, "gemini-2.5-pro")
    assert d.poll() == [changed("turn", conv, 1), changed("model", conv, 1)]


async def test_folders_not_open_are_not_told(d: Daemons) -> None:
    """Changes and turns on a folder the daemon has not open send nothing; a folder closed
    while another daemon's turn was in flight gets no `interrupted` either."""
    async with d.b.locks.hold("/elsewhere", nothing):
        d.b.journal.start("/elsewhere", "q", [])
        d.b.commit("/elsewhere", staged("q", "a"))
    assert d.poll() == []
    holding = d.b.locks.hold(W, nothing)
    await holding.__aenter__()
    d.b.journal.start(W, "q", [])
    assert len(d.poll()) == 1
    d.folders.clear()
    await holding.__aexit__(None, None, None)
    assert d.poll() == []


async def test_a_progress_whose_journal_row_is_gone_sends_nothing(d: Daemons) -> None:
    """An update followed, before the poll, by a new conversation (which clears the journal):
    no `streaming` without the reply, just conversationChanged open."""
    async with d.b.locks.hold(W, nothing):
        turn = d.b.journal.start(W, "q", [])
        d.poll()
        d.b.journal.update(turn, W, "lost", "")
        conv = d.a.new_conversation(W)
        assert d.poll() == [changed("open", conv, 0)]


async def test_a_progress_of_a_turn_started_before_the_watcher_is_not_mirrored(
    tmp_path: Path,
) -> None:
    """A watcher started after B's `started` row knows no turn in flight: B's updates send
    nothing until its commit (told as a change, without `finished`)."""
    a = ConversationStore(tmp_path, origin="A")
    b = ConversationStore(tmp_path, origin="B")
    d = Daemons(a, b, Sink())
    async with b.locks.hold(W, nothing):
        turn = b.journal.start(W, "q", [])
        d.watch()
        b.journal.update(turn, W, "part", "")
        assert d.poll() == []
        b.commit(W, staged("q", "a"))
    assert d.poll() == [changed("turn", b.active(W), 1)]
    a.close()
    b.close()


async def test_changes_made_while_the_daemon_started_are_told(tmp_path: Path) -> None:
    """A watcher given `since` reports the rows written after that time, not those before."""
    a = ConversationStore(tmp_path, origin="A")
    b = ConversationStore(tmp_path, origin="B")
    b.commit(W, staged("before", "x"))
    since = moment()
    b.commit(W, staged("during start-up", "y"))
    d = Daemons(a, b, Sink())
    d.watch(since)
    assert d.poll() == [changed("turn", b.active(W), 2)]
    a.close()
    b.close()


async def test_a_new_data_dir_is_followed_from_its_newest_change(
    d: Daemons, tmp_path: Path
) -> None:
    """When the store changes (dataDir setting), the next poll starts following it from its
    newest row (nothing old is told, no stale turn in flight); later rows of the new store
    are told and the old store's are not."""
    other = ConversationStore(tmp_path / "other", origin="A")
    writer = ConversationStore(tmp_path / "other", origin="C")
    writer.commit(W, staged("old", "news"))
    async with d.b.locks.hold(W, nothing):
        d.b.journal.start(W, "q", [])
        assert len(d.poll()) == 1  # in flight in the old store
    d.current[0] = other
    assert d.poll() == []
    d.b.commit(W, staged("in the old store", "ignored"))
    writer.commit(W, staged("new", "store"))
    assert d.poll() == [changed("turn", writer.active(W), 2)]
    other.close()
    writer.close()


async def test_an_unreadable_feed_is_retried(d: Daemons, tmp_path: Path) -> None:
    """A store whose feed cannot be read (a foreign file) sends nothing and raises nothing on
    poll; the watcher starts following once a readable store is current."""
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "conversations.sqlite3").write_bytes(b"not a database at all")
    foreign = ConversationStore(tmp_path / "foreign", origin="A")
    d.current[0] = foreign
    assert d.poll() == []
    assert d.poll() == []
    d.current[0] = d.a
    assert d.poll() == []  # following again, from the newest row
    d.b.commit(W, staged("q", "a"))
    assert d.poll() == [changed("turn", d.b.active(W), 1)]
    foreign.close()


async def test_changes_made_while_the_feed_was_unreadable_at_start_are_told(
    tmp_path: Path,
) -> None:
    """A watcher whose first read of the feed fails (the store briefly unreadable while the
    daemon starts) follows it from its start time once it reads again: B's turn committed in
    between is told, not skipped as old."""
    a = ConversationStore(tmp_path, origin="A")
    b = ConversationStore(tmp_path, origin="B")
    db = sqlite3.connect(a.path)
    db.execute("ALTER TABLE changes RENAME TO changes_away")
    db.commit()
    d = Daemons(a, b, Sink())
    d.watch(moment())
    db.execute("ALTER TABLE changes_away RENAME TO changes")
    db.commit()
    db.close()
    b.commit(W, staged("Meanwhile?", "Yes."))
    assert d.poll() + d.poll() == [changed("turn", b.active(W), 1)]
    a.close()
    b.close()


async def test_a_finished_turn_carries_the_replys_images(d: Daemons) -> None:
    """`finished` of another daemon's turn that drew images names them as history shows them;
    a reply without images has no `images`."""
    shown = [{"mimeType": "image/png", "path": "/data/images/ab.png"}]
    async with d.b.locks.hold(W, nothing):
        d.b.journal.start(W, "Draw a fox", [])
        d.poll()
        d.b.commit(W, staged("Draw a fox", "Here.", images=shown))
    finished = d.poll()[0][1]
    assert (finished["state"], finished["images"]) == ("finished", shown)
    async with d.b.locks.hold(W, nothing):
        d.b.journal.start(W, "Thanks", [])
        d.poll()
        d.b.commit(W, staged("Thanks", "You are welcome."))
    assert "images" not in d.poll()[0][1]


async def test_changes_read_by_a_poll_that_failed_are_told_by_the_next(d: Daemons) -> None:
    """A poll that read B's quick turn from the feed but then failed to read its question
    (the entries table briefly unreadable) raises; once the store reads again, the next poll
    still tells the turn, and never as failed (clients apply notifications idempotently, so
    telling twice is harmless; never telling leaves the editor showing an old conversation).
    """
    async with d.b.locks.hold(W, nothing):
        d.b.journal.start(W, "Quick?", [])
        d.b.commit(W, staged("Quick?", "Yes."))
    conv = d.b.active(W)
    db = sqlite3.connect(d.a.path)
    db.execute("ALTER TABLE entries RENAME TO entries_away")
    db.commit()
    assert d.watcher is not None
    with pytest.raises(StorageError):
        d.watcher.poll()
    db.execute("ALTER TABLE entries_away RENAME TO entries")
    db.commit()
    db.close()
    told = d.sink.take() + d.poll()
    assert changed("turn", conv, 1) in told
    assert [p["state"] for m, p in told if m == "turnProgress"] in (
        [], ["started", "finished"],
    ), "a committed turn is never told as failed"  # fmt: skip


async def test_run_polls_until_cancelled_and_outlives_a_failing_read(
    d: Daemons, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run() tells a commit by itself; a feed that fails to read (its table gone) is logged
    and polled again; the task ends only when cancelled."""
    monkeypatch.setattr(live, "IDLE", 0.005)
    assert d.watcher is not None
    task = asyncio.create_task(d.watcher.run())
    d.b.commit(W, staged("q", "a"))
    await until(lambda: d.sink.sent == [changed("turn", d.a.active(W), 1)], "the commit told")
    db = sqlite3.connect(d.a.path)
    db.execute("ALTER TABLE changes RENAME TO changes_away")
    db.commit()
    with caplog.at_level(logging.DEBUG, logger="gemini_chat.live"):
        await until(lambda: caplog.text.count("Change feed unreadable") >= 2, "two failed polls")
    assert not task.done()
    db.execute("ALTER TABLE changes_away RENAME TO changes")
    db.commit()
    db.close()
    d.b.set_model(W, "gemini-2.5-pro")
    await until(lambda: len(d.sink.sent) == 2, "the model change told")
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_real_turn_of_one_daemon_is_mirrored_by_the_other(tmp_path: Path) -> None:
    """A turn through the chat service (store A, streamed, held at Gemini) seen by a watcher
    on store B: `started` with the message while it waits, then `finished` with the reply."""
    async with Rig(tmp_path) as rig:
        other = ConversationStore(tmp_path / "data", origin="B")
        sink = Sink()
        watcher = Watcher(lambda: other, lambda: {rig.ws.key: rig.ws.uri}, sink)
        chunk = {"candidates": [{"content": {"parts": [{"text": "Hi there"}]},
                                 "finishReason": "STOP"}]}  # fmt: skip
        gate = Gate(sse(chunk))
        rig.gemini.script(gate)
        task = asyncio.create_task(rig.turn("Hello?", Events(streaming=True)))
        await asyncio.wait_for(gate.arrived.wait(), 5)
        watcher.poll()
        ((method, started),) = sink.take()
        assert method == "turnProgress"
        assert (started["state"], started["message"], started["turn"]) == ("started", "Hello?", 1)
        gate.released.set()
        await task
        watcher.poll()
        states = [(m, p.get("state"), p.get("text")) for m, p in sink.take()]
        assert states == [
            ("turnProgress", "finished", "Hi there"),
            ("conversationChanged", None, None),
        ]
        other.close()


# --- JournaledEvents -------------------------------------------------------------------------


class Inner(TurnEvents):
    """The client's events: records every call."""

    def __init__(self) -> None:
        self.streaming = True
        self.calls: list[tuple[str, object]] = []

    async def begin(self, model: str) -> None:
        self.calls.append(("begin", model))

    async def waiting(self) -> None:
        self.calls.append(("waiting", None))

    async def progress(self, value: Json) -> None:
        self.calls.append(("progress", value))

    async def retry(self, notice: RetryNotice) -> None:
        self.calls.append(("retry", notice))


Journaled = tuple[JournaledEvents, Inner, ConversationStore]


@pytest.fixture
async def journaled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Journaled]:
    """JournaledEvents over a recording client, for a turn journaled in store B (FLUSH
    shortened to 50 ms to keep the tests quick)."""
    monkeypatch.setattr(live, "FLUSH", 0.05)
    store = ConversationStore(tmp_path, origin="B")
    inner = Inner()
    turn = store.journal.start(W, "q", [])
    events = JournaledEvents(inner, store.journal, turn, W)
    yield events, inner, store
    events.close()
    store.close()


def reply_so_far(store: ConversationStore) -> tuple[str, str]:
    """The journaled reply (text, thoughts) of W's turn in flight."""
    (row,) = store.journal.in_flight(W)
    return row.text, row.thoughts


def writes(store: ConversationStore) -> int:
    """The journal writes so far (progress rows of the feed)."""
    return sum(c.reason == "progress" for c in store.journal.changes_since(0))


async def test_every_event_reaches_the_client(journaled: Journaled) -> None:
    """begin, waiting, retry and progress are passed on unchanged; streaming is the client's."""
    events, inner, _ = journaled
    await events.begin("gemini-2.5-flash")
    await events.waiting()
    notice = RetryNotice(1, 2.0, UpstreamUnavailableError("overloaded", http_status=503))
    await events.retry(notice)
    await events.progress({"tool": {"name": "read_file"}})
    assert events.streaming is True
    assert inner.calls == [
        ("begin", "gemini-2.5-flash"),
        ("waiting", None),
        ("retry", notice),
        ("progress", {"tool": {"name": "read_file"}}),
    ]


async def test_pieces_are_batched_at_most_one_write_per_flush(journaled: Journaled) -> None:
    """The first piece is written at once; the next ones within FLUSH wait for one timed write
    holding the whole reply (text and thoughts); other values are not journaled."""
    events, _, store = journaled
    await events.progress({"thought": "Let me see. "})
    assert (writes(store), reply_so_far(store)) == (1, ("", "Let me see. "))
    for piece in ["It ", "adds ", "two ", "numbers."]:
        await events.progress({"text": piece})
    await events.progress({"tool": {"name": "read_file"}})
    assert writes(store) == 1
    await until(lambda: writes(store) == 2, "the timed write")
    assert reply_so_far(store) == ("It adds two numbers.", "Let me see. ")


async def test_flush_writes_the_tail_now_and_close_stops_the_timer(journaled: Journaled) -> None:
    """flush() writes the pending tail at once; after close() a pending write never comes."""
    events, _, store = journaled
    await events.progress({"text": "a"})
    await events.progress({"text": "b"})
    events.flush()
    assert (writes(store), reply_so_far(store)) == (2, ("ab", ""))
    await events.progress({"text": "c"})  # within FLUSH of the last write: timed
    events.close()
    # No event marks a write that never comes: wait well past the moment it was due.
    await asyncio.sleep(live.FLUSH * 3)
    assert (writes(store), reply_so_far(store)) == (2, ("ab", ""))


async def test_a_journal_that_cannot_be_written_does_not_stop_the_turn(
    journaled: Journaled, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing journal write is logged as a warning naming the store; the client still gets
    the piece."""
    events, inner, store = journaled
    full_disk(store.path, "UPDATE ON journal")
    with caplog.at_level(logging.WARNING, logger="gemini_chat.live"):
        await events.progress({"text": "piece"})
    assert inner.calls == [("progress", {"text": "piece"})]
    assert "Could not journal the reply" in caplog.text and "disk is full" in caplog.text
    assert reply_so_far(store) == ("", "")
