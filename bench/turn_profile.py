"""One turn end to end, profiled in process: `python -m bench.turn_profile [--turns N] [--stream]`.

The real daemon runs in this process: create_server, frames through FrameReader and
stdio's dispatch, pygls, the handlers, the core, the store, the folder lock, the journal, the
change-feed watcher and httpx. The emulator runs in a child process, so only the daemon's work
is on this process's threads. Each turn is a `gemini/chat` frame; its answer is taken from the
protocol's writer. The turns run once unprofiled (CPU time of this thread per turn, the honest
total) and once under cProfile, whose cumulative times are split into the stages below (a
stage is the cumulative time of its entry functions; "rest" is what no stage covers: asyncio,
pygls futures, the handler wrappers). Time in epoll (the loop waiting for the emulator) is
left out. cProfile adds well under a microsecond per Python call, so call-heavy stages (httpx,
filelock) read high; compare the stages with each other, and with the unprofiled total. On a
loaded machine a send() that wakes the emulator may be preempted, which shows as time in
httpx.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gemini_chat import stdio
from gemini_chat.framing import FrameReader
from gemini_chat.server import GeminiChatServer, create_server
from gemini_chat.terminal.rpc import encode_frame

from .common import BENCH_KEY, daemon_env, initialize_params

STAGES: dict[str, list[tuple[str, str]]] = {
    # stage: [(file suffix, function name)], entry functions that do not nest in each other
    "framing (FrameReader.read)": [("framing.py", "read")],
    "envelope.parse (json.loads, checks)": [("envelope.py", "parse")],
    "structure_message": [("server.py", "structure_message")],
    "dispatch (pygls; gemini/* the daemon's own)": [
        ("json_rpc.py", "handle_message"),
        ("server.py", "_run"),
    ],
    "params.parse (pydantic ChatParams)": [("params.py", "parse")],
    "turn_context (settings, GEMINI.md)": [("chat.py", "turn_context")],
    "user content + redaction": [("chat.py", "_user_content")],
    "folder lock (FolderLocks.hold)": [("folderlock.py", "hold")],
    "store.history": [("store.py", "history")],
    "journal.start": [("journal.py", "start")],
    "compaction check": [("compaction.py", "over_threshold")],
    "request body (turn.encode)": [("turn.py", "encode")],
    "reply parse (pydantic)": [("sse.py", "parse_body")],
    "GeminiClient.generate_content (httpx)": [("client.py", "generate_content")],
    "exchange: reply handling": [
        ("exchange.py", "absorb"),
        ("exchange.py", "finish"),
        ("exchange.py", "add_round"),
        ("exchange.py", "_keep_images"),
    ],
    "store.commit (+ journal clear, feed row)": [("store.py", "commit")],
    "answer (json.dumps + write)": [("server.py", "_send_data")],
    "watcher poll (background)": [("live.py", "poll")],
}
WAIT = 600.0
"""Seconds an answer may take (under valgrind a turn runs some fifty times slower)."""
SUBTRACT = {
    # A stage whose entry functions include another stage's: that one is taken out.
    "GeminiClient.generate_content (httpx)": ["reply parse (pydantic)"],
}


class Answers:
    """The protocol's writer: frames written by the daemon, an event per answer."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.event = asyncio.Event()

    def write(self, data: bytes) -> None:
        """A whole frame from the daemon."""
        self.frames.append(data)
        self.event.set()

    def close(self) -> None:
        """Nothing to flush."""

    async def answer(self, msg_id: int) -> dict[str, Any]:
        """The answer to `msg_id` (notifications on the way are dropped)."""
        needle = b'"id": %d' % msg_id
        while True:
            for i, frame in enumerate(self.frames):
                if needle in frame and b'"method"' not in frame:
                    del self.frames[: i + 1]
                    body = frame.split(b"\r\n\r\n", 1)[1]
                    return json.loads(body)
            self.frames.clear()
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), WAIT)


class Harness:
    """The daemon in this process, fed frames as its stdin reader would."""

    def __init__(self, server: GeminiChatServer, folder: Path) -> None:
        self.server = server
        self.folder = folder
        self.answers = Answers()
        server.protocol.set_writer(self.answers)  # pyright: ignore[reportUnknownMemberType]
        self.next_id = 0

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Frame, read, dispatch and await the answer of one request."""
        self.next_id += 1
        frame = encode_frame(
            {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        )
        body = FrameReader(io.BytesIO(frame)).read()
        assert isinstance(body, bytes)
        stdio._dispatch(self.server, body)  # pyright: ignore[reportPrivateUsage]
        answer = await self.answers.answer(self.next_id)
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        return answer["result"]

    async def turn(self, i: int, stream: bool) -> None:
        """One `gemini/chat` turn."""
        params: dict[str, Any] = {"workspace": self.folder.as_uri(), "message": f"Question {i}?"}
        if stream:
            params["partialResultToken"] = f"p{i}"
        await self.request("gemini/chat", params)


async def run(
    url: str, tmp: Path, turns: int, stream: bool, profiled: bool = True, cpu_clock: bool = False
) -> tuple[float, float, pstats.Stats | None]:
    """Warm up, then `turns` turns unprofiled and `turns` profiled; CPU and wall per turn."""
    folder = tmp / "ws"
    folder.mkdir()
    server = create_server(folder, daemon_env(url, tmp / "data"))
    h = Harness(server, folder)
    await h.request("initialize", dict(initialize_params([folder])))
    await h.request("gemini/status", {})  # the core is loaded
    for i in range(20):
        await h.turn(i, stream)
    await h.request("gemini/reset", {"workspace": folder.as_uri()})
    cpu, wall = time.thread_time(), time.perf_counter()
    for i in range(turns):
        await h.turn(i, stream)
    cpu, wall = (time.thread_time() - cpu) / turns, (time.perf_counter() - wall) / turns
    if not profiled:
        return cpu, wall, None
    await h.request("gemini/reset", {"workspace": folder.as_uri()})
    profile = cProfile.Profile(time.thread_time) if cpu_clock else cProfile.Profile()
    profile.enable()
    for i in range(turns):
        await h.turn(i, stream)
    profile.disable()
    return cpu, wall, pstats.Stats(profile)


def stage_table(stats: pstats.Stats, turns: int) -> list[tuple[str, float]]:
    """µs per turn of each stage (cumulative time of its entry functions), then the rest."""
    table: dict[str, float] = {}
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    waiting = sum(e[2] for (path, _, name), e in raw.items() if "epoll" in name)
    total = sum(entry[2] for entry in raw.values()) - waiting
    for stage, entries in STAGES.items():
        table[stage] = sum(
            entry[3]
            for (path, _, name), entry in raw.items()
            if any(path.endswith(f) and name == fn for f, fn in entries)
        )
    for stage, inner in SUBTRACT.items():
        table[stage] -= sum(table[s] for s in inner)
    covered = sum(table.values())
    rows = [(k, v * 1e6 / turns) for k, v in table.items()]
    rows.append(
        ("rest (asyncio, pygls futures, handler wrappers)", (total - covered) * 1e6 / turns)
    )
    rows.append(("total under cProfile", total * 1e6 / turns))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Start the emulator, profile the turns, print the stages."""
    p = argparse.ArgumentParser(prog="python -m bench.turn_profile", description=__doc__)
    p.add_argument("--turns", type=int, default=300, help="turns measured (each way)")
    p.add_argument("--stream", action="store_true", help="streamed turns (partialResultToken)")
    p.add_argument("--top", type=int, default=0, help="also print the N costliest functions")
    p.add_argument(
        "--no-profile", action="store_true", help="only the unprofiled turns (for callgrind)"
    )
    p.add_argument(
        "--cpu",
        action="store_true",
        help="profile by this thread's CPU time (a loaded machine's preemption left out; each"
        " call then costs more, so only compare runs made alike)",
    )
    args = p.parse_args(argv)
    emulator = subprocess.Popen(
        [str(Path(sys.executable).parent / "gemini-chat-emulator"), "--api-key", BENCH_KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().strip()
        with tempfile.TemporaryDirectory(prefix="gemini-chat-profile-") as tmp:
            cpu, wall, stats = asyncio.run(
                run(url, Path(tmp), args.turns, args.stream, not args.no_profile, args.cpu)
            )
    finally:
        emulator.terminate()
        emulator.wait()
    print(f"{args.turns} {'streamed' if args.stream else 'non-streamed'} turns, history 0..")
    print(f"unprofiled: {cpu * 1e6:.0f} µs CPU per turn (this thread), {wall * 1e3:.3f} ms wall")
    if stats is None:
        return 0
    for stage, micros in stage_table(stats, args.turns):
        print(f"{micros:9.1f} µs  {stage}")
    if args.top:
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
