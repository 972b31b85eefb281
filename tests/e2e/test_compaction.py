"""The context window: compaction before a turn would pass the limit, and after a refusal."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from conftest import EMULATOR_KEY
from gemini_chat.attachments import Prepared
from gemini_chat.chat import ChatService
from gemini_chat.compaction import SUMMARY_REQUEST
from gemini_chat.emulator import Emulator
from gemini_chat.gemini.client import GeminiClient
from gemini_chat.settings import SettingsManager
from gemini_chat.store import ConversationStore
from gemini_chat.turn import Turn, TurnEvents
from gemini_chat.workspaces import Workspace

from .conftest import StartDaemon

LONG = "Please remember this long detail about the project. " * 12  # about 150 tokens


def _bodies(emulator: Emulator) -> list[dict[str, Any]]:
    return [r.body for r in emulator.requests("enerateContent")]  # type: ignore[misc]


async def test_compacts_before_passing_the_threshold(
    daemons: StartDaemon, emulator: Emulator, data_dir: Path
) -> None:
    """Old exchanges are summarised into one marked exchange; recent ones stay; all archived."""
    emulator.set_input_token_limit(1500)
    d = await daemons(init_options={"compactThreshold": 0.5, "tools": False})
    results = [await d.chat(f"{i}: {LONG}", partialResultToken=f"p{i}") for i in range(6)]
    compacting = [r for r in results if "compacted" in r]
    assert compacting, "no turn compacted"
    first = compacting[0]
    n = first["compacted"]["turns"]
    assert n >= 1
    assert {"compacted": {"turns": n}} in d.client.progress[f"p{results.index(first)}"]
    summarise = next(
        b for b in _bodies(emulator) if b["contents"][-1]["parts"][0].get("text") == SUMMARY_REQUEST
    )
    assert summarise["contents"][0]["parts"][0]["text"].startswith("0: ")
    after = _bodies(emulator)[-1]["contents"]
    assert after[0]["parts"][0]["text"].startswith("Summary of our conversation so far")
    turns = await d.history()
    assert turns[0]["compacted"] >= 1
    assert turns[0]["text"].startswith("Summary of ")
    assert turns[-2]["text"].startswith("5: ")
    with sqlite3.connect(data_dir / "conversations.sqlite3") as db:
        archived = db.execute(
            "select count(*) from conversations where archived is not null"
        ).fetchone()[0]
        originals = db.execute(
            "select count(*) from entries where content like '%0: Please remember%'"
        ).fetchone()[0]
    assert archived >= 1
    assert originals >= 1, "the original first exchange must stay archived in the store"


async def test_no_compaction_below_the_threshold(daemons: StartDaemon, emulator: Emulator) -> None:
    """Small conversations are sent whole."""
    d = await daemons()
    for i in range(3):
        result = await d.chat(f"short {i}")
        assert "compacted" not in result
    assert len(_bodies(emulator)[-1]["contents"]) == 5


async def test_a_refused_too_long_turn_is_compacted_and_retried(
    emulator: Emulator, data_dir: Path, workspace: Path
) -> None:
    """A request Gemini refuses as too long is compacted and retried instead of failing."""
    manager = SettingsManager(
        environ={"GEMINI_API_KEY": EMULATOR_KEY, "GEMINI_BASE_URL": emulator.url},
    )
    settings = manager.update({"dataDir": str(data_dir), "compactThreshold": 0.99, "tools": False})
    store = ConversationStore(settings.data_dir)
    ws = Workspace(str(workspace.resolve()), workspace.as_uri())  # noqa: ASYNC240
    # Earlier turns whose recorded usage claims they were tiny: the estimate cannot see the size.
    for i in range(4):
        user = {"role": "user", "parts": [{"text": f"{i}: {LONG}"}]}
        model = {"role": "model", "parts": [{"text": f"noted {i}"}]}
        store.commit(
            ws.key,
            [("user", user, {"text": "x"}), ("model", model, {"usage": {"promptTokens": 1}})],
        )
    emulator.set_input_token_limit(500)
    service = ChatService(GeminiClient(), lambda: settings, lambda: store)
    result = await service.chat(Turn(ws, "and now?", Prepared()), TurnEvents())
    assert result["compacted"]["turns"] >= 1
    refused, summarised, retried = _bodies(emulator)
    assert len(refused["contents"]) == 9
    assert summarised["contents"][-1]["parts"][0]["text"] == SUMMARY_REQUEST
    assert retried["contents"][0]["parts"][0]["text"].startswith("Summary of our conversation")
    assert retried["contents"][-1]["parts"][0]["text"] == "and now?"
    archived = "SELECT COUNT(*) FROM conversations WHERE workspace = ? AND archived IS NOT NULL"
    assert store.db.conn.execute(archived, (ws.key,)).fetchone() == (1,)  # pyright: ignore[reportPrivateUsage]
