"""The daemon's own cost per turn at 10, 1,000 and 10,000 turns of history, without upstream.

In process: a ConversationStore seeded directly with N exchanges, and the stages a turn goes
through in ChatService.chat besides the HTTP call: read the history, build the request
(pydantic), serialize it, parse a reply, commit the exchange.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gemini_chat.chat import ChatService
from gemini_chat.gemini.client import GeminiClient
from gemini_chat.gemini.sse import parse_body
from gemini_chat.gemini.wire import GenerateContentResponse, dump
from gemini_chat.settings import Settings
from gemini_chat.store import ConversationStore

from .common import MODEL, Metric, Section, stats_ms

WORKSPACE = "/bench/workspace"
REPLY = (
    "You have two dogs and a cat, so that makes 4 + 4 + 4 = 12 paws in total. If you also count "
    "the parrot, add 2 more: 14. Anything else about your animals you would like me to count?"
)
STAGES = ("read", "build", "serialize", "parse", "commit")


def _exchange(i: int) -> tuple[dict[str, object], ...]:
    message = f"Question {i}: how many paws do {i} dogs and one cat have in total?"
    user = {"role": "user", "parts": [{"text": message}]}
    user_meta = {"text": message, "attachments": []}
    model = {"role": "model", "parts": [{"text": REPLY}]}
    usage = {"promptTokens": 40, "replyTokens": 45, "thoughtsTokens": 0, "totalTokens": 85}
    model_meta = {"text": REPLY, "thoughts": "", "usage": usage, "model": MODEL}
    model_meta["finishReason"] = "STOP"
    return user, user_meta, model, model_meta


def seed(data_dir: Path, exchanges: int) -> None:
    """Commit `exchanges` exchanges through the store's own API (its schema may change)."""
    store = ConversationStore(data_dir)
    try:
        for i in range(exchanges):
            store.commit_exchange(WORKSPACE, *_exchange(i))
    finally:
        store.close()


def _reply_bytes() -> bytes:
    body = {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": REPLY}]}, "finishReason": "STOP"}
        ],
        "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 45},
        "modelVersion": MODEL,
    }
    return json.dumps(body, indent=2).encode()


@contextmanager
def _lap(times: dict[str, list[float]], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    times[stage].append(time.perf_counter() - start)


def stage_times(data_dir: Path, iterations: int) -> tuple[dict[str, list[float]], float]:
    """Per-stage durations over `iterations` turns, and the first (cold) history read."""
    settings = Settings(data_dir=data_dir)
    store = ConversationStore(data_dir)
    service = ChatService(GeminiClient(), lambda: settings, lambda: store)
    config = service._generation_config(settings, None)  # pyright: ignore[reportPrivateUsage]
    build = service._request  # pyright: ignore[reportPrivateUsage]
    start = time.perf_counter()
    store.history(WORKSPACE)
    cold = time.perf_counter() - start
    reply = _reply_bytes()
    times: dict[str, list[float]] = {s: [] for s in STAGES}
    for i in range(iterations):
        user, user_meta, model, model_meta = _exchange(100_000 + i)
        with _lap(times, "read"):
            history = store.history(WORKSPACE)
        with _lap(times, "build"):
            request = build(settings, history, user, config)
        with _lap(times, "serialize"):
            json.dumps(dump(request)).encode()
        with _lap(times, "parse"):
            parse_body(GenerateContentResponse, reply)
        with _lap(times, "commit"):
            store.commit_exchange(WORKSPACE, user, user_meta, model, model_meta)
    store.close()
    return times, cold


def measure(tmp: Path, sizes: tuple[int, ...], iterations: int) -> Section:
    """Seed a store per size, time the stages, compare the commit at the largest and smallest."""
    per_size: dict[str, object] = {}
    metrics: list[Metric] = []
    commit: dict[int, float] = {}
    for n in sizes:
        data_dir = tmp / f"core-{n}"
        seed(data_dir, n)
        times, cold = stage_times(data_dir, iterations)
        medians = {s: stats_ms(v).p50 for s, v in times.items()}
        total = [sum(parts) for parts in zip(*times.values(), strict=True)]
        t = stats_ms(total)
        commit[n] = medians["commit"]
        shown = ", ".join(f"{s} {medians[s]:.2f}" for s in STAGES)
        metrics.append(
            Metric(f"core_{n}", f"daemon cost/turn, {n:,} turns", t.p50, "ms", t.p90, note=shown)
        )
        per_size[str(n)] = {"stages_ms": medians, "total_ms": t.p50, "cold_read_ms": cold * 1e3}
    small, large = min(sizes), max(sizes)
    ratio = commit[large] / commit[small]
    metrics.append(
        Metric(
            "commit_ratio",
            f"commit at {large:,} / at {small:,}",
            ratio,
            "x",
            None,
            "<= 1.5x",
            ratio <= 1.5,
            f"{commit[large]:.3f} vs {commit[small]:.3f} ms",
        )
    )
    return Section("core", metrics, {"iterations": iterations, "sizes": per_size})
