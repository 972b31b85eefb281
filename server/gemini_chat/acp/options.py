"""The settings of an ACP agent: `--settings FILE` (JSON) and flags, over the environment.

Editors that speak ACP have no settings section for us, so what a native client sends as its
`gemini` section comes from a file and the command line here; the environment stays below both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

from ..protocol import Json, settings_section
from ..setting_flag import parse_setting
from ..settings import FIELDS


class OptionsError(ValueError):
    """A settings file or flag that cannot be used; the agent does not start."""


def layer(path: Path | None, model: str | None, pairs: list[str]) -> Json:
    """The settings section from the file, then `--set NAME=VALUE` and `--model` over it."""
    section = dict(_read(path)) if path is not None else {}
    for pair in pairs:
        name, value = _pair(pair)
        section[name] = value
    if model is not None:
        section["model"] = model
    return section


def _read(path: Path) -> Json:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OptionsError(f"Cannot read the settings file {path}: {exc.strerror}") from None
    try:
        data = cast(object, json.loads(text))
    except json.JSONDecodeError as exc:
        raise OptionsError(f"The settings file {path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OptionsError(f"The settings file {path} must hold a JSON object")
    return settings_section(cast(Json, data))


def _pair(pair: str) -> tuple[str, object]:
    """`NAME=VALUE` read as the terminal's --setting reads it; NAME a known setting."""
    name, sep, _ = pair.partition("=")
    if not sep or name.strip() not in FIELDS.values():
        known = ", ".join(sorted(FIELDS.values()))
        raise OptionsError(f"--set wants NAME=VALUE with NAME one of: {known} (got {name!r})")
    try:
        return parse_setting(pair)
    except ValueError as exc:  # a secret setting: the message does not repeat its value
        raise OptionsError(f"--set {exc}") from None
