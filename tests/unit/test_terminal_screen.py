"""The terminal client's Screen without a terminal, and its usage and compaction lines."""

from __future__ import annotations

import io

import pytest

from gemini_chat.terminal.screen import Screen, compacted_line


class _Pipe(io.StringIO):
    """A stream that is not a terminal."""

    def isatty(self) -> bool:
        return False


def test_without_a_terminal_notes_and_usage_go_to_stderr_on_their_own_lines():
    """Thoughts, tool lines and the usage line go to stderr, each starting a line; stdout keeps
    only the reply, exactly as it came (no Markdown rendering, no wrapping)."""
    out, err = _Pipe(), _Pipe()
    screen = Screen(out, err, label=False)
    screen.begin_reply()
    screen.thought("Thinking it over")
    screen.note("↳ read src/app.py")
    screen.text("It **adds**.")
    screen.note("image saved: /tmp/x.png", dim=False)
    screen.end_reply("  gemini-2.5-flash · 1 in · 2 out · turn 1")
    assert out.getvalue() == "It **adds**.\n"
    assert err.getvalue().splitlines() == [
        "Thinking it over",
        "  ↳ read src/app.py",
        "  image saved: /tmp/x.png",
        "  gemini-2.5-flash · 1 in · 2 out · turn 1",
    ]


def test_the_whole_reply_completes_what_streamed():
    """A whole reply shown after some pieces (Ctrl-C racing the end) adds only what is missing."""
    out, err = _Pipe(), _Pipe()
    screen = Screen(out, err, label=False)
    screen.begin_reply()
    screen.text("Once upon ")
    screen.show("", "Once upon a time.")
    screen.end_reply(None)
    assert out.getvalue() == "Once upon a time.\n"


def test_a_countdown_is_one_line_without_a_terminal():
    """`retrying in 3 s`, `2 s`, `1 s` on stderr: said once, not once a second."""
    out, err = _Pipe(), _Pipe()
    screen = Screen(out, err, label=False)
    screen.begin_reply()
    for seconds in (3, 2, 1):
        screen.status(f"rate limited: retrying in {seconds} s")
    assert err.getvalue() == "rate limited: retrying in 3 s\n"


def test_notices_wait_while_the_prompt_owns_the_terminal():
    """A daemon warning during the prompt is held back, then printed before the next output."""
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
