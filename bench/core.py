"""The daemon's own cost per turn at 10, 1,000 and 10,000 turns of history, without upstream.

In process: a ConversationStore seeded through its own API with N exchanges, and the real
ChatService.chat() turn, with a GeminiClient whose HTTP call is replaced by serializing the
request (as the real client does) and parsing a canned reply. Stages are timed by wrapping the
store and the client: read (store.history), serialize, parse, commit (store.commit); "lock" is
the folder's OS file lock (acquire and release); "journal" the turn's journal row
(journal.start, its own transaction) plus, inside the commit, the statements that clear the
journal and write the change feed's row (timed per SQL statement through a connection
wrapper; they are counted in "commit" too). "other" is the rest of the turn (the turn
context, GEMINI.md, redaction, request building, the context-size estimate, model lookup).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from gemini_chat.attachments import Prepared
from gemini_chat.chat import ChatService
from gemini_chat.folderlock import FolderLocks
from gemini_chat.gemini.client import (
    CallOptions,
    GeminiClient,
    RequestBody,
    RetryCallback,
    encode_body,
)
from gemini_chat.gemini.sse import parse_body
from gemini_chat.gemini.wire import GenerateContentRequest, GenerateContentResponse, Model
from gemini_chat.journal import InFlight, Journal
from gemini_chat.protocol import Json
from gemini_chat.settings import Settings
from gemini_chat.store import ConversationStore, Entry
from gemini_chat.turn import Turn, TurnEvents
from gemini_chat.workspaces import Workspace

from .common import MODEL, Metric, Section, stats_ms

REPLY = (
    "You have two dogs and a cat, so that makes 4 + 4 + 4 = 12 paws in total. If you also count "
    "the parrot, add 2 more: 14. Anything else about your animals you would like me to count?"
)
STAGES = ("read", "serialize", "parse", "commit", "lock", "journal", "other")
TIMED = ("read", "serialize", "parse", "commit", "lock", "journal")
"""Stages timed directly; "other" is the rest. The journal's share of the commit is in both."""
IN_COMMIT_JOURNAL = ("DELETE FROM journal", "INSERT INTO changes")
"""The statements a commit runs for the live conversation (clear the journal, feed row)."""
LOCK_JOURNAL_GOAL_MS = 0.2
Laps = dict[str, list[float]]


def _exchange(i: int) -> tuple[Json, Json, Json, Json]:
    message = f"Question {i}: how many paws do {i} dogs and one cat have in total?"
    user: Json = {"role": "user", "parts": [{"text": message}]}
    user_meta: Json = {"text": message, "attachments": []}
    model: Json = {"role": "model", "parts": [{"text": REPLY}]}
    usage = {"promptTokens": 40, "replyTokens": 45, "thoughtsTokens": 0, "totalTokens": 85}
    model_meta: Json = {"text": REPLY, "thoughts": "", "usage": usage, "model": MODEL}
    model_meta["finishReason"] = "STOP"
    return user, user_meta, model, model_meta


KNOWN_COLUMNS = {"conversation_id", "seq", "turn", "role", "content", "meta", "time"}


def seed(data_dir: Path, workspace: str, exchanges: int) -> None:
    """Write `exchanges` exchanges into a fresh store as its own commits would have.

    One bulk transaction when the entries table has only columns this knows (commit by commit
    would take minutes at 10,000 if commits get slower with history); else the store's API.
    """
    ConversationStore(data_dir).close()  # creates the schema and the file modes
    db = sqlite3.connect(data_dir / "conversations.sqlite3")
    try:
        info = db.execute("PRAGMA table_info(entries)").fetchall()
        columns = [str(row[1]) for row in info]
        unknown = [str(r[1]) for r in info if r[1] not in KNOWN_COLUMNS and r[3] and r[4] is None]
        if not unknown:
            _bulk_insert(db, workspace, exchanges, columns)
            return
    finally:
        db.close()
    store = ConversationStore(data_dir)
    try:
        for i in range(exchanges):
            user, user_meta, model, model_meta = _exchange(i)
            store.commit(workspace, [("user", user, user_meta), ("model", model, model_meta)])
    finally:
        store.close()


def _bulk_insert(
    db: sqlite3.Connection, workspace: str, exchanges: int, columns: list[str]
) -> None:
    now = "2026-01-01T00:00:00.000Z"
    with db:
        cur = db.execute(
            "INSERT INTO conversations (workspace, created) VALUES (?, ?)", (workspace, now)
        )
        conv = cur.lastrowid
        rows: list[tuple[object, ...]] = []
        for i in range(exchanges):
            user, user_meta, model, model_meta = _exchange(i)
            for seq, role, content, meta in (
                (2 * i, "user", user, user_meta),
                (2 * i + 1, "model", model, model_meta),
            ):
                values: dict[str, object] = {
                    "conversation_id": conv,
                    "seq": seq,
                    "turn": i + 1,
                    "role": role,
                    "content": json.dumps(content, ensure_ascii=False, separators=(",", ":")),
                    "meta": json.dumps(meta, ensure_ascii=False, separators=(",", ":")),
                    "time": now,
                }
                rows.append(tuple(values[c] for c in columns if c in values))
        names = [c for c in columns if c in KNOWN_COLUMNS]
        marks = ", ".join("?" for _ in names)
        db.executemany(f"INSERT INTO entries ({', '.join(names)}) VALUES ({marks})", rows)


@contextmanager
def _lap(laps: Laps, stage: str) -> Generator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        laps[stage].append(time.perf_counter() - start)


class TimedStore(ConversationStore):
    """The real store, timing history reads and commits."""

    laps: Laps

    def history(self, workspace: str) -> list[Entry]:
        """Timed."""
        with _lap(self.laps, "read"):
            return super().history(workspace)

    def commit(self, workspace: str, entries: list[tuple[str, Json, Json]]) -> int:
        """Timed; the journal's statements inside it are timed too (TimedConnection)."""
        conn = self.db.conn
        if isinstance(conn, TimedConnection):
            conn.in_commit = True
        try:
            with _lap(self.laps, "commit"):
                return super().commit(workspace, entries)
        finally:
            if isinstance(conn, TimedConnection):
                conn.in_commit = False


class TimedLocks(FolderLocks):
    """The real folder locks, timing the acquire and the release (not the time held)."""

    laps: Laps

    @asynccontextmanager
    async def hold(self, key: str, on_wait: Callable[[], Awaitable[None]]) -> AsyncGenerator[None]:
        """Timed."""
        start = time.perf_counter()
        async with super().hold(key, on_wait):
            self.laps["lock"].append(time.perf_counter() - start)
            try:
                yield
            finally:
                start = time.perf_counter()
        self.laps["lock"].append(time.perf_counter() - start)


class TimedJournal(Journal):
    """The real journal, timing a turn's start (its own write transaction)."""

    laps: Laps

    def start(self, workspace: str, message: str, attachments: Sequence[object]) -> InFlight:
        """Timed."""
        with _lap(self.laps, "journal"):
            return super().start(workspace, message, attachments)


class TimedConnection:
    """A sqlite3 connection timing, while `in_commit`, the commit's live-conversation
    statements (IN_COMMIT_JOURNAL) into the lap "in_commit"."""

    def __init__(self, conn: sqlite3.Connection, laps: Laps) -> None:
        self._conn = conn
        self._laps = laps
        self.in_commit = False

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        """Timed when inside a commit and `sql` is one of IN_COMMIT_JOURNAL."""
        if not (self.in_commit and sql.startswith(IN_COMMIT_JOURNAL)):
            return self._conn.execute(sql, params)
        with _lap(self._laps, "in_commit"):
            return self._conn.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def timed_store(data_dir: Path) -> TimedStore:
    """The real store with every stage's timer in place (one `laps` shared by all)."""
    store = TimedStore(data_dir)
    laps: Laps = {s: [] for s in (*STAGES, "in_commit")}
    store.laps = laps
    locks = TimedLocks(data_dir)
    locks.laps = laps
    store.locks = locks
    journal = TimedJournal(store.db, store.origin)
    journal.laps = laps
    store.journal = journal
    store.db.conn = TimedConnection(store.db.conn, laps)  # type: ignore[assignment]
    return store


class CannedClient(GeminiClient):
    """No HTTP: serializes the request as the real client does and parses a canned reply."""

    laps: Laps
    reply = json.dumps(
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": REPLY}]}, "finishReason": "STOP"}
            ],
            "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 45},
            "modelVersion": MODEL,
        },
        indent=2,
    ).encode()

    async def generate_content(
        self,
        model: str,
        request: GenerateContentRequest | RequestBody,
        opts: CallOptions,
        on_retry: RetryCallback | None = None,
    ) -> GenerateContentResponse:
        """Serialize, then parse the canned reply."""
        with _lap(self.laps, "serialize"):
            encode_body(request)
        with _lap(self.laps, "parse"):
            return parse_body(GenerateContentResponse, self.reply)

    async def get_model(self, model: str, opts: CallOptions) -> Model:
        """A model with Gemini 2.5 Flash's limits."""
        return Model(name=f"models/{model}", input_token_limit=1_048_576)


async def stage_times(data_dir: Path, folder: Path, iterations: int) -> tuple[Laps, float]:
    """Per-stage durations of `iterations` turns, and the first (cold) history read."""
    laps: Laps = {s: [] for s in (*STAGES, "total")}
    settings = Settings(data_dir=data_dir, api_key=None, base_url="http://127.0.0.1:9")
    store = timed_store(data_dir)
    client = CannedClient()
    client.laps = store.laps
    service = ChatService(client, lambda: settings, lambda: store)
    ws = Workspace(str(folder), folder.as_uri())
    start = time.perf_counter()
    store.history(ws.key)
    cold = time.perf_counter() - start
    await service.chat(Turn(ws, "Warm-up: caches the model's limits.", Prepared()), TurnEvents())
    for i in range(iterations):
        for v in store.laps.values():
            v.clear()
        turn = Turn(ws, f"Question {100_000 + i}: and how many ears?", Prepared())
        with _lap(laps, "total"):
            await service.chat(turn, TurnEvents())
        for stage in TIMED:
            laps[stage].append(sum(store.laps[stage]))
        outside_commit = sum(laps[s][-1] for s in TIMED)  # journal.start is outside the commit
        laps["other"].append(laps["total"][-1] - outside_commit)
        laps["journal"][-1] += sum(store.laps["in_commit"])
    await client.aclose()
    store.close()
    return laps, cold


COST_GOAL_MS = 1.0
RATIO_GOAL = 1.5


async def measure(tmp: Path, sizes: tuple[int, ...], iterations: int) -> Section:
    """Seed a store per size, time as many turns at each, compare the largest size with the
    smallest. (The largest had 8 turns until 2026-12-01, when a turn there cost 30 ms: the
    first turns after the seeding are slower at every size, 0.4-0.8 ms falling to 0.3 over
    about five, so 8 put the median in that warm-up and the ratio read 1.2-1.6x.)"""
    per_size: dict[str, object] = {}
    metrics: list[Metric] = []
    medians: dict[int, dict[str, float]] = {}
    for n in sizes:
        folder = tmp / f"core-ws-{n}"
        folder.mkdir()
        data_dir = tmp / f"core-data-{n}"
        await asyncio.to_thread(seed, data_dir, str(folder.resolve()), n)
        laps, cold = await stage_times(data_dir, folder.resolve(), iterations)
        medians[n] = {s: stats_ms(v).p50 for s, v in laps.items()}
        per_size[str(n)] = {"stages_ms": medians[n], "cold_read_ms": cold * 1e3, "samples_s": laps}
        metrics.append(_cost_row(n, laps, medians[n], n == max(sizes)))
    metrics += _ratio_rows(medians, min(sizes), max(sizes))
    details: dict[str, object] = {
        "iterations": iterations,
        "sizes": per_size,
    }
    return Section("core", metrics, details)


def _cost_row(n: int, laps: Laps, medians: dict[str, float], largest: bool) -> Metric:
    """One size's turn cost, stage by stage; the largest size carries the 1 ms target."""
    t = stats_ms(laps["total"])
    shown = ", ".join(f"{s} {medians[s]:.2f}" for s in STAGES)
    label = f"daemon cost/turn, {n:,} turns"
    if not largest:
        return Metric(f"core_{n}", label, t.p50, "ms", t.p90, note=shown)
    ok = t.p50 <= COST_GOAL_MS
    return Metric(f"core_{n}", label, t.p50, "ms", t.p90, f"<= {COST_GOAL_MS:g} ms", ok, shown)


def _ratio_rows(medians: dict[int, dict[str, float]], small: int, large: int) -> list[Metric]:
    """Cost and commit at the largest size against the smallest; the lock + journal cost."""
    rows: list[Metric] = []
    for key, stage, what in (
        ("cost_ratio", "total", "cost/turn"),
        ("commit_ratio", "commit", "commit"),
    ):
        a, b = medians[large][stage], medians[small][stage]
        label = f"{what} at {large:,} / at {small:,}"
        note = f"{a:.3f} vs {b:.3f} ms"
        ok = a / b <= RATIO_GOAL
        rows.append(Metric(key, label, a / b, "x", None, f"<= {RATIO_GOAL:g}x", ok, note))
    worst = max(medians, key=lambda n: medians[n]["lock"] + medians[n]["journal"])
    lock, journal = medians[worst]["lock"], medians[worst]["journal"]
    rows.append(
        Metric(
            "lock_journal",
            "  lock + journal per turn (in cost/turn)",
            lock + journal,
            "ms",
            None,
            f"<= {LOCK_JOURNAL_GOAL_MS:g} ms",
            lock + journal <= LOCK_JOURNAL_GOAL_MS,
            f"lock {lock:.3f} + journal {journal:.3f} ms, worst size ({worst:,} turns)",
        )
    )
    return rows
