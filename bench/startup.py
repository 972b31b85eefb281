"""Process start to the `initialize` answer, for a freshly spawned gemini-chat-server."""

from __future__ import annotations

import time
from pathlib import Path

from gemini_chat.terminal.rpc import RpcClient

from .common import (
    BENCH_KEY,
    SERVER,
    Metric,
    Section,
    at_most,
    daemon_env,
    initialize_params,
    stats_ms,
)

GOAL_MS = 250


async def _start(env: dict[str, str], folder: Path) -> tuple[float, float]:
    """Seconds from spawning the daemon to its `initialize` answer, and to its first answer
    to a `gemini/*` request (`gemini/status`, sent right after `initialized`)."""
    start = time.perf_counter()
    client = await RpcClient.spawn([SERVER], env=env, redact=[BENCH_KEY])
    try:
        await client.request("initialize", initialize_params([folder]))
        answered = time.perf_counter() - start
        await client.notify("initialized", {})
        await client.request("gemini/status", {"workspace": folder.as_uri()})
        return answered, time.perf_counter() - start
    finally:
        await client.close()


async def measure(base_url: str, tmp: Path, repeats: int, uncached: int) -> Section:
    """`repeats` starts with cached bytecode (after a warm-up), `uncached` without any."""
    folder = tmp / "start-ws"
    folder.mkdir()
    env = daemon_env(base_url, tmp / "start-data")
    await _start(env, folder)  # writes the bytecode cache, warms the page cache
    samples = [await _start(env, folder) for _ in range(repeats)]
    bare = {k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"}
    bare["PYTHONDONTWRITEBYTECODE"] = "1"
    cold = [await _start(bare, folder) for _ in range(uncached)]
    s = stats_ms([a for a, _ in samples])
    ok = at_most(s.p50, GOAL_MS)
    target = f"<= {GOAL_MS:g} ms"
    metrics = [Metric("start", "start -> initialize answer", s.p50, "ms", s.p90, target, ok)]
    ready = stats_ms([b for _, b in samples])
    note = "pygls and the core loaded; no target"
    metrics.append(
        Metric(
            "start_ready",
            "  start -> first gemini/status answer",
            ready.p50,
            "ms",
            ready.p90,
            note=note,
        )
    )
    if cold:
        c = stats_ms([a for a, _ in cold])
        note = "no .pyc (PYTHONDONTWRITEBYTECODE, as in this sandbox)"
        metrics.append(
            Metric(
                "start_uncached", "  same, compiling every import", c.p50, "ms", c.p90, note=note
            )
        )
    details: dict[str, object] = {"samples_s": samples, "uncached_s": cold}
    return Section("start", metrics, details)
