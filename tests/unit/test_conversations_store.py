"""The conversations of a folder in the store: titles, order, paging, open, rename, delete and
the whole of one (compacted exchanges given back), each change a row of the feed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gemini_chat import compaction, conversations
from gemini_chat import store as store_module
from gemini_chat.protocol import FieldError
from gemini_chat.store import ConversationStore

from .core_fakes import staged

W = "/w"


class Clock:
    """The store's clock, one second further at each reading (a test runs within one
    millisecond, where real stamps would tie)."""

    def __init__(self) -> None:
        self.seconds = 0

    def __call__(self) -> str:
        self.seconds += 1
        moment = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=self.seconds)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConversationStore]:
    """A store in tmp_path, origin "A", on a clock that advances at every reading."""
    clock = Clock()
    monkeypatch.setattr(store_module, "now", clock)
    monkeypatch.setattr(conversations, "now", clock)
    s = ConversationStore(tmp_path, origin="A")
    yield s
    s.close()


def conversation(store: ConversationStore, *questions: str, workspace: str = W) -> int:
    """A new active conversation of these exchanges (the previous one archived); its id."""
    conv = store.new_conversation(workspace)
    for q in questions:
        store.commit(workspace, staged(q, f"answer to {q}"))
    return conv


def shown(store: ConversationStore, limit: int = 100, offset: int = 0) -> list[tuple[int, str]]:
    """The listed page as (id, title)."""
    items, _ = conversations.listed(store, W, limit, offset)
    return [(c.id, c.title) for c in items]


def last_change(store: ConversationStore) -> tuple[str, int | None, str, int]:
    """The newest feed row as (workspace, conversation, reason, turn)."""
    c = store.journal.changes_since(0)[-1]
    return (c.workspace, c.conversation, c.reason, c.turn)


@pytest.mark.parametrize("value", ["abc", "", "-1", "1.5", " 1", "1" * 19, "²", "1²"])
def test_an_id_that_is_not_a_number_is_refused_naming_id(value: str) -> None:
    """Ids are decimal strings of at most 18 digits; anything else is a FieldError on `id`
    (a Unicode digit such as "²", which int() does not take, included)."""
    with pytest.raises(FieldError) as info:
        conversations.conversation_id(value)
    assert info.value.field == "id"


def test_an_id_is_read_as_its_number() -> None:
    """A protocol id gives the store's number (leading zeros allowed)."""
    assert conversations.conversation_id("42") == 42
    assert conversations.conversation_id("0007") == 7
    assert conversations.conversation_id("9" * 18) == 10**18 - 1


def test_titles_are_the_first_questions_first_line_at_most_60_characters(
    store: ConversationStore,
) -> None:
    """The default title is the first non-blank line of the first question; longer than 60
    characters it is cut to 59 (trailing space dropped) plus an ellipsis; a conversation
    whose first question has no text is Untitled."""
    exactly = "x" * 60
    long = "Please explain why this function " + "returns None " * 5
    conversation(store, "\n\n  How do I sort?  \nin Python")
    conversation(store, exactly)
    conversation(store, long)
    conversation(store, "")
    titles = [t for _, t in shown(store)]
    assert titles[3] == "How do I sort?"
    assert titles[2] == exactly
    assert titles[1] == "Please explain why this function returns None returns None…"
    assert len(titles[1]) == 59
    assert titles[0] == "Untitled"


def test_listed_most_recently_updated_first_with_paging(store: ConversationStore) -> None:
    """Order is by last update (a new turn moves an old conversation up), ties by newest id;
    limit and offset page through; total counts them all; the active one is marked; an
    archived empty conversation is left out and the active one is listed even if empty."""
    first = conversation(store, "one")
    second = conversation(store, "two")
    store.reset(W)
    store.new_conversation(W)  # archived at once below, empty: not listed
    store.reset(W)
    third = conversation(store, "three")
    conversations.open_conversation(store, W, first)
    store.commit(W, staged("one again", "yes"))  # first is updated last
    assert shown(store) == [(first, "one"), (third, "three"), (second, "two")]
    page, total = conversations.listed(store, W, 2, 1)
    assert ([c.id for c in page], total) == ([third, second], 3)
    items, _ = conversations.listed(store, W, 10, 0)
    assert [(c.active, c.turns) for c in items] == [(True, 2), (False, 1), (False, 1)]
    assert items[0].json() == {
        "id": str(first),
        "title": "one",
        "created": items[0].created,
        "updated": items[0].updated,
        "turns": 2,
        "active": True,
    }
    assert items[0].updated > items[0].created
    empty = store.new_conversation(W)
    assert shown(store, 1) == [(empty, "Untitled")]
    assert conversations.listed(store, "/other", 10, 0) == ([], 0)


def test_conversations_updated_at_the_same_moment_list_newest_first(
    store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two conversations whose last update has the same stamp: the newer one first."""
    monkeypatch.setattr(store_module, "now", lambda: "2025-01-01T00:00:00.000Z")
    older = conversation(store, "older")
    newer = conversation(store, "newer")
    assert shown(store) == [(newer, "newer"), (older, "older")]


def test_a_page_is_at_most_max_list(
    store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A limit above MAX_LIST gives MAX_LIST conversations (the total still counts all)."""
    monkeypatch.setattr(conversations, "MAX_LIST", 2)
    for q in ("a", "b", "c"):
        conversation(store, q)
    page, total = conversations.listed(store, W, 1000, 0)
    assert (len(page), total) == (2, 3)


def test_open_makes_a_conversation_active_and_archives_the_other(store: ConversationStore) -> None:
    """open: the chosen one is active, the previously active one archived (not lost); the
    folder's journal is cleared; the feed says open with its turn count; the history read
    next is the opened one's."""
    old = conversation(store, "old 1", "old 2")
    new = conversation(store, "new")
    assert [e.meta["text"] for e in store.history(W)][0] == "new"
    store.journal.start(W, "in flight", [])
    conversations.open_conversation(store, W, old)
    assert store.active(W) == old
    assert [e.meta["text"] for e in store.history(W)][::2] == ["old 1", "old 2"]
    assert last_change(store) == (W, old, "open", 2)
    assert store.journal.in_flight(W) == []
    assert {c.id for c in conversations.listed(store, W, 10, 0)[0]} == {old, new}


def test_opening_the_active_conversation_changes_nothing(store: ConversationStore) -> None:
    """open of the active one writes no feed row and keeps a turn in flight."""
    conv = conversation(store, "q")
    store.journal.start(W, "in flight", [])
    rows = len(store.journal.changes_since(0))
    conversations.open_conversation(store, W, conv)
    assert len(store.journal.changes_since(0)) == rows
    assert len(store.journal.in_flight(W)) == 1


def test_another_folders_or_a_compacted_original_is_not_this_folders(
    store: ConversationStore,
) -> None:
    """open, rename, delete and whole refuse an id of another folder, an unknown id and a
    compacted original, with FieldError on `id`; nothing changes."""
    elsewhere = conversation(store, "q", workspace="/other")
    original = conversation(store, "q1", "q2")
    history = store.history(W)
    store.replace(W, [staged("summary", "ok")], history[-1].seq)
    for conv in (elsewhere, original, 999):
        for op in (
            lambda c: conversations.open_conversation(store, W, c),
            lambda c: conversations.rename(store, W, c, "t"),
            lambda c: conversations.delete(store, W, c),
            lambda c: conversations.whole(store, W, c),
        ):
            with pytest.raises(FieldError) as info:
                op(conv)
            assert info.value.field == "id"
            assert f"{conv} is not a conversation of this folder" in str(info.value)
    assert store.active("/other") == elsewhere


def test_rename_collapses_spaces_and_blank_goes_back_to_the_question(
    store: ConversationStore,
) -> None:
    """rename keeps the title with runs of whitespace made one space; a blank title gives back
    the first question; each rename is a feed row with the turn count."""
    conv = conversation(store, "What is a monad?", "And a functor?")
    assert conversations.rename(store, W, conv, "  Monads \n and\tfunctors ") == (
        "Monads and functors"
    )
    assert shown(store) == [(conv, "Monads and functors")]
    assert last_change(store) == (W, conv, "renamed", 2)
    assert conversations.rename(store, W, conv, " \n ") == "What is a monad?"
    assert shown(store) == [(conv, "What is a monad?")]


def test_a_compacted_conversation_keeps_its_title(store: ConversationStore) -> None:
    """replace (compaction) carries the title over: the summary does not become the title."""
    conv = conversation(store, "The real question", "second")
    conversations.rename(store, W, conv, "Named")
    store.replace(W, [staged("Summary of 2", "ok")], store.history(W)[-1].seq)
    assert [t for _, t in shown(store)] == ["Named"]


def image(path: Path) -> dict[str, str]:
    """What history keeps of a saved image."""
    return {"mimeType": "image/png", "path": str(path)}


def test_delete_removes_the_conversation_and_its_originals_returning_unshared_images(
    store: ConversationStore, tmp_path: Path
) -> None:
    """delete removes the conversation with its compacted originals; it returns the image
    files only it showed (one another conversation also shows is kept); the feed says
    deleted; the journal of the active conversation is cleared."""
    own, shared = tmp_path / "images" / "own.png", tmp_path / "images" / "shared.png"
    other = store.new_conversation(W)
    store.commit(W, staged("draw", "here", images=[image(shared)]))
    conv = store.new_conversation(W)
    store.commit(W, staged("draw two", "here", images=[image(own), image(shared)]))
    store.commit(W, staged("more", "text"))
    store.replace(W, [staged("summary", "ok")], store.history(W)[-1].seq)
    active = store.active(W)
    assert active is not None and active != conv
    store.journal.start(W, "in flight", [])
    assert conversations.delete(store, W, active) == [own]
    assert shown(store) == [(other, "draw")]
    assert store.active(W) is None and store.history(W) == []
    assert store.journal.in_flight(W) == []
    assert last_change(store) == (W, active, "deleted", 0)
    with pytest.raises(FieldError):
        conversations.whole(store, W, conv)  # the original went with it


def test_deleting_an_archived_conversation_keeps_the_active_one(store: ConversationStore) -> None:
    """delete of an archived conversation leaves the active one, its history and a turn in
    flight alone; a conversation without images returns none."""
    old = conversation(store, "old")
    current = conversation(store, "current")
    store.journal.start(W, "in flight", [])
    assert conversations.delete(store, W, old) == []
    assert store.active(W) == current
    assert [e.meta["text"] for e in store.history(W)] == ["current", "answer to current"]
    assert len(store.journal.in_flight(W)) == 1


def test_whole_gives_back_the_exchanges_compaction_summarised(store: ConversationStore) -> None:
    """A conversation compacted twice (the second summary covering the first summary and one
    more exchange) exports every original exchange in order, then the ones after."""
    conv = conversation(store, "q1", "q2", "q3")
    history = store.history(W)
    kept = [[(e.role, e.content, e.meta) for e in history if e.turn == 3]]
    store.replace(W, [compaction.summary_exchange("S1", 2), *kept], history[-1].seq)
    store.commit(W, staged("q4", "answer to q4"))
    history = store.history(W)
    kept = [[(e.role, e.content, e.meta) for e in history if e.turn == 3]]
    store.replace(W, [compaction.summary_exchange("S2", 2), *kept], history[-1].seq)
    active = store.active(W)
    assert active is not None
    info, exchanges = conversations.whole(store, W, active)
    texts = [[e.meta["text"] for e in group] for group in exchanges]
    assert texts == [[f"q{i}", f"answer to q{i}"] for i in (1, 2, 3, 4)]
    assert (info.title, info.active, info.turns) == ("q1", True, 2)
    assert info.created == conversations.listed(store, W, 1, 0)[0][0].created
    original, _ = conversations.listed(store, W, 10, 0)
    assert [c.id for c in original] == [active]  # the originals are not listed
    assert conv != active


def test_whole_of_an_uncompacted_or_empty_conversation(store: ConversationStore) -> None:
    """An archived conversation gives its exchanges as stored; an empty one none."""
    conv = conversation(store, "a", "b")
    empty = store.new_conversation(W)
    info, exchanges = conversations.whole(store, W, conv)
    assert (info.active, [len(g) for g in exchanges]) == (False, [2, 2])
    info, exchanges = conversations.whole(store, W, empty)
    assert (info.title, info.active, exchanges) == ("Untitled", True, [])
