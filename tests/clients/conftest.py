"""Fixtures of the Neovim tests: Neovim in the workspace, and a second editor on its folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .nvim_helpers import NvimChat, OtherEditor, other_editor, start_nvim


@pytest.fixture
def nvim(server_env: dict[str, str], workspace: Path, tmp_path: Path) -> Iterator[NvimChat]:
    """Neovim in the workspace, its daemon pointed at the emulator."""
    with start_nvim(server_env, workspace, tmp_path / "nvim") as chat:
        yield chat


@pytest.fixture
def other(server_env: dict[str, str], workspace: Path) -> Iterator[OtherEditor]:
    """A second editor (its own daemon) on the same folder and store."""
    with other_editor(server_env, workspace) as editor:
        yield editor
