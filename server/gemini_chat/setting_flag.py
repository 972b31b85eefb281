"""One setting given on a command line as NAME=VALUE: the terminal client's `--setting` and the
ACP agent's `--set` read it the same way (and both refuse a secret there).

Kept apart from both front ends: each imports it without loading the other.
"""

from __future__ import annotations

import json
from typing import cast

SECRET_SETTINGS = ("apiKey",)
"""Never taken from a command line: an argv is visible to every user of the machine (ps)."""


def parse_setting(text: str) -> tuple[str, object]:
    """`NAME=VALUE` -> (NAME, VALUE): VALUE is JSON when it parses as JSON (numbers, true,
    objects), else text (`model=gemini-2.5-pro` needs no quotes). ValueError when NAME is
    missing or secret; the message never repeats a secret's value."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if name in SECRET_SETTINGS:
        raise ValueError(f"{name} cannot be given on the command line: set GEMINI_API_KEY")
    if not sep or not name:
        raise ValueError(f"{text!r} is not KEY=VALUE")
    try:
        return name, cast(object, json.loads(raw))
    except json.JSONDecodeError:
        return name, raw
