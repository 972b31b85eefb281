"""One live conversation per folder (issue 11): how soon a second daemon's client sees a change,
how far a mirrored stream trails the originating editor, and what watching costs when idle.

Two daemons share one store and one folder. Times are the bench's own clocks: the change feed
row's `time` (time.time() in the committing daemon, inside the commit) against the wall clock at
which the other client's `gemini/conversationChanged` arrives; the originating client's
`$/progress` pieces against the other client's `gemini/turnProgress`, both on this process's
monotonic clock. Idle CPU is utime + stime from /proc/PID/stat over a quiet interval.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
from pathlib import Path

from gemini_chat.emulator import Emulator
from gemini_chat.terminal.rpc import JsonObject, RpcClient

from .common import Metric, Section, at_most, make_folders, running_daemon, stats_ms

WAIT = 10.0  # seconds a notification may take before the bench gives up
PIECES = 20  # pieces of each mirrored reply
PIECE_DELAY = 0.04  # seconds between them: a reply streaming at a brisk pace
CHANGE_GOAL_MS = 150
MIRROR_GOAL_MS = 300
IDLE_GOAL_PCT = 0.5


class Seen:
    """Notifications of one client, as (arrival, params), with a wake-up for each."""

    def __init__(self, client: RpcClient, method: str, clock: str) -> None:
        self.items: list[tuple[float, JsonObject]] = []
        self._clock = time.time if clock == "wall" else time.monotonic
        self._event = asyncio.Event()
        client.on_notification(method, self._add)

    def _add(self, params: JsonObject) -> None:
        self.items.append((self._clock(), params))
        self._event.set()

    async def until(self, found: object, what: str) -> tuple[float, JsonObject]:
        """The first notification `found(params)` accepts, waiting up to WAIT seconds."""
        deadline = time.monotonic() + WAIT
        while True:
            hit = next((i for i in self.items if found(i[1])), None)  # type: ignore[operator]
            if hit is not None:
                return hit
            self._event.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {what} within {WAIT:g} s")
            await asyncio.wait_for(self._event.wait(), left)


def _feed_times(db_path: Path, reason: str) -> dict[int, float]:
    """Commit time of each turn in the change feed (time.time() inside the transaction)."""
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute("SELECT turn, time FROM changes WHERE reason = ?", (reason,)).fetchall()
    finally:
        db.close()
    return {int(turn): float(t) for turn, t in rows}


async def _change_seen(
    a: RpcClient, b: RpcClient, folder: Path, data_dir: Path, repeats: int
) -> list[float]:
    """Seconds from each of A's commits to B's client receiving conversationChanged for it."""
    seen = Seen(b, "gemini/conversationChanged", "wall")
    arrivals: dict[int, float] = {}
    for i in range(repeats):
        # A random phase against the watcher's poll timer, as a person's turns would have.
        await asyncio.sleep(random.uniform(0, 0.1))
        result = await a.request("gemini/chat", {"workspace": folder.as_uri(), "message": f"q{i}"})
        turn = result["turn"] if isinstance(result, dict) else None

        def is_turn(p: JsonObject, turn: object = turn) -> bool:
            return p.get("reason") == "turn" and p.get("turn") == turn

        arrivals[int(str(turn))] = (await seen.until(is_turn, f"conversationChanged {turn}"))[0]
    committed = _feed_times(data_dir / "conversations.sqlite3", "turn")
    return [arrivals[t] - committed[t] for t in sorted(arrivals)]


async def _mirror_lag(
    emu: Emulator, a: RpcClient, b: RpcClient, folder: Path, repeats: int
) -> list[float]:
    """For each piece A's client got: seconds until B's client shows a reply at least that long."""
    mirrored = Seen(b, "gemini/turnProgress", "mono")
    own: dict[str, list[tuple[float, int]]] = {}

    def on_piece(params: JsonObject) -> None:
        value = params.get("value")
        text = value.get("text") if isinstance(value, dict) else None
        if isinstance(text, str):
            pieces = own.setdefault(str(params.get("token")), [])
            pieces.append((time.monotonic(), (pieces[-1][1] if pieces else 0) + len(text)))

    a.on_notification("$/progress", on_piece)
    lags: list[float] = []
    for i in range(repeats):
        chunks = [f"piece {n} of reply {i}; " for n in range(PIECES)]
        emu.script({"chunks": chunks, "chunkDelay": PIECE_DELAY})
        mirrored.items.clear()
        token = f"mirror-{i}"
        params: JsonObject = {"workspace": folder.as_uri(), "message": f"stream {i}"}
        result = await a.request("gemini/chat", {**params, "partialResultToken": token})
        turn = result["turn"] if isinstance(result, dict) else None
        await mirrored.until(
            lambda p, turn=turn: p.get("state") == "finished" and p.get("turn") == turn,
            "a mirrored finish",
        )
        shown = [(t, len(str(p.get("text", "")))) for t, p in mirrored.items if "text" in p]
        for at, length in own[token]:
            first = min((t for t, n in shown if n >= length), default=None)
            if first is None:
                raise RuntimeError("the mirrored reply never reached a piece the editor showed")
            lags.append(max(0.0, first - at))
    return lags


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _idle_cpu(emu: Emulator, tmp: Path, folders: int, seconds: float) -> float:
    """Percent of one core a daemon with `folders` folders open uses while nothing happens."""
    open_folders = make_folders(tmp / "idle-folders", folders)
    async with running_daemon(emu.url, tmp / "idle-data", open_folders) as client:
        for f in open_folders:  # every folder known to the core and its watcher
            await client.request("gemini/history", {"workspace": f.as_uri()})
        await asyncio.sleep(1.0)  # let start-up work settle
        pid = client.process.pid
        cpu, wall = _cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(seconds)
        return 100 * (_cpu_seconds(pid) - cpu) / (time.monotonic() - wall)


async def measure(
    emu: Emulator, tmp: Path, repeats: int, streams: int, idle_folders: int, idle_seconds: float
) -> Section:
    """Change seen and mirror lag across two daemons on one folder; then idle CPU."""
    (folder,) = make_folders(tmp / "live-ws", 1)
    data_dir = tmp / "live-data"
    async with (
        running_daemon(emu.url, data_dir, [folder]) as a,
        running_daemon(emu.url, data_dir, [folder]) as b,
    ):
        await b.request("gemini/status", {})  # both cores (and watchers) loaded
        await a.request("gemini/status", {})
        changes = await _change_seen(a, b, folder, data_dir, repeats)
        lags = await _mirror_lag(emu, a, b, folder, streams)
    idle = await _idle_cpu(emu, tmp, idle_folders, idle_seconds)
    c, m = stats_ms(changes), stats_ms(lags)
    metrics = [
        Metric(
            "change_seen",
            "change seen by another daemon's client",
            c.p50,
            "ms",
            c.p90,
            f"<= {CHANGE_GOAL_MS} ms",
            at_most(c.p50, CHANGE_GOAL_MS) and at_most(c.p90, CHANGE_GOAL_MS),
            f"after commit; {c.n} turns; p50 and p90 checked",
        ),
        Metric(
            "mirror_lag",
            "mirrored piece lag (other editor)",
            m.p50,
            "ms",
            m.p90,
            f"<= {MIRROR_GOAL_MS} ms",
            at_most(m.p90, MIRROR_GOAL_MS),
            f"{m.n} pieces of {streams} streamed turns; p90 checked",
        ),
        Metric(
            "idle_cpu",
            f"idle CPU, watching daemon, {idle_folders} folders",
            idle,
            "%",
            None,
            f"< {IDLE_GOAL_PCT} % of a core",
            idle < IDLE_GOAL_PCT,
            f"over {idle_seconds:g} s, /proc/PID/stat",
        ),
    ]
    details: dict[str, object] = {
        "change_seen_s": changes,
        "mirror_lag_s": lags,
        "idle_cpu_pct": idle,
        "idle_seconds": idle_seconds,
    }
    return Section("live", metrics, details)
