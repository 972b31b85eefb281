"""A tmux server on a private socket, for driving the terminal client as a person does and
reading its screen with capture-pane."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import REPO, tool
from polling import until, wait_until

DEADLINE = 30.0
EXITED = "[gemini-chat exited "
"""What the pane shows once the client ends (its exit status follows, then `]`)."""
WIDTH = 80
"""The pane's columns unless a test asks for more."""
GEMINI_CHAT = REPO / ".venv" / "bin" / "gemini-chat"
"""The terminal client's executable."""

Check = str | Callable[[str], bool]
"""What a screen must show: a substring, or a predicate on the whole screen."""


class Tmux:
    """One tmux server on a private socket running `gemini-chat` in a pane 80 (or `width`)
    columns wide and 40 lines tall."""

    def __init__(self, socket: Path, width: int = WIDTH) -> None:
        self.binary = tool("tmux", "apt-get install tmux")
        self.socket = socket
        self.width = width

    def cmd(self, *args: str) -> str:
        """Run a tmux command against our server; its stdout."""
        result = subprocess.run(
            [self.binary, "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return result.stdout

    def start(self, command: str, env: dict[str, str], cwd: Path) -> None:
        """Start `command` in a fresh session; the pane keeps its last screen after it ends."""
        # The shell must outlive the Ctrl-Cs meant for the client (`trap :`, reset in the child),
        # and `exec cat` keeps the pane and its last screen open after the exit line.
        shell = f'trap : INT; {command}; echo "{EXITED}$?]"; exec cat'
        session = ["new-session", "-d", "-s", "chat", "-x", str(self.width), "-y", "40"]
        session += ["-c", str(cwd)]
        subprocess.run(
            [self.binary, "-S", str(self.socket), *session, "sh", "-c", shell],
            env={**env, "TERM": "xterm-256color"},
            check=True,
            timeout=10,
        )

    def type(self, text: str) -> None:
        """Type `text` and press Enter."""
        self.cmd("send-keys", "-t", "chat", "-l", text)
        self.cmd("send-keys", "-t", "chat", "Enter")

    def keys(self, *keys: str) -> None:
        """Press keys by tmux name (C-c, C-d)."""
        self.cmd("send-keys", "-t", "chat", *keys)

    def screen(self) -> str:
        """Everything the pane shows, scrollback included, without colours."""
        return self.cmd("capture-pane", "-p", "-J", "-t", "chat", "-S", "-")

    def raw_screen(self) -> str:
        """The visible pane with its colour escapes."""
        return self.cmd("capture-pane", "-p", "-e", "-t", "chat")

    def wait_for(self, check: Check, what: str = "") -> str:
        """Poll the screen until `check` (a substring or predicate) holds; the screen then."""
        look = _Look(self, check)
        wait_until(look, what or repr(check), DEADLINE, detail=look.detail)
        return look.screen

    def stop(self) -> None:
        """Kill the tmux server and everything in it."""
        subprocess.run(
            [self.binary, "-S", str(self.socket), "kill-server"], capture_output=True, check=False
        )


class _Look:
    """One look at the pane per call, for `check`: what `wait_for` and `shows` poll with."""

    def __init__(self, tmux: Tmux, check: Check) -> None:
        self.tmux = tmux
        self.test = (lambda s: check in s) if isinstance(check, str) else check
        self.screen = ""

    def __call__(self) -> bool:
        self.screen = self.tmux.screen()
        return self.test(self.screen)

    def detail(self) -> str:
        """The last screen seen, for a failure."""
        return f"screen:\n{self.screen}"


async def shows(tmux: Tmux, check: Check, what: str = "") -> str:
    """`Tmux.wait_for` for coroutines (the event loop runs between looks); the screen then."""
    look = _Look(tmux, check)
    await until(look, what or repr(check), DEADLINE, detail=look.detail)
    return look.screen


def at_prompt(text: str = "") -> Callable[[str], bool]:
    """The pane ends with the prompt holding `text`."""
    return lambda s: s.rstrip().endswith(f"you> {text}".rstrip())


async def start_repl(tmux: Tmux, env: dict[str, str], workspace: Path, args: str = "") -> None:
    """`gemini-chat` in `workspace` with `args`, at its first prompt."""
    tmux.start(f"{shlex.quote(str(GEMINI_CHAT))} {args}", env, workspace)
    await shows(tmux, at_prompt(), "the first prompt")
