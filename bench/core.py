"""The daemon's own cost per turn at 10, 1,000 and 10,000 turns of history, without upstream.

In process: a ConversationStore seeded through its own API with N exchanges, and the real
ChatService.chat() turn, with a GeminiClient whose HTTP call is replaced by serializing the
request (as the real client does) and parsing a canned reply. Stages are timed by wrapping the
store and the client: read (store.history), serialize, parse, commit (store.commit); "other" is
the rest of the turn (request building and validation, the context-size estimate, model
lookup, thread hops).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

from gemini_chat.attachments import Prepared
from gemini_chat.chat import ChatService
from gemini_chat.gemini.client import (
    CallOptions,
    GeminiClient,
    RequestBody,
    RetryCallback,
    encode_body,
)
from gemini_chat.gemini.sse import parse_body
from gemini_chat.gemini.wire import GenerateContentRequest, GenerateContentResponse, Model
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
STAGES = ("read", "serialize", "parse", "commit", "other")
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
        """Timed."""
        with _lap(self.laps, "commit"):
            return super().commit(workspace, entries)


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
    store = TimedStore(data_dir)
    store.laps = {s: [] for s in STAGES}
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
        for stage in ("read", "serialize", "parse", "commit"):
            laps[stage].append(sum(store.laps[stage]))
        laps["other"].append(laps["total"][-1] - sum(laps[s][-1] for s in STAGES[:-1]))
    await client.aclose()
    store.close()
    return laps, cold


async def measure(tmp: Path, sizes: tuple[int, ...], iterations: int, large: int) -> Section:
    """Seed a store per size, time the turns, compare the commit at the largest and smallest."""
    per_size: dict[str, object] = {}
    metrics: list[Metric] = []
    commit: dict[int, float] = {}
    for n in sizes:
        folder = tmp / f"core-ws-{n}"
        folder.mkdir()
        data_dir = tmp / f"core-data-{n}"
        await asyncio.to_thread(seed, data_dir, str(folder.resolve()), n)
        laps, cold = await stage_times(
            data_dir, folder.resolve(), iterations if n <= 1000 else large
        )
        medians = {s: stats_ms(v).p50 for s, v in laps.items()}
        t = stats_ms(laps["total"])
        commit[n] = medians["commit"]
        shown = ", ".join(f"{s} {medians[s]:.2f}" for s in STAGES)
        label = f"daemon cost/turn, {n:,} turns"
        metrics.append(Metric(f"core_{n}", label, t.p50, "ms", t.p90, note=shown))
        per_size[str(n)] = {"stages_ms": medians, "cold_read_ms": cold * 1e3, "samples_s": laps}
    small, large = min(sizes), max(sizes)
    ratio = commit[large] / commit[small]
    label = f"commit at {large:,} / at {small:,}"
    note = f"{commit[large]:.3f} vs {commit[small]:.3f} ms"
    metrics.append(Metric("commit_ratio", label, ratio, "x", None, "<= 1.5x", ratio <= 1.5, note))
    details: dict[str, object] = {
        "iterations": iterations,
        "iterations_large": large,
        "sizes": per_size,
    }
    return Section("core", metrics, details)
