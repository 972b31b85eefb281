"""The daemon's RSS idle, and after many workspaces times many turns driven over JSON-RPC."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gemini_chat.emulator import Emulator
from gemini_chat.terminal.rpc import RpcClient

from .common import Metric, Section, at_most, make_folders, rss_kib, running_daemon

WORKERS = 8  # workspaces served at once: enough to overlap, few enough for 2 cores


async def _drive(client: RpcClient, folders: list[Path], turns: int) -> None:
    queue: asyncio.Queue[Path] = asyncio.Queue()
    for f in folders:
        queue.put_nowait(f)

    async def worker() -> None:
        while not queue.empty():
            folder = queue.get_nowait()
            for t in range(turns):
                message = f"Turn {t + 1} in {folder.name}: what is {t} squared?"
                await client.request(
                    "gemini/chat", {"workspace": folder.as_uri(), "message": message}
                )

    await asyncio.gather(*(worker() for _ in range(WORKERS)))


async def measure(emu: Emulator, tmp: Path, workspaces: int, turns: int) -> Section:
    """Idle RSS after initialize, then RSS after `workspaces` x `turns` turns."""
    folders = make_folders(tmp / "folders", workspaces)
    async with running_daemon(emu.url, tmp / "mem-data", folders) as client:
        await client.request("gemini/status", {})
        pid = client.process.pid
        idle = rss_kib(pid) / 1024
        await _drive(client, folders, turns)
        loaded = rss_kib(pid) / 1024
        peak = rss_kib(pid, "VmHWM") / 1024
        sent = len(emu.requests(":generateContent"))
    label = f"RSS after {workspaces} workspaces x {turns} turns"
    metrics = [
        Metric(
            "rss_idle",
            "RSS idle (after initialize)",
            idle,
            "MB",
            None,
            "<= 60 MB",
            at_most(idle, 60),
        ),
        Metric(
            "rss_loaded",
            label,
            loaded,
            "MB",
            None,
            "<= 90 MB",
            at_most(loaded, 90),
            f"peak {peak:.1f} MB",
        ),
    ]
    details: dict[str, object] = {
        "idle_mib": idle,
        "loaded_mib": loaded,
        "peak_mib": peak,
        "upstream_calls": sent,
    }
    return Section("memory", metrics, details)
