"""The terminal client's command line: --setting KEY=JSON."""

from __future__ import annotations

import pytest

from gemini_chat.terminal.app import parse_args, parse_setting


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("compactThreshold=0.5", ("compactThreshold", 0.5)),
        ("tools=false", ("tools", False)),
        ('generationConfig={"temperature": 0}', ("generationConfig", {"temperature": 0})),
        ("model=gemini-2.5-pro", ("model", "gemini-2.5-pro")),
        ('contextFile=""', ("contextFile", "")),
        ("systemInstruction=a=b", ("systemInstruction", "a=b")),
    ],
)
def test_a_setting_is_json_or_else_a_string(text: str, expected: tuple[str, object]):
    """The value is JSON when it parses, else the plain string (no quoting needed for names)."""
    assert parse_setting(text) == expected


@pytest.mark.parametrize("text", ["noequals", "=1", " =1"])
def test_a_setting_without_a_key_is_refused(text: str):
    """KEY=VALUE is required."""
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_setting(text)


def test_the_api_key_is_not_a_command_line_setting():
    """An argv is readable by every user of the machine: the key must come from the env."""
    with pytest.raises(ValueError, match="GEMINI_API_KEY") as info:
        parse_setting("apiKey=secret-123")
    assert "secret-123" not in str(info.value)


def test_settings_collect_into_initialization_options(tmp_path):
    """Repeated --setting options make one object; a later key wins."""
    opts = parse_args(
        ["--workspace", str(tmp_path), "--setting", "tools=false", "--setting", "tools=true", "q"]
    )
    assert opts.settings == {"tools": True}
    assert opts.question == "q"
