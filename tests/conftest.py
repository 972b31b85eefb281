"""Fixtures shared by every test: the emulator, a data dir, a workspace, the daemon's env."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gemini_chat.emulator import Emulator

EMULATOR_KEY = "emu-test-key-7c1f9a"
"""The API key the test emulator accepts; tests assert it never leaks."""

REPO = Path(__file__).resolve().parent.parent


def tool(name: str, install_hint: str) -> str:
    """Return the path of a required tool, or fail (never skip) saying how to install it.

    Looks in the project's venv, then in .tools/ (where scripts/ensure-uv.sh puts uv on a
    machine that has none), then on PATH."""
    for folder in (REPO / ".venv" / "bin", REPO / ".tools" / "bin"):
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {install_hint}", pytrace=False)
    return found


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A real Gemini API emulator on 127.0.0.1, accepting EMULATOR_KEY."""
    emu = Emulator(api_keys=[EMULATOR_KEY])
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A private conversation store folder."""
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace folder with a small source file."""
    ws = tmp_path / "project"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "app.py").write_text("def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n")
    return ws


@pytest.fixture
def server_env(emulator: Emulator, data_dir: Path) -> dict[str, str]:
    """The environment for a gemini-chat-server process pointed at the emulator."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"}
    }
    env.update(
        GEMINI_API_KEY=EMULATOR_KEY,
        GEMINI_BASE_URL=emulator.url,
        GEMINI_CHAT_DATA_DIR=str(data_dir),
        PATH=f"{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    return env
