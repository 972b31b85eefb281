"""Storage failures are named, and nothing is lost: a read-only, full or foreign store.

The daemon runs in a private mount namespace (`unshare`) where its data folder is a read-only
bind mount or a tiny tmpfs: real filesystem errors, nothing mocked.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from conftest import EMULATOR_KEY, tool
from gemini_chat.emulator import Emulator

from .conftest import StartDaemon
from .daemon import error_data


def _unshare() -> list[str]:
    return [tool("unshare", "apt-get install util-linux"), "--mount", "--map-root-user"]


def read_only(folder: Path) -> list[str]:
    """A command prefix that runs a program with `folder` mounted read-only."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    return [*_unshare(), "sh", "-c", script, str(folder)]


def tiny_disk(folder: Path, size: str) -> list[str]:
    """A command prefix that runs a program with `folder` on a tmpfs of `size`."""
    script = 'mount -t tmpfs -o size="$1" tmpfs "$0" && shift && exec "$@"'
    return [*_unshare(), "sh", "-c", script, str(folder), size]


async def test_a_read_only_store_still_reads(
    daemons: StartDaemon, emulator: Emulator, data_dir: Path
) -> None:
    """With the data folder read-only, history and status answer as before; a turn or a model
    choice fails at once with -32803 reason storage naming the store and the cause, and
    nothing goes upstream."""
    first = await daemons()
    await first.chat("kept question")
    await first.stop()
    d = await daemons(wrapper=read_only(data_dir))
    turns = await d.history()
    assert [t["text"] for t in turns][0] == "kept question"
    sent = len(emulator.requests(":generateContent"))
    for method, params in (
        ("gemini/chat", {"message": "another"}),
        ("gemini/setModel", {"model": "gemini-2.5-pro"}),
    ):
        with pytest.raises(JsonRpcException) as err:
            await d.request(method, params)
        assert err.value.code == -32803
        assert error_data(err.value)["reason"] == "storage"
        assert str(data_dir) in err.value.message
        assert "Read-only file system" in err.value.message
    assert len(emulator.requests(":generateContent")) == sent
    assert (await d.request("gemini/status", {}))["apiKeySet"] is True
    assert await d.history() == turns


async def test_a_full_disk_hands_back_the_finished_reply(
    daemons: StartDaemon, emulator: Emulator, data_dir: Path
) -> None:
    """A reply that cannot be stored (the disk is full) answers -32803 reason storage with the
    whole reply in data.text; the history is unchanged and the daemon goes on answering."""
    reply = "paws " * 120_000  # 600 kB: more than the 256 kB disk holds
    emulator.script({"reply": reply.strip()})
    d = await daemons(wrapper=tiny_disk(data_dir, "256k"))
    with pytest.raises(JsonRpcException) as err:
        await d.chat("count the paws", partialResultToken="p")
    data = error_data(err.value)
    assert err.value.code == -32803
    assert data["reason"] == "storage"
    assert data["text"] == reply.strip()
    assert "full" in err.value.message
    assert EMULATOR_KEY not in err.value.message
    assert await d.history() == []
    assert (await d.request("gemini/status", {}))["apiKeySet"] is True


async def test_a_foreign_file_is_named_not_read_as_empty(
    daemons: StartDaemon, emulator: Emulator, data_dir: Path
) -> None:
    """A store file that is not a SQLite database makes history fail with -32803 reason
    storage naming the file (never an empty history); status still answers."""
    (data_dir / "conversations.sqlite3").write_bytes(b"this is not a database\n" * 100)
    d = await daemons()
    with pytest.raises(JsonRpcException) as err:
        await d.history()
    assert error_data(err.value)["reason"] == "storage"
    assert str(data_dir / "conversations.sqlite3") in err.value.message
    assert (await d.request("gemini/status", {}))["dataDir"] == str(data_dir)
    with pytest.raises(JsonRpcException):
        await d.chat("hello")
    assert emulator.requests(":generateContent") == []
