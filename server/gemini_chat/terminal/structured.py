"""Replies as JSON: `/json [SCHEMA_FILE]` in the REPL, `--json`/`--schema FILE` for one question.

JSON mode is a toggle: once on, every question asks for JSON (with the schema, re-read from its
file each time so edits apply) until `/json off`; the prompt says so. The daemon sends
`responseMimeType`/`responseSchema` and checks the reply against the schema; here the reply is
shown pretty-printed and highlighted as a JSON code block, and a reply that is not JSON or does
not match is told in so many words, each mismatch with its place.
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

from ..tools import SKIP_DIRS
from .rpc import JsonObject, JsonValue, as_list, as_object

SCHEMA_SUFFIX = ".schema.json"
# Completion stops looking after this many files or folders: a huge tree must not stall the prompt.
MAX_SCHEMA_FILES = 200
MAX_SCHEMA_FOLDERS = 1000
MAX_SCHEMA_BYTES = 1_000_000
OFF = ("off", "no", "-")


def read_schema(path: Path) -> JsonObject:
    """The JSON Schema in `path`; ValueError saying why it cannot be used."""
    try:
        if path.stat().st_size > MAX_SCHEMA_BYTES:
            raise ValueError(f"{path.name} is too big for a schema (over 1 MB)")
        value: JsonValue = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read it ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"{path.name} holds no JSON Schema object")
    return value


def schema_files(root: Path) -> list[str]:
    """The folder's `*.schema.json` files, relative to it (for completion), shallowest first.

    Breadth first, so the folders the caps leave out are the deepest."""
    found: list[str] = []
    folders = collections.deque([Path()])
    for _visited in range(MAX_SCHEMA_FOLDERS):
        if not folders or len(found) >= MAX_SCHEMA_FILES:
            break
        here = folders.popleft()
        try:
            with os.scandir(root / here) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue  # unreadable, or gone since it was listed
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                    folders.append(here / entry.name)
            elif entry.name.endswith(SCHEMA_SUFFIX):
                found.append(str(here / entry.name))
    return sorted(found[:MAX_SCHEMA_FILES], key=lambda p: (p.count(os.sep), p))


class SchemaFiles:
    """The schema files completion offers: listed when first wanted and again when Tab asks
    (`refresh`), not at each keystroke (the completer runs on the prompt's UI loop)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._found: list[str] | None = None

    def __call__(self, refresh: bool) -> list[str]:
        if self._found is None or refresh:
            self._found = schema_files(self.root)
        return self._found


class JsonMode:
    """Whether questions ask for JSON, and with which schema file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.on = False
        self.schema: Path | None = None

    def set(self, arg: str) -> str:
        """`/json [SCHEMA_FILE]` or `/json off`; what to tell the user (ValueError: a bad file)."""
        if arg in OFF:
            self.on, self.schema = False, None
            return "JSON mode off: replies are Markdown again."
        schema = None
        if arg:
            schema = Path(os.path.expanduser(arg.replace("\\ ", " ")))
            schema = schema if schema.is_absolute() else self.folder / schema
            read_schema(schema)  # say now what is wrong with it, not at the next question
        self.on, self.schema = True, schema
        what = f"matching {arg}" if arg else "any JSON (no schema)"
        return f"JSON mode on: questions ask for {what} until /json off."

    def label(self) -> str:
        """What the prompt shows while on: `json` or `json: person`."""
        if not self.on:
            return ""
        return f"json: {schema_name(self.schema)}" if self.schema else "json"

    def shown(self) -> str:
        """The schema file as the user named it (relative to the folder when inside)."""
        if self.schema is None:
            return ""
        try:
            return str(self.schema.relative_to(self.folder))
        except ValueError:
            return str(self.schema)

    def request(self) -> JsonObject | None:
        """The `json` field of the next question (its schema read now), None when off."""
        if not self.on:
            return None
        return {"schema": read_schema(self.schema)} if self.schema else {}


def schema_name(path: Path | None) -> str:
    """`person` for `schemas/person.schema.json`."""
    if path is None:
        return ""
    return path.name.removesuffix(SCHEMA_SUFFIX).removesuffix(".json")


def reply_source(result: JsonObject, *, terminal: bool) -> str:
    """The reply to show. On a terminal: the parsed value pretty-printed in a ```json block (the
    Markdown renderer highlights it), or the text as it came, fenced, when it is not JSON. Else
    the text exactly as it came (a pipe to jq gets what the model sent)."""
    text = str(result.get("text") or "")
    if not terminal:
        return text
    check = as_object(result.get("json"))
    if "value" in check:
        return _fenced(json.dumps(check["value"], indent=2, ensure_ascii=False), "json")
    return _fenced(text.strip("\n"), "") if text.strip() else ""


def _fenced(code: str, language: str) -> str:
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}{language}\n{code}\n{fence}\n"


def verdict(result: JsonObject, schema: str) -> list[tuple[str, bool]]:
    """What the daemon's check found, as lines (text, is-a-warning): `✓ matches person`, or
    `✗ ...` and each error with its place. Nothing for a turn that was not in JSON mode."""
    check = result.get("json")
    if not isinstance(check, dict):
        return []
    errors = [str(e) for e in as_list(check.get("errors"))]
    if check.get("valid") is True:
        return [(f"✓ valid JSON, matches {schema}" if schema else "✓ valid JSON", False)]
    if "value" not in check:  # the daemon says why it does not parse
        return [(f"✗ {e}", True) for e in errors] or [("✗ the reply is not JSON", True)]
    head = f"✗ the reply does not match {schema or 'the schema'}:"
    return [(head, True), *((f"  {e}", True) for e in errors)]
