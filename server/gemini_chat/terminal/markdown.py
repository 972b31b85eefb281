"""Replies as Markdown on a terminal, rendered by `rich` while they stream.

A reply is re-rendered whole on every piece, but only its last, unfinished Markdown block (a
table still growing, a code block still open) is redrawn in place: the blocks before it are
final and printed once, so the terminal's scrollback holds them and a reply taller than the
screen scrolls like any output.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TextIO, TypeAlias

if TYPE_CHECKING:
    from rich.console import Console

CODE_THEME = "ansi_dark"  # the terminal's own palette: readable on dark and light backgrounds
THEME = {  # the terminal's own colours, nothing that needs a dark background
    "markdown.h1": "bold underline",
    "markdown.h2": "bold",
    "markdown.h3": "bold",
    "markdown.h4": "bold italic",
    "markdown.code": "cyan",
    "markdown.table.border": "dim",
    "markdown.table.header": "bold",
    "markdown.block_quote": "italic",
}
ANSI_SGR = re.compile(r"\x1b\[[0-9;]*m")
TRAILING = re.compile(r"(?:[ \t]|\x1b\[[0-9;]*m)+$")
Render: TypeAlias = Callable[[str, str, str], list[str]]
"""`render(label, thoughts, text)` -> the lines a terminal shows."""


def rich_renderer(width: int, *, colour: bool) -> Render:
    """`render(label, thoughts, text)` -> lines: Markdown (colour) or word-wrapped plain text."""
    from rich.console import Console  # not imported by a one-shot answer piped elsewhere
    from rich.theme import Theme

    console = Console(
        file=io.StringIO(),
        theme=Theme(THEME),
        width=width,
        force_terminal=colour,
        no_color=not colour,
        color_system="256" if colour else None,
        highlight=False,
        emoji=False,
    )

    def render(label: str, thoughts: str, text: str) -> list[str]:
        lines: list[str] = []
        for source, dim in ((thoughts, True), (text, False)):
            if source.strip():
                lines += _render_one(console, label if not lines else "", source, dim, colour)
        if not lines and label:
            lines = [label]
        return lines

    return render


def _render_one(console: Console, label: str, source: str, dim: bool, colour: bool) -> list[str]:
    """One Markdown document as lines; `label` starts its first paragraph (or its own line)."""
    from rich.text import Text

    inline = bool(label) and _first_block(source) == "paragraph_open"
    # Where the label goes: private-use characters, never in a reply, one column each like the
    # label's, so rich wraps the first line as it will show (an invisible marker would let it
    # run wider than the terminal, and the redraw in place would then miscount the lines).
    marker = "\ue000" * len(ANSI_SGR.sub("", label))
    body = marker + " " + source if inline else source
    plain = Text(body, style=_dim(dim))
    with console.capture() as capture:
        try:
            console.print(_markdown(body, dim) if colour else plain)
        except Exception:  # Markdown rich cannot lay out must not cost the reply: show it plain
            console.print(plain)
    lines = [_strip(line) for line in capture.get().split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if inline:  # the label keeps its own style; the paragraph's (dim) goes on after it
        reset, resume = ("\x1b[0m", f"\x1b[{'2' if dim else '0'}m") if colour else ("", "")
        lines = [_labelled(line, marker, reset + label, resume) for line in lines]
    elif label:
        lines.insert(0, label)
    return lines


def _labelled(line: str, marker: str, label: str, resume: str) -> str:
    """`line` with `label` in the marker's place; the space after it in the label's style, so
    the paragraph's style starts at its first word."""
    if marker + " " in line:
        return line.replace(marker + " ", f"{label} {resume}", 1)
    return line.replace(marker, label + resume, 1)


def _strip(line: str) -> str:
    """A line without trailing blanks (copied text should not carry them); styles reset."""
    stripped = TRAILING.sub("", line)
    return stripped + "\x1b[0m" if "\x1b[" in stripped else stripped


def _markdown(source: str, dim: bool) -> object:
    return _markdown_class()(source, code_theme=CODE_THEME, hyperlinks=False, style=_dim(dim))


def _dim(dim: bool) -> str:
    return "dim" if dim else ""


@functools.cache
def _markdown_class() -> Any:
    """rich's Markdown with headings flush left (rich centres `#`), tables in a light frame
    and code without padding lines: a reply in a terminal has no room to waste."""
    from rich import box
    from rich.markdown import CodeBlock, Heading, Markdown, TableElement
    from rich.syntax import Syntax
    from rich.table import Table

    class LeftHeading(Heading):
        LEVEL_ALIGN: ClassVar = dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), "left")

    class FramedTable(TableElement):
        def __rich_console__(self, console: Any, options: Any) -> Any:
            table = Table(box=box.ROUNDED, border_style="markdown.table.border")
            for column in self.header.row.cells if self.header and self.header.row else []:
                heading = column.content.copy()
                heading.stylize("markdown.table.header")
                table.add_column(heading)
            for row in self.body.rows if self.body else []:
                table.add_row(*(cell.content for cell in row.cells))
            yield table

    class IndentedCode(CodeBlock):
        def __rich_console__(self, console: Any, options: Any) -> Any:
            code = str(self.text).rstrip()
            yield Syntax(code, self.lexer_name, theme=self.theme, word_wrap=True, padding=(0, 2))

    class ReplyMarkdown(Markdown):
        elements: ClassVar = {
            **Markdown.elements,
            "heading_open": LeftHeading,
            "table_open": FramedTable,
            "fence": IndentedCode,
            "code_block": IndentedCode,
        }

    return ReplyMarkdown


def _first_block(source: str) -> str:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    return tokens[0].type if tokens else ""


def finished_prefix(source: str) -> str:
    """The part of `source` made of Markdown blocks that later text can no longer change: all
    but the last top-level block (a later line may still extend it: a table row, a list item,
    the rest of a code block)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    starts = [t.map[0] for t in tokens if t.level == 0 and t.nesting >= 0 and t.map]
    if len(starts) < 2:
        return ""
    return "".join(source.splitlines(keepends=True)[: starts[-1]])


class LiveReply:
    """A reply on a terminal: final blocks printed once, the unfinished one redrawn in place.

    Each update renders only the block still growing, so a long reply costs no more per piece
    than a short one. (Blocks render apart as they do together: one blank line between.)"""

    def __init__(self, out: TextIO, render: Render, rows: int) -> None:
        self.out, self.render = out, render
        self.max_live = max(3, rows - 4)  # taller than the screen cannot be redrawn: print it
        self.label = ""
        self._reset()

    def _reset(self) -> None:
        self.thoughts = self.text = ""
        self.in_text = False  # thoughts come first; once the text begins they are final
        self.done = 0  # characters of the current source (thoughts, then text) printed for good
        self.tail_printed = 0  # lines of the growing block printed already (it was too tall)
        self.live = 0  # lines of the growing block on screen, redrawn on each update
        self.printed = False  # whether any line was printed for good
        # The last blocks printed for good, rendered again before the next ones: rich decides
        # the blank line between two blocks by the first one's kind.
        self.context: tuple[str, str, int] = ("", "", 0)  # (label, source, its line count)

    @property
    def shown(self) -> bool:
        """Whether anything of the reply is on screen."""
        return self.printed or self.live > 0

    def update(self, thoughts: str, text: str) -> None:
        """Show the reply so far (the whole of it, not a piece)."""
        self.thoughts, self.text = thoughts, text
        if text and not self.in_text:
            self._final(self.thoughts[self.done :], dim=True)
            self.in_text, self.done, self.context = True, 0, ("", "", 0)
        source = self.text if self.in_text else self.thoughts
        finished = self.done + len(finished_prefix(source[self.done :]))
        if finished > self.done:
            self._final(source[self.done : finished], dim=not self.in_text)
            self.done = finished
        lines = self._lines(source[self.done :], dim=not self.in_text)
        spill = max(self.tail_printed, len(lines) - self.max_live)
        self._write(lines[self.tail_printed : spill], lines[spill:])
        self.tail_printed = spill

    def finish(self) -> None:
        """Print what is left for good; the cursor ends on a fresh line."""
        source = self.text if self.in_text else self.thoughts
        self._final(source[self.done :], dim=not self.in_text)
        self._reset()

    def _final(self, source: str, *, dim: bool) -> None:
        """Blocks that will not change: printed for good (less what a tall block printed)."""
        if not source.strip():
            return
        label = "" if self.printed else self.label
        lines = self._lines(source, dim=dim)
        self._write(lines[self.tail_printed :], [])
        self.tail_printed = 0
        self.context = (label, source, len(self._render(label, source, dim=dim)))

    def _lines(self, source: str, *, dim: bool) -> list[str]:
        """`source`'s lines as they show after what was printed (a blank line, or none)."""
        if not source.strip():
            return []
        label, before, count = self.context
        if before:
            return self._render(label, before + source, dim=dim)[count:]
        return self._render("" if self.printed else self.label, source, dim=dim)

    def _render(self, label: str, source: str, *, dim: bool) -> list[str]:
        return self.render(label, source, "") if dim else self.render(label, "", source)

    def _write(self, final: list[str], live: list[str]) -> None:
        parts = [f"\r\x1b[{self.live}A\x1b[J" if self.live else ""]
        parts += [line + "\n" for line in [*final, *live]]
        self.printed = self.printed or bool(final)
        self.live = len(live)
        self.out.write("".join(parts))
        self.out.flush()
