"""The terminal client's streamed Markdown (rich): what the screen shows however a reply is cut."""

from __future__ import annotations

import io
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemini_chat.terminal.markdown import LiveReply, finished_prefix, rich_renderer
from samples import MARKDOWN_REPLY

from .terminal_model import render

SGR = re.compile(r"\x1b\[[0-9;]*m")


def plain(lines: list[str]) -> list[str]:
    """Lines without their colours."""
    return [SGR.sub("", line).rstrip() for line in lines]


def stream(pieces: list[str], rows: int = 40, label: str = "") -> tuple[str, LiveReply]:
    """Feed `pieces` (each a delta) through a LiveReply; the raw output and the reply."""
    out = io.StringIO()
    live = LiveReply(out, rich_renderer(60, colour=True), rows)
    live.label = label
    text = ""
    for piece in pieces:
        text += piece
        live.update("", text)
    live.finish()
    return out.getvalue(), live


def chunked(text: str, cuts: list[int]) -> list[str]:
    """`text` cut at the given offsets."""
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(MARKDOWN_REPLY)), max_size=25))
def test_a_streamed_reply_ends_as_the_whole_reply_renders(cuts: list[int]):
    """However the reply is cut into pieces, the screen ends showing exactly the render of the
    whole reply: nothing printed twice, nothing lost, no half table left behind."""
    raw, _ = stream(chunked(MARKDOWN_REPLY, cuts))
    whole = plain(rich_renderer(60, colour=True)("", "", MARKDOWN_REPLY))
    assert render(raw)[:-1] == whole


def test_markdown_is_rendered_not_shown_as_source():
    """Headings, tables, code and lists are laid out (a framed table, no `|---|`, no fences,
    bullets), and the code is coloured."""
    lines = rich_renderer(60, colour=True)("", "", MARKDOWN_REPLY)
    shown = "\n".join(plain(lines))
    assert "Adding numbers" in shown and "##" not in shown
    assert "│ 1 │ 2 │ 3" in re.sub(r" +", " ", shown)
    assert "|---|" not in shown and "```" not in shown
    assert "• numbers add" in shown
    code = next(line for line in lines if "def" in line and "add" in line)
    assert "\x1b[" in code, "the code block is highlighted"


def test_a_tall_reply_keeps_its_live_part_within_the_screen():
    """A reply taller than the screen prints its top for good: the part redrawn in place never
    grows past the screen, so nothing scrolls away half drawn."""
    long_code = "```python\n" + "".join(f"x{i} = {i}\n" for i in range(80)) + "```\n"
    out = io.StringIO()
    live = LiveReply(out, rich_renderer(60, colour=True), rows=20)
    text = ""
    for line in long_code.splitlines(keepends=True):
        text += line
        live.update("", text)
        assert live.live <= live.max_live
    live.finish()
    shown = render(out.getvalue())
    assert [line.strip() for line in shown if line.strip()] == [f"x{i} = {i}" for i in range(80)]


def test_finished_prefix_leaves_out_the_block_still_growing():
    """Only blocks that later text can no longer change are final: not an open code block, not
    a table that may get more rows."""
    assert finished_prefix("Intro.\n\n```py\nx = 1\n") == "Intro.\n\n"
    assert finished_prefix("Intro.\n\n| a |\n|---|\n| 1 |\n") == "Intro.\n\n"
    assert finished_prefix("One paragraph still going") == ""
    assert finished_prefix("# T\n\nPara.\n\n- item") == "# T\n\nPara.\n\n"


def test_the_label_leads_a_first_paragraph_or_stands_alone():
    """`gemini>` starts the first line of a reply that opens with a paragraph; before a heading
    or a code block it has a line of its own."""
    render_ = rich_renderer(60, colour=True)
    assert plain(render_("gemini>", "", "Two dogs."))[0] == "gemini> Two dogs."
    assert plain(render_("gemini>", "", "# Title\n\nText"))[:2] == ["gemini>", "Title"]


def test_thoughts_are_dim_and_come_first():
    """Thoughts render dimmed before the reply, the label leading them."""
    lines = rich_renderer(60, colour=True)("gemini>", "Thinking it over.", "Hi there.")
    assert plain(lines) == ["gemini> Thinking it over.", "Hi there."]
    assert "\x1b[2mThinking" in lines[0]


@pytest.mark.parametrize("colour", [True, False], ids=["colour", "NO_COLOR"])
def test_the_label_counts_in_the_first_lines_width(colour: bool):
    """A first paragraph wrapped after its `gemini>` label: no line is wider than the screen
    (a wider line wraps in the terminal, and the in-place redraw would miscount its lines)."""
    text = " ".join(["word"] * 40)
    lines = rich_renderer(40, colour=colour)("gemini>", "", text)
    assert plain(lines)[0].startswith("gemini> word")
    assert max(len(line) for line in plain(lines)) <= 40
    assert " ".join(plain(lines)).split()[1:] == text.split()


def test_without_colour_the_reply_is_plain_wrapped_text():
    """NO_COLOR: no escapes, the Markdown left as written, lines wrapped at word boundaries."""
    text = "A **bold** claim about `code` that goes on and on past the edge of the screen."
    lines = rich_renderer(30, colour=False)("", "", text)
    assert not any("\x1b[" in line for line in lines)
    assert " ".join(lines).split() == text.split()
    assert all(len(line) <= 30 for line in lines)
