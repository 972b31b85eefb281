"""`python -m bench [--quick] [--only NAME ...] [--out PATH]`: run, print the table, write JSON."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from gemini_chat.emulator import Emulator

from . import cancel, core, first_delta, live, memory, parallel, startup, turns
from .common import BENCH_KEY, REPO, Section, load_average, load_text
from .report import markdown_table, text_table, write_json

DEFAULT_OUT = REPO / "bench" / "results" / "latest.json"


@dataclass(frozen=True)
class Sizes:
    """How much work each measurement does; --quick shrinks them."""

    turns: int = 200
    deltas: int = 50
    core_sizes: tuple[int, ...] = (10, 1_000, 10_000)
    core_iterations: int = 30
    starts: int = 10
    uncached_starts: int = 3
    workspaces: int = 100
    ws_turns: int = 100
    parallel: int = 50
    parallel_rounds: int = 3
    cancels: int = 10
    live_turns: int = 40
    live_streams: int = 4
    idle_folders: int = 10
    idle_seconds: float = 20.0


QUICK = Sizes(
    turns=12,
    deltas=5,
    core_sizes=(10, 100, 1_000),
    core_iterations=3,
    starts=2,
    uncached_starts=0,
    workspaces=5,
    ws_turns=5,
    parallel_rounds=1,
    cancels=2,
    live_turns=4,
    live_streams=1,
    idle_seconds=2.0,
)


Step = Callable[[Emulator, Path, Sizes], Awaitable[Section]]
STEPS: dict[str, Step] = {
    "turns": lambda emu, tmp, n: turns.measure(emu, tmp, n.turns),
    "first_delta": lambda _emu, tmp, n: first_delta.measure(tmp, n.deltas),
    "core": lambda _emu, tmp, n: core.measure(tmp, n.core_sizes, n.core_iterations),
    "start": lambda emu, tmp, n: startup.measure(emu.url, tmp, n.starts, n.uncached_starts),
    "memory": lambda emu, tmp, n: memory.measure(emu, tmp, n.workspaces, n.ws_turns),
    "parallel": lambda emu, tmp, n: parallel.measure(emu, tmp, n.parallel, n.parallel_rounds),
    "cancel": lambda emu, tmp, n: cancel.measure(emu, tmp, n.cancels),
    "live": lambda emu, tmp, n: live.measure(
        emu, tmp, n.live_turns, n.live_streams, n.idle_folders, n.idle_seconds
    ),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The runner's command line."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="few iterations: proves it runs")
    p.add_argument("--only", nargs="+", choices=list(STEPS), help="run only these measurements")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON results file")
    p.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    return p.parse_args(argv)


async def run(names: list[str], sizes: Sizes, tmp: Path) -> list[Section]:
    """Run the chosen measurements in order against one in-process emulator."""
    sections: list[Section] = []
    with Emulator(api_keys=[BENCH_KEY]) as emu:
        for name in names:
            emu.clear()
            started = time.perf_counter()
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            section = await STEPS[name](emu, tmp / name, sizes)
            section.details["elapsed_s"] = time.perf_counter() - started
            sections.append(section)
    return sections


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and report."""
    args = parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    names = args.only or list(STEPS)
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="gemini-chat-bench-") as tmp:
        root = Path(tmp)
        # Daemons start as after a normal install, with cached bytecode. This sandbox sets
        # PYTHONDONTWRITEBYTECODE, so every start would compile pygls/lsprotocol afresh; a
        # private prefix keeps the cache out of the shared .venv.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        for name in names:
            (root / name).mkdir()
        sections = asyncio.run(run(names, sizes, root))
    meta: dict[str, object] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": args.quick,
        "sizes": asdict(sizes),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": load_before,
        **source_info(),
        "load_after": load_average(),
    }
    print(text_table(sections))
    if args.markdown:
        print()
        print(markdown_table(sections))
    print(f"\nload average before {load_text(load_before)}, after {load_text(load_average())}")
    write_json(args.out, meta, sections)
    print(f"results: {args.out}")
    return 0


def source_info() -> dict[str, object]:
    """Which daemon code was measured: the commit, uncommitted server files, the import path."""
    import gemini_chat

    def git(*args: str) -> str:
        run = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return run.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "server_uncommitted": git("status", "--porcelain", "--", "server").splitlines(),
        "gemini_chat": str(Path(gemini_chat.__file__).parent),
    }


if __name__ == "__main__":
    sys.exit(main())
