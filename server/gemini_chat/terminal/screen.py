"""What the terminal client shows: colours, word wrapping while streaming, the status line."""

from __future__ import annotations

import os
import shutil
import textwrap
import threading
from typing import TextIO

from .rpc import JsonObject, as_object


class Style:
    """ANSI styling that collapses to plain text when colours are off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _sgr(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def dim(self, text: str) -> str:
        """Faint text (usage, thoughts, status)."""
        return self._sgr("2", text)

    def bold(self, text: str) -> str:
        """Bold text."""
        return self._sgr("1", text)

    def you(self, text: str) -> str:
        """The user's label colour."""
        return self._sgr("1;32", text)

    def model(self, text: str) -> str:
        """The model's label colour."""
        return self._sgr("1;34", text)

    def error(self, text: str) -> str:
        """Errors."""
        return self._sgr("31", text)

    def warn(self, text: str) -> str:
        """Warnings (a blocked turn: nothing broke, but nothing came back)."""
        return self._sgr("33", text)


class Wrapper:
    """Streams text to `out`, breaking lines at word boundaries within `width` (None: no wrap)."""

    def __init__(self, out: TextIO, width: int | None, style: Style) -> None:
        self.out = out
        self.width = width
        self.style = style
        self.col = 0
        self.word = ""  # the current word's characters not yet written
        self.begun = ""  # the current word's characters already written on this line
        self.spaces = ""
        self.line = ""
        self.in_fence = False

    def feed(self, text: str, dim: bool = False) -> None:
        """Write a piece of streamed text."""
        for ch in text:
            if ch == "\n":
                self._place(dim)
                self._newline()
                if self.line.lstrip().startswith("```"):
                    self.in_fence = not self.in_fence  # code keeps its own lines
                self.line = ""
            elif self.width is None or self.in_fence or self.line.startswith(("    ", "\t")):
                self._write(ch, dim)
                self.line += ch
            elif ch in " \t":
                self._place(dim)
                self.begun = ""
                self.spaces += ch
                self.line += ch
            else:
                self.word += ch
                self.line += ch
        # Show a partial word at once, so streaming feels live; it moves if it outgrows the line.
        self._place(dim)
        self.out.flush()

    def _write(self, text: str, dim: bool) -> None:
        self.out.write(self.style.dim(text) if dim else text)
        self.col += len(text)

    def _newline(self) -> None:
        self.out.write("\n")
        self.col, self.spaces, self.begun = 0, "", ""

    def _overflows(self, extra: int) -> bool:
        return self.width is not None and self.col + extra > self.width

    def _place(self, dim: bool) -> None:
        """Write the pending part of the current word, moving the word down if it overflows."""
        if not self.word:
            return
        if not self.begun:
            if self.col > 0 and self._overflows(len(self.spaces) + len(self.word)):
                self._newline()
            self._write(self.spaces + self.word, dim)
            self.spaces = ""
        elif self.col > len(self.begun) and self._overflows(len(self.word)):
            # Erase the written part (it fit when written) and start the whole word anew below.
            self.out.write("\b" * len(self.begun) + "\x1b[K")
            moved = self.begun
            self._newline()
            self._write(moved + self.word, dim)
            self.begun = moved
        else:
            self._write(self.word, dim)
        self.begun += self.word
        self.word = ""

    def prefix(self, styled: str, plain_len: int) -> None:
        """Start a line with a label that takes `plain_len` columns."""
        self.out.write(styled)
        self.col += plain_len

    def finish(self) -> None:
        """Flush what is pending and end the line."""
        self._place(False)
        if self.col > 0:
            self.out.write("\n")
        self.col, self.spaces, self.begun, self.line, self.in_fence = 0, "", "", "", False
        self.out.flush()


class Screen:
    """Everything the user sees; safe to call from the RPC thread and the main thread."""

    def __init__(self, out: TextIO, err: TextIO, *, label: bool) -> None:
        self.out, self.err = out, err
        self.tty = out.isatty()
        self.style = Style(self.tty and "NO_COLOR" not in os.environ)
        width = shutil.get_terminal_size().columns if self.tty else None
        self.wrapper = Wrapper(out, max(20, width - 1) if width else None, self.style)
        self.label = label
        self.lock = threading.RLock()
        self.status_shown = False
        self.status_text = ""  # the transient status to bring back after a note
        self.in_thoughts = False
        self.started = False
        self.err_open = False  # thoughts on stderr left a line unfinished
        self.prompting = False  # input() owns the terminal: notices wait for a safe moment
        self.pending: list[str] = []

    def line(self, text: str = "") -> None:
        """Print one line of our own."""
        with self.lock:
            self.clear_status()
            self.out.write(text + "\n")
            self.out.flush()

    def error(self, text: str, *, warn: bool = False) -> None:
        """Print an error (or warning) to stderr, on a line of its own (wrapped on a terminal)."""
        width = self.wrapper.width
        if width is not None and self.err.isatty():
            fill = textwrap.TextWrapper(width, break_long_words=False, break_on_hyphens=False).fill
            text = "\n".join(fill(line) or line for line in text.splitlines())
        with self.lock:
            self.clear_status()
            self.wrapper.finish()
            self.started = False
            self._err_line(self.style.warn(text) if warn else self.style.error(text))

    def status(self, text: str, *, transient: bool = False) -> None:
        """Show `text` on the one status line (tty), or as a line on stderr unless transient."""
        with self.lock:
            if self.started or (transient and not self.tty):
                return  # never scribble over a reply that is streaming
            if self.tty:
                self.out.write("\r\x1b[K" + self.style.dim(text))
                self.out.flush()
                self.status_shown = True
                self.status_text = text if transient else ""
            else:
                self.err.write(text + "\n")
                self.err.flush()

    def clear_status(self) -> None:
        """Erase the status line, if one is shown."""
        if self.status_shown:
            self.out.write("\r\x1b[K")
            self.status_shown = False

    def begin_reply(self) -> None:
        """Reset the per-reply state."""
        with self.lock:
            self.started = self.in_thoughts = self.err_open = False
            self.status_text = ""

    def note(self, text: str, *, dim: bool = True) -> None:
        """A line of our own inside a reply (a tool call, a compaction, an image), indented."""
        with self.lock:
            if not self.tty:
                self._err_line("  " + text)
                return
            status = self.status_text
            self.clear_status()
            self.wrapper.finish()  # a note never shares a line with streamed text
            self.out.write("  " + (self.style.dim(text) if dim else text) + "\n")
            self.out.flush()
            if status and not self.started:
                self.status(status, transient=True)  # still waiting: say so again

    def notice(self, text: str) -> None:
        """A message that may come at any time (the daemon's warnings): now, or after the prompt."""
        with self.lock:
            if self.prompting:
                self.pending.append(text)
            else:
                self.error(text)

    def flush_notices(self) -> None:
        """Print the notices that arrived while the prompt owned the terminal."""
        with self.lock:
            pending, self.pending = self.pending, []
            for text in pending:
                self.error(text)

    def _err_line(self, text: str) -> None:
        if self.err_open:
            self.err.write("\n")
            self.err_open = False
        self.err.write(text + "\n")
        self.err.flush()

    def _start(self) -> None:
        if not self.started:
            self.clear_status()
            self.started = True
            if self.label:
                self.wrapper.prefix(self.style.model("gemini>") + " ", len("gemini> "))

    def thought(self, delta: str) -> None:
        """Stream a piece of the model's thoughts, dimmed."""
        with self.lock:
            if not self.tty:
                self.err.write(delta)  # keep stdout for the reply itself
                self.err.flush()
                self.err_open = bool(delta) and not delta.endswith("\n")
                return
            self._start()
            self.in_thoughts = True
            self.wrapper.feed(delta, dim=True)

    def text(self, delta: str) -> None:
        """Stream a piece of the reply."""
        with self.lock:
            self._start()
            if self.in_thoughts:
                self.wrapper.finish()
                self.in_thoughts = False
            self.wrapper.feed(delta)

    def wrapped(self, text: str, *, dim: bool = False) -> None:
        """Print a paragraph of our own, wrapped on a terminal."""
        with self.lock:
            self.clear_status()
            self.wrapper.feed(text, dim=dim)
            self.wrapper.finish()

    def labelled(self, styled: str, plain_len: int, text: str, *, dim: bool = False) -> None:
        """Print `text` wrapped, after a label."""
        with self.lock:
            self.clear_status()
            self.wrapper.prefix(styled, plain_len)
            self.wrapper.feed(text, dim=dim)
            self.wrapper.finish()

    def end_reply(self, usage_line: str | None) -> None:
        """End the reply's line, then the dim usage line (to stderr when stdout is not a tty)."""
        with self.lock:
            self.clear_status()
            self.wrapper.finish()
            self.started = False
            if usage_line is None:
                return
            if self.tty:
                self.out.write(self.style.dim(usage_line) + "\n")
            else:
                self._err_line(usage_line)
            self.out.flush()


def compacted_line(turns: int) -> str:
    """What a compaction looks like: `(3 earlier exchanges summarised to fit ...)`."""
    what = "exchange" if turns == 1 else "exchanges"
    return f"({turns} earlier {what} summarised to fit the context window)"


def usage_line(result: JsonObject) -> str:
    """`gemini-2.5-flash · 41 in · 9 out · turn 3` from a gemini/chat result."""
    usage = as_object(result.get("usage"))
    parts = [str(result.get("model") or "?")]
    for key, label in (
        ("promptTokens", "in"),
        ("thoughtsTokens", "thinking"),
        ("replyTokens", "out"),
    ):
        value = usage.get(key)
        if isinstance(value, int) and (value or key != "thoughtsTokens"):
            parts.append(f"{value:,} {label}")
    if result.get("turn") is not None:
        parts.append(f"turn {result.get('turn')}")
    reason = result.get("finishReason")
    if reason not in (None, "STOP"):
        parts.append(f"finish {reason}")
    return "  " + " · ".join(parts)
