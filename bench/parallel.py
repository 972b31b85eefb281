"""Many turns at once over many workspaces, with a slow upstream: the wall time of the batch."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gemini_chat.emulator import Emulator

from .common import Metric, Section, at_most, make_folders, running_daemon

DELAY = 1.0


async def measure(emu: Emulator, tmp: Path, turns: int, rounds: int) -> Section:
    """`rounds` batches of `turns` concurrent turns, one per workspace, each upstream 1 s slow."""
    folders = make_folders(tmp / "folders", turns)
    walls: list[float] = []
    async with running_daemon(emu.url, tmp / "par-data", folders) as client:
        for r in range(rounds):
            emu.clear()
            step: dict[str, object] = {"delay": DELAY}
            emu.script(*(step for _ in folders))
            calls = [
                client.request("gemini/chat", {"workspace": f.as_uri(), "message": f"Round {r}."})
                for f in folders
            ]
            start = time.perf_counter()
            await asyncio.gather(*calls)
            walls.append(time.perf_counter() - start)
    wall = sorted(walls)[len(walls) // 2]
    metric = Metric(
        "parallel",
        f"{turns} concurrent turns, {DELAY:g} s upstream",
        wall * 1e3,
        "ms",
        max(walls) * 1e3 if len(walls) > 1 else None,
        "<= 1500 ms",
        at_most(wall, 1.5),
        f"median of {rounds}; first {walls[0] * 1e3:.0f} ms",
    )
    return Section("parallel", [metric], {"walls_s": walls})
