"""`:GeminiChatInstall` (lazy.nvim's `build`) in real Neovim 0.11, installing the daemon for real
from this checkout: into a private venv with the user's Python when there is neither uv nor
pipx, with `uv tool install` into a temporary UV_TOOL_DIR / UV_TOOL_BIN_DIR, and what it says
when nothing can install it or the installer fails. After an install the plugin finds the
server off PATH and chats through it against the emulator."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from conftest import REPO, tool
from gemini_chat.emulator import Emulator

from .nvim_helpers import NvimChat, start_nvim

UV_HINT = "run scripts/ensure-uv.sh (make setup does)"

PYTHON = Path(sys.base_prefix) / "bin" / "python3"
"""The Python this test runs on, outside any venv: the "user's Python" of the venv way."""


def tools_dir(tmp_path: Path, *names: str) -> Path:
    """A folder holding only the named tools (symlinks), to be the whole PATH."""
    folder = tmp_path / "tools"
    folder.mkdir()
    for name in names:
        found = str(PYTHON) if name == "python3" else tool(name, UV_HINT)
        (folder / name).symlink_to(found)
    return folder


def install_env(server_env: Mapping[str, str], tmp_path: Path, path: Path) -> dict[str, str]:
    """The daemon's env with PATH reduced to `path`, a fresh HOME (no ~/.local/bin of the
    machine's), and the machine's uv and pip caches (Neovim's XDG_CACHE_HOME is a fresh one)."""
    home = tmp_path / "home"
    home.mkdir()
    real_home = Path.home()
    return {
        **server_env,
        "PATH": str(path),
        "HOME": str(home),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(real_home / ".cache" / "uv")),
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(real_home / ".cache" / "pip")),
    }


def messages(nvim: NvimChat) -> list[str]:
    """The notifications so far."""
    return [n["msg"] for n in nvim.notes()]


def chat_through_it(nvim: NvimChat, emulator: Emulator, server: Path) -> None:
    """A message goes through the installed server (the LSP client runs that program) and the
    emulator's reply shows."""
    emulator.script({"reply": "Served by the installed daemon."})
    nvim.cmd("GeminiChat hello")
    nvim.wait_text("Served by the installed daemon.")
    assert nvim.lua("return require('gemini_chat.client').get().config.cmd[1]") == str(server)


def test_without_uv_or_pipx_the_daemon_goes_into_a_private_venv(
    server_env: dict[str, str], workspace: Path, tmp_path: Path, emulator: Emulator
) -> None:
    """With only python3 on PATH, :GeminiChatInstall checks it is 3.11+, makes
    stdpath("data")/gemini-chat/venv and pip-installs this checkout into it, telling each step
    and pip's progress; without a UI it returns once done, with "installed gemini-chat-server
    <version> (<venv>/bin/..., not on PATH...)". :checkhealth finds the server there, and a
    message goes through it."""
    env = install_env(server_env, tmp_path, tools_dir(tmp_path, "python3"))
    with start_nvim(env, workspace, tmp_path / "nvim") as nvim:
        venv = Path(nvim.lua("return require('gemini_chat.install').venv()"))
        assert venv == tmp_path / "nvim" / "xdg_data_home" / "nvim" / "gemini-chat" / "venv"
        python = str(tmp_path / "tools" / "python3")
        nvim.cmd("GeminiChatInstall")
        said = messages(nvim)
        assert said[0].startswith(f"Gemini: installing the daemon (1/3): {python} -c import sys")
        assert f"Gemini: installing the daemon (2/3): {python} -m venv --clear {venv}…" in said
        pip = f"{venv}/bin/python -m pip install --upgrade {REPO}"
        assert f"Gemini: installing the daemon (3/3): {pip}…" in said
        progress = [m for m in said if m.startswith("Gemini: installing the daemon (3/3): ")]
        assert len(progress) >= 2, "pip's progress was not told"
        server = venv / "bin" / "gemini-chat-server"
        assert re.fullmatch(
            rf"Gemini: installed gemini-chat-server \S+ \({server}, not on PATH: the plugin "
            r"finds it there\)",
            said[-1],
        ), said[-1]
        assert {n["level"] for n in nvim.notes()} == {2}
        log = Path(nvim.lua("return require('gemini_chat.install').log_path()")).read_text()
        assert f"$ {pip}\n" in log and "Successfully installed" in log
        line = nvim.health_line("server")
        assert f"OK server {server} (not on PATH; found where :GeminiChatInstall" in line
        chat_through_it(nvim, emulator, server)


def test_with_uv_the_daemon_is_a_uv_tool(
    server_env: dict[str, str], workspace: Path, tmp_path: Path, emulator: Emulator
) -> None:
    """With uv on PATH, :GeminiChatInstall runs `uv tool install --force <checkout>` with the
    user's UV_TOOL_DIR / UV_TOOL_BIN_DIR; the server lands in that bin folder (not on PATH) and
    the plugin finds it there: :checkhealth says so and a message goes through it. Run again
    (lazy.nvim's build on an update), it installs again."""
    env = install_env(server_env, tmp_path, tools_dir(tmp_path, "uv", "python3"))
    tool_dir, bin_dir = tmp_path / "uv-tools", tmp_path / "uv-bin"
    env.update(UV_TOOL_DIR=str(tool_dir), UV_TOOL_BIN_DIR=str(bin_dir))
    with start_nvim(env, workspace, tmp_path / "nvim") as nvim:
        nvim.cmd("GeminiChatInstall")
        said = messages(nvim)
        assert said[0] == f"Gemini: installing the daemon (1/1): uv tool install --force {REPO}…"
        server = bin_dir / "gemini-chat-server"
        assert re.fullmatch(
            rf"Gemini: installed gemini-chat-server \S+ \({server}, not on PATH.*", said[-1]
        ), said
        assert (tool_dir / "gemini-chat").is_dir()
        assert f"OK server {server} (not on PATH" in nvim.health_line("server")
        chat_through_it(nvim, emulator, server)
        nvim.cmd("GeminiChatInstall")
        assert messages(nvim)[-1].startswith("Gemini: installed gemini-chat-server ")
        assert messages(nvim)[-1].endswith("; restart Neovim to use it")


def test_with_nothing_to_install_with_it_says_what_to_do(
    server_env: dict[str, str], workspace: Path, tmp_path: Path
) -> None:
    """With neither uv, pipx nor python3 on PATH: :GeminiChat says the daemon is missing and
    that :GeminiChatInstall installs it; :GeminiChatInstall says none was found and to install
    uv first (an ERROR, one line)."""
    env = install_env(server_env, tmp_path, tools_dir(tmp_path))
    with start_nvim(env, workspace, tmp_path / "nvim") as nvim:
        nvim.cmd("GeminiChat hello")
        note = nvim.wait_note("was not found on PATH")
        assert ":GeminiChatInstall installs it" in note["msg"]
        nvim.cmd("GeminiChatInstall")
        note = nvim.notes()[-1]
        assert note["msg"] == (
            "Gemini: cannot install the daemon: neither uv, pipx nor python3 was found: install "
            "uv (https://docs.astral.sh/uv/), which brings its own Python, then run "
            ":GeminiChatInstall again"
        )
        assert note["level"] == 4


def test_a_failing_installer_says_what_failed_and_where_its_output_is(
    server_env: dict[str, str], workspace: Path, tmp_path: Path
) -> None:
    """uv failing for real (its UV_TOOL_DIR cannot be created): one ERROR naming uv, its exit
    code and its last line, and the log file holding its whole output."""
    env = install_env(server_env, tmp_path, tools_dir(tmp_path, "uv", "python3"))
    env.update(UV_TOOL_DIR="/proc/no-such-dir", UV_TOOL_BIN_DIR=str(tmp_path / "bin"))
    with start_nvim(env, workspace, tmp_path / "nvim") as nvim:
        nvim.cmd("GeminiChatInstall")
        note = nvim.notes()[-1]
        log = nvim.lua("return require('gemini_chat.install').log_path()")
        assert note["level"] == 4
        assert note["msg"] == (
            "Gemini: installing the daemon failed: `uv` failed (exit 2): error: failed to create "
            f"directory `/proc/no-such-dir`: No such file or directory (os error 2). "
            f"Full output: {log}"
        )
        assert "failed to create directory `/proc/no-such-dir`" in Path(log).read_text()
