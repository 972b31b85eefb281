"""Core: one store per dataDir (opened on first use, kept), and the change-feed watcher it runs
for the daemon's folders, telling its client of another daemon's changes."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from gemini_chat import live
from gemini_chat.core import Core
from gemini_chat.store import ConversationStore
from polling import until

from .core_fakes import KEY, Sink, moment, staged

W = "/work/w"
URI = "file:///work/w"


def core_in(data_dir: Path) -> Core:
    """A Core configured by the environment: a key and this dataDir."""
    return Core({"GEMINI_API_KEY": KEY, "GEMINI_CHAT_DATA_DIR": str(data_dir)})


async def stop_watchers() -> None:
    """Cancel the loop's other tasks (the watchers Core started) and let them end."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_one_store_per_data_dir_kept_open(tmp_path: Path) -> None:
    """store() opens the dataDir's store once; a new dataDir setting gives that folder's store
    (the chat service uses it), and going back gives the first one again."""
    core = core_in(tmp_path / "a")
    first = core.store()
    assert core.store() is first and first.data_dir == tmp_path / "a"
    core.settings.update({"gemini": {"dataDir": str(tmp_path / "b")}})
    second = core.store()
    assert second is not first and second.data_dir == tmp_path / "b"
    assert core.chat.store() is second
    core.settings.update({})
    assert core.store() is first
    first.close()
    second.close()
    await core.gemini.aclose()


async def test_watch_tells_the_client_of_another_daemons_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """watch() follows the feed in the background from `since`: commits by another store on
    an open folder made after `since` (during start-up too) become conversationChanged; one
    made before it is not told."""
    monkeypatch.setattr(live, "IDLE", 0.005)
    core = core_in(tmp_path)
    other = ConversationStore(tmp_path, origin="other")
    other.commit(W, staged("before", "x"))
    since = moment()
    other.commit(W, staged("during start-up", "y"))
    sink = Sink()
    core.watch(lambda: {W: URI}, sink, since)
    other.commit(W, staged("after", "z"))
    await until(lambda: len(sink.sent) == 2, "both commits told")
    conv = str(other.active(W))
    assert sink.sent == [
        ("conversationChanged", {"workspace": URI, "conversation": conv, "reason": "turn",
                                 "turn": turn})
        for turn in (2, 3)
    ]  # fmt: skip
    await stop_watchers()
    other.close()
    core.store().close()
    await core.gemini.aclose()


async def test_a_watcher_outlives_an_unexpected_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A poll that fails unexpectedly (here the daemon's folder list) is logged as an error
    and polled again: the feed is not lost for the daemon's life."""
    monkeypatch.setattr(live, "IDLE", 0.005)
    core = core_in(tmp_path)
    calls: list[int] = []

    def folders() -> dict[str, str]:
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError("folders not ready")
        return {W: URI}

    sink = Sink()
    other = ConversationStore(tmp_path, origin="other")
    with caplog.at_level(logging.ERROR):
        core.watch(folders, sink, time.time())
        await until(lambda: len(calls) >= 3, "two failed polls, then a good one")
        other.commit(W, staged("q", "a"))
        await until(lambda: len(sink.sent) == 1, "the commit told")
    assert "Reading the change feed failed" in caplog.text
    assert "The change feed watcher stopped" not in caplog.text
    await stop_watchers()
    other.close()
    core.store().close()
    await core.gemini.aclose()
