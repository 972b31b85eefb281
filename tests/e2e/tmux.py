"""A tmux server on a private socket, for driving the terminal client as a person does and
reading its screen with capture-pane."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import tool
from polling import wait_until

DEADLINE = 30.0
EXITED = "[gemini-chat exited "
"""What the pane shows once the client ends (its exit status follows, then `]`)."""
WIDTH = 80
"""The pane's columns unless a test asks for more."""


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

    def wait_for(self, check: str | Callable[[str], bool], what: str = "") -> str:
        """Poll the screen until `check` (a substring or predicate) holds; the screen then."""
        test = (lambda s: check in s) if isinstance(check, str) else check
        last = [""]

        def shows() -> bool:
            last[0] = self.screen()
            return test(last[0])

        wait_until(shows, what or repr(check), DEADLINE, detail=lambda: f"screen:\n{last[0]}")
        return last[0]

    def stop(self) -> None:
        """Kill the tmux server and everything in it."""
        subprocess.run(
            [self.binary, "-S", str(self.socket), "kill-server"], capture_output=True, check=False
        )
