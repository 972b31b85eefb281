"""The REPL's line editor: prompt_toolkit with history, completion and multi-line questions.

Enter sends; Alt-Enter or Ctrl-J starts a new line (so does a line ending in `\\`); a paste keeps
its lines. History is kept across sessions in one file, multi-line questions whole. Output
that arrives while the prompt is up (another editor's turn, a daemon warning) takes the prompt
down only while the line is empty: typing is never interrupted, and it shows once the line is
sent or cleared.
"""

from __future__ import annotations

import contextlib
import os
import sys
import termios
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .completion import complete, completer
from .structured import SchemaFiles

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.formatted_text import AnyFormattedText
    from prompt_toolkit.key_binding import KeyPressEvent

WAITING = "another editor's turn waits: it shows when this line is sent or cleared"


class Woken(Exception):
    """The prompt was taken down, empty, to show output that arrived meanwhile."""


def history_path() -> Path:
    """Where questions are remembered: beside the daemon's store (GEMINI_CHAT_DATA_DIR), else the
    platform's state folder."""
    if folder := os.environ.get("GEMINI_CHAT_DATA_DIR"):
        return Path(folder) / "terminal-history"
    from platformdirs import user_state_dir

    return Path(user_state_dir("gemini-chat", appauthor=False)) / "terminal-history"


class LineEditor:
    """`read()` a question; `wake()` (any thread) to show output while the line is empty."""

    def __init__(
        self, prompt: str, more: str, workspace: Path, models: Callable[[bool], list[str]]
    ) -> None:
        self.prompt, self.more = prompt, more
        self.workspace, self.models = workspace, models
        self.image_models: Callable[[bool], list[str]] = lambda _wait: []  # for /image --model
        self.schemas: Callable[[bool], list[str]] = SchemaFiles(workspace)  # for /json
        self.pending: Callable[[], bool] = lambda: False  # whether output waits to be shown
        self._lock = threading.Lock()
        self._session: PromptSession[str] | None = None
        self._failure: BaseException | None = None

    def _build(self) -> PromptSession[str]:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.formatted_text import ANSI
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.styles import Style

        path = history_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)  # questions may hold things worth keeping private
        session: PromptSession[str] = PromptSession(
            lambda: ANSI(self.prompt),  # read each time: /json changes it
            multiline=True,
            prompt_continuation=lambda _width, _line, _soft: ANSI(self.more),
            history=FileHistory(str(path)),
            completer=completer(self),
            complete_while_typing=True,
            key_bindings=self._bindings(),
            erase_when_done=True,  # the REPL prints the question itself, after what came first
            enable_open_in_editor=True,
            bottom_toolbar=self._toolbar,
            style=Style.from_dict({"bottom-toolbar": "noreverse"}),
        )
        session.default_buffer.on_text_changed += self._text_changed
        return session

    def _toolbar(self) -> AnyFormattedText:
        """Under the line while output waits for it: say so, and what lets it through."""
        if not self.pending():
            return None
        from prompt_toolkit.formatted_text import ANSI

        return ANSI(f"\x1b[2m{WAITING}\x1b[0m")

    def _text_changed(self, _buffer: object) -> None:
        self._maybe_wake()  # the line was cleared: what waits can show now

    def _tab(self, event: KeyPressEvent) -> None:
        """Readline's Tab: the only completion at once, else the part all of them share and
        the menu for the rest; in the menu, the next one."""
        from prompt_toolkit.completion import Completion

        buffer = event.current_buffer
        state = buffer.complete_state
        if state is not None and state.current_completion is not None:
            buffer.complete_next()
            return
        found = list(complete(self, buffer.document.text_before_cursor, wait=True))
        if len(found) == 1:
            buffer.apply_completion(found[0])
        elif found:
            common = os.path.commonprefix([c.text for c in found])  # noqa: RUF071 (text)
            if len(common) > -found[0].start_position:
                buffer.apply_completion(Completion(common, found[0].start_position))
            buffer.start_completion()

    def _bindings(self) -> Any:
        from prompt_toolkit.key_binding import KeyBindings

        keys = KeyBindings()

        @keys.add("enter")
        def _send(event: KeyPressEvent) -> None:  # pyright: ignore[reportUnusedFunction]
            buffer = event.current_buffer
            state = buffer.complete_state
            if state is not None and state.current_completion is not None:
                buffer.apply_completion(state.current_completion)
            elif (
                buffer.document.text_before_cursor.endswith("\\")
                and buffer.document.is_cursor_at_the_end
            ):
                buffer.delete_before_cursor()
                buffer.insert_text("\n")
            else:
                buffer.validate_and_handle()

        @keys.add("escape", "enter")
        @keys.add("c-j")
        def _newline(event: KeyPressEvent) -> None:  # pyright: ignore[reportUnusedFunction]
            event.current_buffer.insert_text("\n")

        keys.add("tab")(self._tab)
        return keys

    def read(self) -> str:
        """The next question (KeyboardInterrupt: Ctrl-C; EOFError: Ctrl-D; Woken)."""
        if self._session is None:
            self._session = self._build()
        session = self._session
        try:
            return session.prompt(pre_run=self._started)
        finally:
            with self._lock:
                failure, self._failure = self._failure, None
            if failure is not None:
                raise failure

    def _started(self) -> None:
        """In the prompt's loop: output that came before it started wakes it at once."""
        assert self._session is not None
        loop = self._session.app.loop
        if loop is not None:
            loop.call_soon(self._maybe_wake)

    def wake(self, *, failure: BaseException | None = None) -> None:
        """From any thread: output waits (shown at once if the line is empty), or the daemon
        failed (the prompt ends with `failure`)."""
        with self._lock:
            if failure is not None:
                self._failure = failure
            app = self._session.app if self._session is not None else None
            loop = app.loop if app is not None and app.is_running else None
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop just closed: read() sees it
                loop.call_soon_threadsafe(self._maybe_wake)

    def _maybe_wake(self) -> None:
        """In the prompt's loop: take the prompt down if output waits and the line is empty."""
        session = self._session
        if session is None or not session.app.is_running or session.app.is_done:
            return
        with self._lock:
            failed = self._failure is not None
        if failed or (not session.default_buffer.text and self.pending()):
            session.app.exit(exception=Woken())
        else:
            session.app.invalidate()  # the toolbar says that something waits


@contextlib.contextmanager
def quiet_keys() -> Generator[None]:
    """While a reply streams, keys typed are neither echoed into it nor lost: the terminal
    holds them (Enter included) for the next prompt. Ctrl-C still interrupts."""
    fd = sys.stdin.fileno() if sys.stdin.isatty() else -1
    if fd < 0:
        yield
        return
    saved = termios.tcgetattr(fd)
    quiet = termios.tcgetattr(fd)
    quiet[0] &= ~termios.ICRNL  # Enter stays \r, as the line editor reads it
    quiet[3] &= ~(termios.ECHO | termios.ICANON)
    try:
        termios.tcsetattr(fd, termios.TCSANOW, quiet)  # NOW, not FLUSH: keep what was typed
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)
