"""The core's per-turn pieces, each timed alone: `python -m bench.hot_path`.

Each row runs one piece of a turn many times in process (this thread's CPU time, best of five
rounds, so load on the machine counts little) against a store seeded as the turn bench seeds
it: the folder lock, the journal's start row, the commit's journal statements, the turn
context, reading the history, the history's texts as sent (uploads.sendable), the user
content's redaction, the workspace lookup and the params' validation. Rows marked "idea" time
a proposed replacement next to the piece it would replace, so a change can be judged before it
is made.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gemini_chat import params, uploads
from gemini_chat.attachments import Prepared
from gemini_chat.chat import ChatService
from gemini_chat.gemini.client import GeminiClient
from gemini_chat.journal import record
from gemini_chat.redaction import Redactions
from gemini_chat.settings import Settings
from gemini_chat.store import ConversationStore
from gemini_chat.turn import Turn
from gemini_chat.workspaces import Workspaces, workspace_key

from .common import load_average, load_text
from .core import seed

ROUNDS = 5


def best_us(
    fn: Callable[[], object], n: int, clock: Callable[[], float] = time.thread_time
) -> float:
    """Microseconds per call: the best of ROUNDS rounds of `n` calls, by `clock` (this thread's
    CPU time unless told)."""
    for _ in range(min(n, 50)):
        fn()
    rounds: list[float] = []
    for _ in range(ROUNDS):
        start = clock()
        for _ in range(n):
            fn()
        rounds.append((clock() - start) / n)
    return min(rounds) * 1e6


def run_async(coro_fn: Callable[[], object]) -> Callable[[], object]:
    """A synchronous caller of an async function, on one loop kept for the whole run."""
    loop = asyncio.new_event_loop()
    return lambda: loop.run_until_complete(coro_fn())  # type: ignore[arg-type]


async def _nothing() -> None:
    return None


def measure(root: Path, turns: int) -> list[tuple[str, float]]:
    """Every row: (what, µs per call)."""
    folder = root / "ws"
    folder.mkdir()
    key = str(folder.resolve())
    data = root / "data"
    seed(data, key, turns)
    store = ConversationStore(data)
    try:
        return _live_rows(store, key, root) + _turn_rows(store, folder, turns)
    finally:
        store.close()


def _live_rows(store: ConversationStore, key: str, root: Path) -> list[tuple[str, float]]:
    """The folder lock and the journal: what the live conversation adds to a turn."""
    rows: list[tuple[str, float]] = []

    async def hold() -> None:
        async with store.locks.hold(key, _nothing):
            pass

    rows.append(
        ("folder lock: acquire + release (FolderLocks.hold)", best_us(run_async(hold), 2000))
    )
    fd = os.open(root / "kept.lock", os.O_RDWR | os.O_CREAT, 0o600)

    def flock() -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)

    rows.append(("  idea: fcntl.flock on a descriptor kept per folder", best_us(flock, 20000)))
    rows.append(
        ("folder lock: held() (watcher, history)", best_us(lambda: store.locks.held(key), 2000))
    )

    def start_and_clear() -> None:
        live = store.journal.start(key, "Question?", [])
        store.journal.end(live, key, "cancelled")

    rows.append(
        ("journal.start + journal.end (two write transactions)", best_us(start_and_clear, 500) / 2)
    )

    def in_commit() -> None:
        with store.db.writing() as db:
            db.execute("DELETE FROM journal WHERE workspace = ?", (key,))
            record(db, key, 1, "turn", 1, store.origin)

    def empty() -> None:
        with store.db.writing():
            pass

    rows.append(("commit's journal statements + its transaction", best_us(in_commit, 500)))
    rows.append(("  of which an empty write transaction", best_us(empty, 500)))
    os.close(fd)
    return rows


def _turn_rows(store: ConversationStore, folder: Path, turns: int) -> list[tuple[str, float]]:
    """The rest of a turn's pieces, on a history of `turns` exchanges."""
    key = str(folder.resolve())
    settings = Settings(data_dir=store.data_dir, api_key=None, base_url="http://127.0.0.1:9")
    service = ChatService(GeminiClient(), lambda: settings, lambda: store)
    rows: list[tuple[str, float]] = []
    ws = Workspaces(folder)
    ws.set_folders([folder.as_uri()])
    workspace = ws.resolve(folder.as_uri())
    context = run_async(lambda: service.turn_context(workspace, None, None))
    rows.append(("turn_context (settings, GEMINI.md off the loop, model)", best_us(context, 500)))
    wall = best_us(context, 500, time.perf_counter)
    rows.append(("  same, wall clock (the thread hop waits)", wall))
    rows.append(("  of which store.model (one SELECT)", best_us(lambda: store.model(key), 5000)))
    rows.append(
        (
            "  of which GEMINI.md read inline (stat, cached)",
            best_us(lambda: service.context.read(folder, settings.context_file), 5000),
        )
    )
    store.history(key)
    rows.append(
        (
            f"store.history at {turns:,} turns (incremental, cached)",
            best_us(lambda: store.history(key), 200),
        )
    )
    history = store.history(key)
    rows.append(
        (
            f"uploads.sendable over {len(history):,} entries",
            best_us(lambda: [uploads.sendable(e) for e in history], 20),
        )
    )
    rows.append(
        (
            "  idea: entries' stored texts (e.raw), no file parts",
            best_us(lambda: [e.raw for e in history], 200),
        )
    )
    turn = Turn(workspace, "Question 12: how many paws do 14 dogs and one cat have?", Prepared())
    redactions = Redactions(True)
    rows.append(
        (
            "redaction of the message (RE2)",
            best_us(lambda: redactions.mask(turn.message, "message"), 5000),
        )
    )
    uri = folder.as_uri()
    rows.append(
        ("Workspaces.resolve (realpath per request)", best_us(lambda: ws.resolve(uri), 5000))
    )
    rows.append(("  idea: workspace_key cached by URI", best_us(lambda: _cached_key(uri), 20000)))
    raw = {"workspace": uri, "message": turn.message, "partialResultToken": "p-1"}
    rows.append(
        (
            "params.parse(ChatParams) (pydantic)",
            best_us(lambda: params.parse(params.ChatParams, raw), 5000),
        )
    )
    return rows


_KEYS: dict[str, str] = {}


def _cached_key(uri: str) -> str:
    key = _KEYS.get(uri)
    if key is None:
        key = _KEYS[uri] = workspace_key(uri)
    return key


def main(argv: list[str] | None = None) -> int:
    """Seed a store, time every piece, print the rows."""
    p = argparse.ArgumentParser(prog="python -m bench.hot_path", description=__doc__)
    p.add_argument("--turns", type=int, default=200, help="exchanges in the seeded history")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gemini-chat-hot-") as tmp:
        rows = measure(Path(tmp), args.turns)
    print(f"load average {load_text(load_average())}")
    for what, micros in rows:
        print(f"{micros:9.1f} µs  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
