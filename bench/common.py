"""What every measurement shares: paths, the bench key, statistics and result rows."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gemini_chat.terminal.rpc import JsonObject, RpcClient

REPO = Path(__file__).resolve().parent.parent
SERVER = str(Path(sys.executable).parent / "gemini-chat-server")
BENCH_KEY = "bench-key-5d2e8b"
"""The key the bench's emulators accept; redacted from anything the daemon writes."""
MODEL = "gemini-2.5-flash"


@dataclass(frozen=True)
class Stats:
    """The median and 90th percentile of some samples, in milliseconds."""

    p50: float
    p90: float
    n: int


def stats_ms(seconds: Sequence[float]) -> Stats:
    """Median and p90 (nearest rank) of durations given in seconds, as milliseconds."""
    if not seconds:
        raise ValueError("no samples")
    ordered = sorted(seconds)
    rank = max(0, min(len(ordered) - 1, round(0.9 * len(ordered) + 0.5) - 1))
    return Stats(statistics.median(ordered) * 1e3, ordered[rank] * 1e3, len(ordered))


@dataclass
class Metric:
    """One row of the results table: a value, its unit, and its target when it has one."""

    key: str
    label: str
    value: float
    unit: str
    p90: float | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""

    def as_json(self) -> dict[str, object]:
        """The row as JSON."""
        return asdict(self)


@dataclass
class Section:
    """What one measurement module produced: table rows and raw details for the JSON."""

    name: str
    metrics: list[Metric] = field(default_factory=list[Metric])
    details: dict[str, object] = field(default_factory=dict[str, object])


def at_most(value: float, limit: float) -> bool:
    """Whether `value` meets an upper-bound target."""
    return value <= limit


def daemon_env(base_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of a daemon pointed at `base_url`, storing in `data_dir`."""
    drop = {"GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GEMINI_CHAT_DATA_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        GEMINI_API_KEY=BENCH_KEY,
        GEMINI_BASE_URL=base_url,
        GEMINI_CHAT_DATA_DIR=str(data_dir),
    )
    return env


def initialize_params(folders: Sequence[Path]) -> JsonObject:
    """`initialize` params naming every folder as a workspace folder."""
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "gemini-chat-bench"},
        "rootUri": folders[0].as_uri() if folders else None,
        "workspaceFolders": [{"uri": f.as_uri(), "name": f.name} for f in folders],
        "capabilities": {"window": {"workDoneProgress": True}},
    }


def make_folders(root: Path, count: int) -> list[Path]:
    """`count` empty workspace folders under `root`."""
    folders = [root / f"ws{i:03d}" for i in range(count)]
    for f in folders:
        f.mkdir(parents=True, exist_ok=True)
    return folders


@asynccontextmanager
async def running_daemon(
    base_url: str, data_dir: Path, folders: Sequence[Path]
) -> AsyncGenerator[RpcClient]:
    """A gemini-chat-server process, initialized with `folders`; shut down on leaving."""
    client = await RpcClient.spawn([SERVER], env=daemon_env(base_url, data_dir), redact=[BENCH_KEY])
    try:
        await client.request("initialize", initialize_params(folders))
        await client.notify("initialized", {})
        yield client
    finally:
        await client.close()


def rss_kib(pid: int, field_name: str = "VmRSS") -> int:
    """A process's resident set size (or another /proc status field) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} in /proc/{pid}/status")


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    return os.getloadavg()


def load_text(load: tuple[float, float, float]) -> str:
    """Load averages as printed: "0.52 0.61 0.70"."""
    return " ".join(f"{x:.2f}" for x in load)


class Timer:
    """perf_counter laps: `with Timer() as t: ...; t.seconds`."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.start
