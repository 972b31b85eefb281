"""Two daemons (two editors) on one workspace making 100 interleaved turns."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from .conftest import StartDaemon
from .daemon import Daemon


async def test_two_daemons_100_interleaved_turns(daemons: StartDaemon, data_dir: Path) -> None:
    """Every exchange is present once, roles alternate, each reply follows its own question."""
    a, b = await daemons(), await daemons()

    async def talk(d: Daemon, name: str) -> None:
        for i in range(50):
            stream = {"partialResultToken": f"{name}-{i}"} if i % 2 else {}
            await d.chat(f"{name} message {i}", **stream)

    await asyncio.gather(talk(a, "vscode"), talk(b, "nvim"))
    turns = await a.history()
    assert len(turns) == 200
    assert [t["role"] for t in turns] == ["user", "model"] * 100
    questions = [t["text"] for t in turns[::2]]
    assert sorted(questions) == sorted(
        [f"vscode message {i}" for i in range(50)] + [f"nvim message {i}" for i in range(50)]
    )
    for question, reply in zip(turns[::2], turns[1::2], strict=True):
        assert question["text"] in reply["text"], (question, reply)
    with sqlite3.connect(data_dir / "conversations.sqlite3") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
