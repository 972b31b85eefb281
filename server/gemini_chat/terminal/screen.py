"""What the terminal client shows: replies (Markdown on a terminal), the status line, notes.

On a terminal with colours a reply is Markdown rendered by `rich` as it streams; with NO_COLOR
it is plain text, word-wrapped. When stdout is not a terminal it carries the reply's text
exactly as it came, and everything else (usage, thoughts, notes, progress) goes to stderr.
Safe to call from the RPC thread and the main thread.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
import threading
from pathlib import Path
from typing import TextIO

from .imaging import inline_from_env, inline_image
from .markdown import LiveReply, rich_renderer


class Style:
    """ANSI styling that collapses to plain text when colours are off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _sgr(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def dim(self, text: str) -> str:
        """Faint text (usage, thoughts, status, notes)."""
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


class Screen:
    """Everything the user sees."""

    def __init__(self, out: TextIO, err: TextIO, *, label: bool) -> None:
        self.out, self.err = out, err
        self.tty = out.isatty()
        self.style = Style(self.tty and "NO_COLOR" not in os.environ)
        self.label = label
        self.lock = threading.RLock()
        self.status_shown = False
        self.status_text = ""  # the transient status to bring back after a note
        self.started = False  # something of the current reply is on screen
        self.err_open = False  # thoughts on stderr left a line unfinished
        self.pending: list[str] = []  # notices held while the prompt owns the terminal
        self.prompting = False
        self.inline = inline_from_env() if self.tty else None  # how images are drawn, if at all
        self.live: LiveReply | None = None
        self.thoughts = self.text_so_far = ""
        self._cut = (0, 0)  # where the current live segment starts in (thoughts, text)
        self._written = (0, 0)  # without a terminal: what of (thoughts, text) went out

    @property
    def width(self) -> int | None:
        """Columns for wrapping, None when stdout is not a terminal."""
        return max(20, shutil.get_terminal_size().columns) if self.tty else None

    # --- lines of our own ---------------------------------------------------------------------

    def line(self, text: str = "") -> None:
        """Print one line of our own."""
        with self.lock:
            self.clear_status()
            self.out.write(text + "\n")
            self.out.flush()

    def wrapped(self, text: str, *, dim: bool = False, indent: str = "") -> None:
        """A paragraph of our own, wrapped on a terminal."""
        width = self.width
        lines = text.splitlines() or [""]
        if width is not None:
            fill = textwrap.TextWrapper(
                width - 1, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
            ).fill
            lines = [fill(line) or indent for line in lines]
        for line in lines:
            self.line(self.style.dim(line) if dim else line)

    def markdown(self, text: str, *, label: str = "", dim: bool = False) -> None:
        """A whole Markdown text (a stored reply), rendered like a streamed one."""
        with self.lock:
            self.clear_status()
            if not self.tty:
                self.out.write((f"{label} " if label else "") + text.rstrip("\n") + "\n")
                return
            render = rich_renderer(self.width or 80, colour=self.style.enabled)
            lines = render(label, text, "") if dim else render(label, "", text)
            self.out.write("".join(line + "\n" for line in lines))
            self.out.flush()

    def parts(self, text: str) -> None:
        """A dim line of ` · `-separated parts (a usage line), broken between them to fit."""
        with self.lock:
            self.clear_status()
            self.out.write(self._fitted(text) if self.tty else text + "\n")
            self.out.flush()

    def _fitted(self, text: str) -> str:
        lines = fit_parts(text, self.width or 80)
        return "".join(self.style.dim(line) + "\n" for line in lines)

    def error(self, text: str, *, warn: bool = False) -> None:
        """An error (or warning) on stderr, on a line of its own (wrapped on a terminal)."""
        width = self.width
        if width is not None and self.err.isatty():
            fill = textwrap.TextWrapper(width - 1, break_long_words=False, break_on_hyphens=False)
            text = "\n".join(fill.fill(line) or line for line in text.splitlines())
        with self.lock:
            self.clear_status()
            self._finish_live()
            self._err_line(self.style.warn(text) if warn else self.style.error(text))

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

    # --- the status line ----------------------------------------------------------------------

    def status(self, text: str, *, transient: bool = False) -> None:
        """`text` on the one status line (a terminal), or as a line on stderr unless transient.

        Without a terminal a countdown (`retrying in 12 s`, `11 s`, ...) is said once."""
        with self.lock:
            if self.started or (transient and not self.tty):
                return  # never scribble over a reply that is streaming
            if self.tty:
                self.out.write("\r\x1b[K" + self.style.dim(text))
                self.out.flush()
                self.status_shown = True
                self.status_text = text if transient else ""
            elif _digitless(text) != _digitless(self.status_text):
                self.status_text = text
                self._err_line(text)

    def clear_status(self) -> None:
        """Erase the status line, if one is shown."""
        if self.status_shown:
            self.out.write("\r\x1b[K")
            self.status_shown = False

    # --- a reply ------------------------------------------------------------------------------

    def begin_reply(self, label: str | None = None) -> None:
        """Start a reply; `label` (default: `gemini>` in the REPL) leads its first line."""
        with self.lock:
            self.started = self.err_open = False
            self.status_text = ""
            self.thoughts = self.text_so_far = ""
            self._cut = self._written = (0, 0)
            if label is None:
                label = self.style.model("gemini>") if self.label else ""
            if self.tty:
                width, rows = shutil.get_terminal_size()
                render = rich_renderer(max(20, width), colour=self.style.enabled)
                self.live = LiveReply(self.out, render, rows)
                self.live.label = label

    def thought(self, delta: str) -> None:
        """A piece of the model's thoughts (dimmed; stderr without a terminal)."""
        with self.lock:
            self.show(self.thoughts + delta, self.text_so_far)

    def text(self, delta: str) -> None:
        """A piece of the reply."""
        with self.lock:
            self.show(self.thoughts, self.text_so_far + delta)

    def show(self, thoughts: str, text: str) -> None:
        """The reply so far, whole (a mirrored turn sends it so, a piece adds to it)."""
        with self.lock:
            self.thoughts, self.text_so_far = thoughts, text
            if not thoughts and not text:
                return
            if not self.started:
                self.clear_status()
                self.started = True
            if self.live is None:
                self._write_plain(thoughts, text)
                return
            self.live.update(thoughts[self._cut[0] :], text[self._cut[1] :])

    def _write_plain(self, thoughts: str, text: str) -> None:
        """Without a terminal: what is new of the thoughts to stderr, of the text to stdout."""
        done_thoughts, done_text = self._written
        if len(thoughts) > done_thoughts:
            self.err.write(thoughts[done_thoughts:])
            self.err.flush()
            self.err_open = not thoughts.endswith("\n")
        if len(text) > done_text:
            self.out.write(text[done_text:])
            self.out.flush()
        self._written = (max(done_thoughts, len(thoughts)), max(done_text, len(text)))

    def _finish_live(self) -> None:
        """Print the live part of the reply for good (before a line of our own)."""
        if self.live is not None and self.live.shown:
            self.live.finish()
            self.live.label = ""  # the label leads the reply once
            self._cut = (len(self.thoughts), len(self.text_so_far))

    def note(
        self, text: str, *, dim: bool = True, warn: bool = False, wrap: bool = True, after: str = ""
    ) -> None:
        """A line of our own inside a reply (a tool call, a compaction, an image), indented and
        wrapped (unless `wrap` is off: a path stays on its line, whole, to be copied);
        `after`: what the terminal draws under it (an image)."""
        with self.lock:
            if not self.tty:
                self._err_line("  " + text)
                return
            status = self.status_text
            self.clear_status()
            self._finish_live()
            paint = self.style.warn if warn else self.style.dim if dim else str
            shown = self._indented(text) if wrap else ["  " + text]
            lines = "".join(_indent(line) + paint(line.lstrip()) + "\n" for line in shown)
            self.out.write(lines + (f"  {after}\n" if after else ""))
            self.out.flush()
            if status and not self.started:
                self.status(status, transient=True)  # still waiting: say so again

    def _indented(self, text: str) -> list[str]:
        """A note's lines: indented by two, wrapped to the screen (a long path is not cut)."""
        indent = "  " + text[: len(text) - len(text.lstrip())]
        fill = textwrap.TextWrapper(
            (self.width or 80) - 1,
            initial_indent=indent,
            subsequent_indent=indent + "  ",
            break_long_words=False,
            break_on_hyphens=False,
        )
        return fill.wrap(text.lstrip()) or [indent]

    def image(self, path: str, mime: str) -> None:
        """`image saved: PATH` inside a reply, and the image itself on a terminal that draws
        them (kitty's or iTerm2's protocol; see imaging.inline_protocol)."""
        drawn = inline_image(self.inline, Path(path), mime) if self.tty else ""
        self.note(f"image saved: {path}", dim=False, wrap=False, after=drawn)

    def end_reply(self, usage: str | None) -> None:
        """End the reply, then the dim usage line (to stderr when stdout is not a terminal)."""
        with self.lock:
            self.clear_status()
            if self.live is not None:
                self.live.finish()
                self.live = None
            elif self.text_so_far and not self.text_so_far.endswith("\n"):
                self.out.write("\n")
            self.started = False
            if usage is not None:
                if self.tty:
                    self.out.write(self._fitted(usage))
                else:
                    self._err_line(usage)
            self.out.flush()


def _indent(line: str) -> str:
    """The blanks `line` starts with (they stay unstyled)."""
    return line[: len(line) - len(line.lstrip())]


def fit_parts(line: str, width: int, sep: str = " · ") -> list[str]:
    """`line` (`  a · b · c`) in lines under `width` columns, broken between its parts; the
    lines after the first indented like it, so a usage line never wraps mid-number."""
    indent = line[: len(line) - len(line.lstrip())]
    parts = line.strip().split(sep)
    lines = [indent + parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + len(sep) + len(part) < width:
            lines[-1] += sep + part
        else:
            lines.append(indent + part)
    return lines


def _digitless(text: str) -> str:
    return re.sub(r"\d+", "#", text)


def compacted_line(turns: int) -> str:
    """What a compaction looks like: `(3 earlier exchanges summarised to fit ...)`."""
    what = "exchange" if turns == 1 else "exchanges"
    return f"({turns} earlier {what} summarised to fit the context window)"
