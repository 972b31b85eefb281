"""The conversation store when it cannot be written or read, and its smaller operations."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemini_chat.gemini.errors import StorageError
from gemini_chat.store import ConversationStore

EXCHANGE = [
    ("user", {"role": "user", "parts": [{"text": "q"}]}, {"text": "q"}),
    ("model", {"role": "model", "parts": [{"text": "a"}]}, {"text": "a"}),
]


def test_a_data_dir_that_cannot_be_made_refuses_writes_but_reads(tmp_path: Path) -> None:
    """dataDir under a regular file: the store opens empty; checking, committing and choosing a
    model each fail with StorageError naming the store and the setting to change."""
    (tmp_path / "blocker").write_text("not a folder")
    store = ConversationStore(tmp_path / "blocker" / "data")
    assert store.history("/w") == []
    assert store.model("/w") is None
    for attempt in (
        store.check_writable,
        lambda: store.commit("/w", EXCHANGE),
        lambda: store.set_model("/w", "gemini-2.5-pro"),
        lambda: store.reset("/w"),
    ):
        with pytest.raises(StorageError) as info:
            attempt()
        assert "Cannot save to the conversation store" in info.value.message
        assert "dataDir" in info.value.message
        assert info.value.to_data() == {"reason": "storage"}
    store.close()


def test_a_foreign_file_is_an_error_never_an_empty_history(tmp_path: Path) -> None:
    """A conversations file that is not SQLite: reading it fails saying so (an empty history
    would look like lost conversations), and nothing is written over it."""
    tmp_path.joinpath("conversations.sqlite3").write_bytes(b"PK\x03\x04 a zip, not a database")
    store = ConversationStore(tmp_path)
    with pytest.raises(StorageError, match="Cannot read the conversation store"):
        store.history("/w")
    with pytest.raises(StorageError):
        store.check_writable()
    store.close()
    assert tmp_path.joinpath("conversations.sqlite3").read_bytes().startswith(b"PK")


def test_models_are_remembered_per_folder_and_forgotten(tmp_path: Path) -> None:
    """set_model keeps a folder's choice across connections; None forgets it."""
    store = ConversationStore(tmp_path)
    store.set_model("/a", "gemini-2.5-pro")
    store.set_model("/a", "gemini-2.0-flash")
    assert ConversationStore(tmp_path).model("/a") == "gemini-2.0-flash"
    assert store.model("/b") is None
    store.set_model("/a", None)
    assert store.model("/a") is None
    store.close()


def test_replace_needs_the_conversation_it_read(tmp_path: Path) -> None:
    """replace refuses when the last entry is not the one the caller read, or there is no
    conversation; otherwise the folder's conversation is the new exchanges."""
    store = ConversationStore(tmp_path)
    assert store.replace("/w", [EXCHANGE], expected_last=-1) is False
    store.commit("/w", EXCHANGE)
    last = store.history("/w")[-1].seq
    assert store.replace("/w", [EXCHANGE], expected_last=last + 1) is False
    assert len(store.history("/w")) == 2
    summary = [("user", {"role": "user", "parts": [{"text": "summary"}]}, {"compacted": 1})]
    assert store.replace("/w", [summary], expected_last=last) is True
    assert [e.content for e in store.history("/w")] == [summary[0][1]]
    store.close()
