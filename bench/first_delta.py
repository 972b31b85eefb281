"""From the upstream's first SSE chunk written to the client's first `$/progress` delta."""

from __future__ import annotations

import time
from pathlib import Path

from gemini_chat.terminal.rpc import JsonObject

from .common import Metric, Section, at_most, running_daemon, stats_ms
from .sse_stub import StubServer

GOAL_MS = 0.5


async def measure(tmp: Path, repeats: int) -> Section:
    """Stream `repeats` turns from the stub; both clocks are this host's monotonic clock."""
    folder = tmp / "stream-ws"
    folder.mkdir()
    latencies: list[float] = []
    with StubServer() as stub:
        async with running_daemon(stub.url, tmp / "stream-data", [folder]) as client:
            seen: dict[str, float] = {}

            def on_progress(params: JsonObject) -> None:
                token = str(params.get("token"))
                if token not in seen:
                    seen[token] = time.monotonic()
                    stub.release.set()

            client.on_notification("$/progress", on_progress)
            for i in range(repeats):
                stub.release.clear()
                token = f"p-{i}"
                params: JsonObject = {
                    "workspace": folder.as_uri(),
                    "message": f"Tell me a story, part {i}.",
                    "partialResultToken": token,
                }
                await client.request("gemini/chat", params)
                latencies.append(seen[token] - stub.first_written[-1])
    s = stats_ms(latencies)
    metric = Metric(
        "first_delta",
        "first chunk written -> first $/progress",
        s.p50,
        "ms",
        s.p90,
        f"<= {GOAL_MS:g} ms",
        at_most(s.p50, GOAL_MS),
    )
    return Section("first_delta", [metric], {"samples_s": latencies})
