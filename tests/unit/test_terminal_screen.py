"""The terminal client's streaming word wrap, read back through a minimal terminal model."""

from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gemini_chat.terminal.screen import Screen, Style, Wrapper, compacted_line, usage_line

WIDTH = 20


def render(raw: str) -> list[str]:
    """What a terminal shows for `raw`: handles newline, backspace and erase-to-end-of-line."""
    lines: list[list[str]] = [[]]
    col = 0
    i = 0
    while i < len(raw):
        if raw.startswith("\x1b[K", i):
            del lines[-1][col:]
            i += 3
            continue
        ch = raw[i]
        if ch == "\n":
            lines.append([])
            col = 0
        elif ch == "\b":
            col = max(0, col - 1)
        else:
            line = lines[-1]
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
        i += 1
    return ["".join(line).rstrip() for line in lines]


def wrap(pieces: list[str], width: int | None = WIDTH) -> str:
    """Stream `pieces` through a colourless Wrapper; the raw output."""
    out = io.StringIO()
    wrapper = Wrapper(out, width, Style(enabled=False))
    for piece in pieces:
        wrapper.feed(piece)
    wrapper.finish()
    return out.getvalue()


def chunked(text: str, cuts: list[int]) -> list[str]:
    """`text` cut at the given offsets."""
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


words = st.text(alphabet="abcdefghij", min_size=1, max_size=12)
paragraphs = st.lists(words, min_size=1, max_size=30).map(" ".join)


@given(paragraphs, st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_wrapping_keeps_words_and_width_however_the_stream_is_cut(text: str, cuts: list[int]):
    """Any chunking shows the same words in order, on lines no wider than the width."""
    shown = render(wrap(chunked(text, cuts)))
    assert " ".join(shown).split() == text.split()
    assert all(len(line) <= WIDTH for line in shown)


def test_a_word_that_outgrows_the_line_moves_down_whole():
    """A word streamed in pieces that no longer fits is erased and rewritten on the next line."""
    shown = render(wrap(["aaaa bbbb cccc dd", "dddddd"]))
    assert shown == ["aaaa bbbb cccc", "dddddddd", ""]


def test_code_fences_are_not_wrapped():
    """Lines inside ``` fences keep their length (the terminal may wrap them, we do not)."""
    code = "x = 'a very long line of code that is wider than twenty columns'"
    shown = render(wrap([f"Look:\n```python\n{code}\n```\nok"]))
    assert code in shown


def test_without_a_width_text_passes_through():
    """Not a terminal: the text is written exactly as it came."""
    text = "a long line that would otherwise be wrapped somewhere\n  indented"
    assert wrap([text], width=None) == text + "\n"


def test_usage_line_names_model_tokens_and_turn():
    """The usage line: model, prompt/thinking/reply tokens, turn, and an unusual finish reason."""
    line = usage_line(
        {
            "model": "gemini-2.5-pro",
            "turn": 3,
            "finishReason": "MAX_TOKENS",
            "usage": {"promptTokens": 1200, "replyTokens": 9, "thoughtsTokens": 0},
        }
    )
    assert line.strip() == "gemini-2.5-pro · 1,200 in · 9 out · turn 3 · finish MAX_TOKENS"


class _Pipe(io.StringIO):
    """A stream that is not a terminal."""

    def isatty(self) -> bool:
        return False


def test_without_a_terminal_notes_and_usage_go_to_stderr_on_their_own_lines():
    """Thoughts, tool lines and the usage line go to stderr, each starting a line; stdout keeps
    only the reply."""
    out, err = _Pipe(), _Pipe()
    screen = Screen(out, err, label=False)
    screen.begin_reply()
    screen.thought("Thinking it over")
    screen.note("↳ read src/app.py")
    screen.text("It adds.")
    screen.note("image saved: /tmp/x.png", dim=False)
    screen.end_reply("  gemini-2.5-flash · 1 in · 2 out · turn 1")
    assert out.getvalue() == "It adds.\n"
    assert err.getvalue().splitlines() == [
        "Thinking it over",
        "  ↳ read src/app.py",
        "  image saved: /tmp/x.png",
        "  gemini-2.5-flash · 1 in · 2 out · turn 1",
    ]


def test_notices_wait_while_the_prompt_owns_the_terminal():
    """A daemon warning during input() is held back, then printed before the next output."""
    out, err = _Pipe(), _Pipe()
    screen = Screen(out, err, label=True)
    screen.prompting = True
    screen.notice("gemini-chat-server warning: bad value")
    assert err.getvalue() == ""
    screen.prompting = False
    screen.flush_notices()
    assert err.getvalue() == "gemini-chat-server warning: bad value\n"


@pytest.mark.parametrize(("turns", "text"), [(1, "1 earlier exchange"), (3, "3 earlier exchanges")])
def test_compacted_line_counts_exchanges(turns: int, text: str):
    """The compaction line says how many exchanges were summarised."""
    assert compacted_line(turns) == f"({text} summarised to fit the context window)"
