"""Fixtures for end-to-end tests of the real daemon process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .daemon import Daemon, start_daemon
from .tmux import WIDTH, Tmux

StartDaemon = Callable[..., Awaitable[Daemon]]


@pytest.fixture
async def daemons(server_env: dict[str, str], workspace: Path) -> AsyncIterator[StartDaemon]:
    """Start daemons (default: the `workspace` folder, emulator env); all stopped afterwards."""
    started: list[Daemon] = []

    async def start(
        folders: list[Path] | None = None, env: dict[str, str] | None = None, **kw: Any
    ) -> Daemon:
        d = await start_daemon(env or server_env, [workspace] if folders is None else folders, **kw)
        started.append(d)
        return d

    yield start
    for d in started:
        await d.stop()


@pytest.fixture
async def daemon(daemons: StartDaemon) -> Daemon:
    """One daemon on the `workspace` folder, against the emulator."""
    return await daemons()


@pytest.fixture
def tmux_width() -> int:
    """The columns of the `tmux` pane (a module whose screens need more overrides this)."""
    return WIDTH


@pytest.fixture
def tmux(tmp_path: Path, tmux_width: int) -> Iterator[Tmux]:
    """A private tmux server, `tmux_width` columns wide, killed afterwards."""
    mux = Tmux(tmp_path / "tmux.sock", width=tmux_width)
    try:
        yield mux
    finally:
        mux.stop()
