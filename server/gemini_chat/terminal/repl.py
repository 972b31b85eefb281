"""The terminal client's interactive loop: the prompt, slash commands, Ctrl-C and Ctrl-D."""

from __future__ import annotations

import concurrent.futures
import importlib
import signal
import sys
import threading

from .rpc import RpcClient, RpcError
from .screen import Screen
from .session import Session

HELP = """\
Type a question and press Enter (end a line with \\ to continue it on the next).
  /history         show this folder's conversation
  /reset           start a fresh conversation (the old one is archived)
  /model           list the models; * marks the one in use
  /model NAME      use NAME in this folder from now on (remembered, in every editor)
  /model default   forget the folder's model (back to the gemini.model setting)
  /help            this text
  /quit            leave (or Ctrl-D)
Ctrl-C stops a reply that is streaming; at the prompt it clears the line."""


class Repl:
    """The interactive loop: `you>` prompt, slash commands, Ctrl-C and Ctrl-D handling."""

    def __init__(self, session: Session, screen: Screen) -> None:
        self.session, self.screen = session, screen
        self.readline = _load_readline()
        style = screen.style
        self.prompt = self._prompt(style.you("you>") + " ")
        self.more = self._prompt(style.dim("...>") + " ")
        self._lock = threading.Lock()
        self._reading = False
        self._start_failed = False
        self._main = threading.get_ident()

    def _prompt(self, styled: str) -> str:
        if not self.screen.style.enabled or not self.readline:
            return styled
        # \001/\002 tell readline the escapes take no columns, so editing stays aligned.
        return styled.replace("\x1b[", "\001\x1b[").replace("m", "m\002")

    def watch(self, started: concurrent.futures.Future[RpcClient]) -> None:
        """Interrupt the prompt if the daemon, starting meanwhile, fails: say why at once."""
        started.add_done_callback(self._on_started)

    def _on_started(self, future: concurrent.futures.Future[RpcClient]) -> None:
        if future.cancelled() or future.exception() is None:
            return
        with self._lock:
            self._start_failed = True
            if self._reading:  # input() only wakes up for a signal delivered to its thread
                signal.pthread_kill(self._main, signal.SIGINT)

    def run(self) -> int:
        """Read questions until /quit, Ctrl-D or two Ctrl-Cs; the exit status."""
        interrupted = False
        while True:
            try:
                line = self._read()
            except EOFError:
                self.screen.line()
                return 0
            except KeyboardInterrupt:
                self.screen.line()
                if self._start_failed:
                    self.session.client()  # raises the StartError saying why
                if interrupted:
                    return 0
                interrupted = True
                self.screen.line(self.screen.style.dim("(Ctrl-C again or Ctrl-D to quit)"))
                continue
            interrupted = False
            if line.strip() and self.handle(line.strip()) == "quit":
                return 0

    def _read(self) -> str:
        self.screen.flush_notices()
        with self._lock:
            if self._start_failed:
                self.session.client()
            self._reading = self.screen.prompting = True
        try:
            line = input(self.prompt)
            while line.endswith("\\"):
                line = line[:-1] + "\n" + input(self.more)
            return line
        finally:
            with self._lock:
                self._reading = self.screen.prompting = False

    def handle(self, line: str) -> str | None:
        """Run one command or question; "quit" to leave."""
        self.screen.line()
        if not line.startswith("/") or line.startswith("//"):
            self.session.ask(line[1:] if line.startswith("//") else line)
        else:
            name, _, arg = line.partition(" ")
            if name in ("/quit", "/exit", "/q"):
                return "quit"
            self.command(name, arg.strip())
        self.screen.line()
        return None

    def command(self, name: str, arg: str) -> None:
        """A slash command; errors from the daemon are shown, not raised."""
        try:
            if name == "/help":
                self.screen.line(HELP)
            elif name == "/history":
                self.session.history()
            elif name == "/reset":
                self.session.reset()
            elif name == "/model" and arg:
                self.session.set_model(arg)
            elif name == "/model":
                self.session.models()
            else:
                self.screen.error(f"unknown command {name}: /help lists them (// sends a / line)")
        except RpcError as exc:
            self.screen.error(f"error: {exc.message}")
        except KeyboardInterrupt:
            self.screen.line(self.screen.style.dim("(interrupted)"))


def _load_readline() -> bool:
    """Import readline for line editing and history, when stdin is a terminal and it exists."""
    if not sys.stdin.isatty():
        return False
    try:
        importlib.import_module("readline")  # importing it is what makes input() use it
    except ImportError:
        return False
    return True
