"""One live conversation per folder, across real daemons on one store: turn order, the change
feed, mirrored streaming, interrupted turns, waiting and cancel."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator
from polling import until

from .conftest import StartDaemon
from .daemon import Daemon

SLOW = {"chunks": ["Counting ", "the ", "paws ", "one ", "by ", "one."], "chunkDelay": 0.15}


def _request_lengths(emulator: Emulator) -> list[int]:
    bodies = [r.body for r in emulator.requests("enerateContent")]
    return [len(b["contents"]) for b in bodies]  # type: ignore[index]


@pytest.mark.parametrize("daemon_count", [2, 3])
async def test_concurrent_turns_from_several_daemons_see_each_other(
    daemons: StartDaemon, emulator: Emulator, daemon_count: int
) -> None:
    """Daemons on one folder sending at the same time, round after round: every upstream
    request carries every exchange committed before it (the lengths of the requests' contents
    are 1, 3, 5, ... with no two alike), and the stored conversation holds every turn."""
    ds = [await daemons(init_options={"tools": False}) for _ in range(daemon_count)]
    rounds = 100 if daemon_count == 2 else 34
    for r in range(rounds):
        await asyncio.gather(*(d.chat(f"round {r} from {i}") for i, d in enumerate(ds)))
    total = rounds * daemon_count
    assert sorted(_request_lengths(emulator)) == list(range(1, 2 * total, 2))
    history = await ds[0].history()
    assert len(history) == 2 * total
    assert await ds[-1].history() == history


async def _changes(d: Daemon, count: int) -> list[dict[str, Any]]:
    return await until(
        lambda: d.changes() if len(d.changes()) >= count else None, f"{count} changes"
    )


async def test_every_change_reaches_every_daemon_itself_included(
    daemons: StartDaemon, workspace: Any
) -> None:
    """A turn, a model choice and a reset in one daemon each reach both daemons' clients as
    gemini/conversationChanged with the reason and the turn count, in order."""
    a, b = await daemons(), await daemons()
    await a.chat("first")
    await b.request("gemini/setModel", {"model": "gemini-2.5-pro"})
    await a.request("gemini/reset", {})
    for d in (a, b):
        seen = await _changes(d, 3)
        assert [(c["reason"], c["turn"]) for c in seen] == [("turn", 1), ("model", 1), ("reset", 0)]
        assert all(c["workspace"] == workspace.as_uri() for c in seen)
        assert seen[0]["conversation"] == seen[1]["conversation"] == seen[2]["conversation"]


async def test_a_turn_streams_into_the_other_editor(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """While a turn streams in one daemon, the other daemon's client gets turnProgress:
    started with the question, streaming with the reply so far (whole, growing), finished with
    the whole reply; the originating client gets none of them."""
    a, b = await daemons(), await daemons()
    emulator.script(SLOW)
    result = await a.chat("how many paws?", partialResultToken="p")
    states = await until(
        lambda: b.mirrored() if b.mirrored() and b.mirrored()[-1]["state"] == "finished" else None,
        "the mirrored turn to finish",
    )
    assert states[0]["state"] == "started" and states[0]["message"] == "how many paws?"
    streaming = [s["text"] for s in states if s["state"] == "streaming"]
    assert streaming, "no streaming state arrived"
    assert all(result["text"].startswith(t) for t in streaming)
    assert states[-1]["text"] == result["text"] and states[-1]["turn"] == 1
    assert a.mirrored() == []


async def test_a_daemon_killed_mid_turn_leaves_an_interrupted_turn(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """kill -9 of the daemon streaming a turn: the other daemon's client is told (turnProgress
    failed, interrupted); its gemini/history carries `interrupted` with the question and the
    partial reply, never as a turn; the next committed turn clears it and does not send it."""
    a, b = await daemons(), await daemons()
    emulator.script({**SLOW, "chunkDelay": 0.5})
    _, pending = a.send("gemini/chat", {"message": "count slowly", "partialResultToken": "p"})
    await until(lambda: len(a.client.progress.get("p", [])) >= 2, "two pieces")
    a.process.send_signal(signal.SIGKILL)
    with pytest.raises((ConnectionError, JsonRpcException, asyncio.CancelledError, RuntimeError)):
        await asyncio.wait_for(pending, 10)
    told = await until(
        lambda: next((s for s in b.mirrored() if s.get("interrupted")), None),
        "turnProgress interrupted",
    )
    assert told["state"] == "failed"
    history = await b.request("gemini/history", {})
    assert history["turns"] == []
    interrupted = history["interrupted"]
    assert interrupted["message"] == "count slowly"
    assert interrupted["text"].startswith("Counting ")
    await b.chat("next question")
    after = await b.request("gemini/history", {})
    assert "interrupted" not in after and len(after["turns"]) == 2
    assert _request_lengths(emulator)[-1] == 1


async def test_a_cancelled_turn_leaves_nothing(daemons: StartDaemon, emulator: Emulator) -> None:
    """A user's cancel: the other daemon's client gets turnProgress cancelled; no daemon's
    history shows the turn or an interrupted one."""
    a, b = await daemons(), await daemons()
    emulator.script({**SLOW, "chunkDelay": 0.5})
    msg_id, pending = a.send("gemini/chat", {"message": "stop me", "partialResultToken": "p"})
    await until(lambda: a.client.progress.get("p"), "a first piece")
    a.cancel(msg_id)
    with pytest.raises(JsonRpcException):
        await pending
    await until(lambda: any(s["state"] == "cancelled" for s in b.mirrored()), "cancelled")
    for d in (a, b):
        assert await d.request("gemini/history", {}) == {
            "workspace": d.folders[0],
            "conversation": None,
            "turns": [],
            "model": "gemini-2.5-flash",
        }


async def test_a_turn_waits_for_another_editors_turn(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """A turn sent while another daemon's turn holds the folder says it waits (work done
    progress), then runs with that exchange in its request; a turn cancelled while waiting
    sends nothing upstream."""
    a, b = await daemons(), await daemons()
    emulator.script({"reply": "first answer", "delay": 1.0})
    _, first = a.send("gemini/chat", {"message": "first"})
    await until(lambda: emulator.requests("enerateContent"), "the first request upstream")
    waiting_id, waiting = b.send("gemini/chat", {"message": "cancel me", "workDoneToken": "w0"})
    await until(lambda: any(v.get("kind") == "report" for v in b.client.progress.get("w0", [])),
                "the waiting report")  # fmt: skip
    b.cancel(waiting_id)
    with pytest.raises(JsonRpcException):
        await waiting
    second = asyncio.ensure_future(b.chat("second", workDoneToken="w"))
    await first
    await second
    reports = [v["message"] for v in b.client.progress["w0"] if v["kind"] == "report"]
    assert reports == ["waiting for another editor's turn"]
    assert _request_lengths(emulator) == [1, 3]


async def test_an_editor_closing_mid_turn_leaves_an_interrupted_turn(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """The editor going away (its daemon's stdin closes) mid-turn is not a cancel: the daemon
    ends, and the other daemon's history carries the turn as `interrupted`."""
    a, b = await daemons(), await daemons()
    emulator.script({**SLOW, "chunkDelay": 0.5})
    a.send("gemini/chat", {"message": "keep going", "partialResultToken": "p"})
    await until(lambda: len(a.client.progress.get("p", [])) >= 2, "two pieces")
    assert a.process.stdin is not None
    a.process.stdin.close()
    await asyncio.wait_for(a.process.wait(), 10)
    history = await b.request("gemini/history", {})
    assert history["interrupted"]["message"] == "keep going"
    assert history["turns"] == []


async def test_a_turn_made_while_a_daemon_still_loads_is_told_to_it(
    daemons: StartDaemon,
) -> None:
    """Daemon b is frozen (SIGSTOP) right after it answered `initialize` (early, before pygls
    has loaded) while a commits a turn; thawed, b tells its client that turn
    (conversationChanged, reason turn) like any later one. Before, b followed the feed from
    when its server object was built, after the turn, and never told it."""
    a, b = await daemons(), await daemons()
    b.process.send_signal(signal.SIGSTOP)
    try:
        await a.chat("made while b loads")
    finally:
        b.process.send_signal(signal.SIGCONT)
    told = await until(
        lambda: [c for c in b.changes() if c["reason"] == "turn"] or None, "the turn told to b"
    )
    assert told[0]["turn"] == 1
