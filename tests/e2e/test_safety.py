"""Nothing lost, nothing leaked: kill -9 mid-turn, and the key never written anywhere."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from polling import until

from .conftest import StartDaemon


async def _wait_for_upstream(emulator: Emulator, count: int) -> None:
    await until(lambda: len(emulator.requests(":generate")) >= count, "the turn to go upstream")


@pytest.mark.parametrize("streamed", [False, True], ids=["waiting", "mid-stream"])
async def test_kill_9_mid_turn_leaves_a_sound_store(
    daemons: StartDaemon, emulator: Emulator, data_dir: Path, streamed: bool
) -> None:
    """SIGKILL while a reply is on its way: integrity ok, no half turn, the next daemon goes on."""
    d = await daemons()
    await d.chat("kept")
    if streamed:
        emulator.script({"chunks": ["half ", "a ", "reply"], "chunkDelay": 30})
        pending = asyncio.ensure_future(d.chat("lost in flight", partialResultToken="p"))
        await until(lambda: d.client.progress.get("p"), "the first delta")
    else:
        emulator.script({"delay": 30})
        pending = asyncio.ensure_future(d.chat("lost in flight"))
        await _wait_for_upstream(emulator, 2)
    d.process.kill()
    await d.process.wait()
    with pytest.raises((JsonRpcException, RuntimeError, ConnectionError, asyncio.CancelledError)):
        await asyncio.wait_for(pending, 10)
    with sqlite3.connect(data_dir / "conversations.sqlite3") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        roles = [r for (r,) in db.execute("select role from entries order by conversation_id, seq")]
    assert roles == ["user", "model"]
    again = await daemons()
    assert [t["text"] for t in await again.history()][0] == "kept"
    assert (await again.chat("after the crash"))["turn"] == 2


async def test_the_key_is_never_written_anywhere(
    daemons: StartDaemon,
    emulator: Emulator,
    data_dir: Path,
    server_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """The key travels only in x-goog-api-key: not in URLs, stderr, log files, the store, errors."""
    log_file = tmp_path / "daemon.log"
    d = await daemons(args=["-v", "--log-file", str(log_file)])
    await d.chat("hello")
    emulator.script({"status": 429, "retryDelay": "999s"})
    with pytest.raises(JsonRpcException) as err:
        await d.chat("rate limited")
    errors = [repr(err.value), repr(err.value.data)]
    emulator.script({"status": 400, "message": f"echoing the key {EMULATOR_KEY} back"})
    with pytest.raises(JsonRpcException) as err2:
        await d.chat("an upstream error that echoes the key")
    errors += [repr(err2.value), repr(err2.value.data)]
    await d.request("gemini/status", {})
    await d.request("gemini/models", {})
    # A client that sends the key in settings: it must be redacted from logs too.
    d.client.workspace_did_change_configuration(
        __import__("lsprotocol.types").types.DidChangeConfigurationParams(
            settings={"gemini": {"apiKey": EMULATOR_KEY}}
        )
    )
    await d.chat("after settings")
    await d.stop()
    for req in emulator.requests():
        assert req.headers.get("x-goog-api-key") == EMULATOR_KEY or req.path.startswith(
            "/_emulator"
        )
        assert EMULATOR_KEY not in req.path
        assert EMULATOR_KEY not in repr(req.query)
    assert EMULATOR_KEY not in d.stderr_text()
    assert log_file.read_text(), "the log file should have content at -v"
    assert EMULATOR_KEY not in log_file.read_text()
    stored = await asyncio.to_thread(lambda: [f for f in data_dir.rglob("*") if f.is_file()])
    assert any(f.name == "conversations.sqlite3" for f in stored)
    for f in stored:
        assert EMULATOR_KEY.encode() not in f.read_bytes(), f
    for text in errors:
        assert EMULATOR_KEY not in text
    assert all(EMULATOR_KEY not in m.message for m in d.client.log_messages)
    assert all(EMULATOR_KEY not in m.message for m in d.client.messages)
