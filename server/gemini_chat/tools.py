"""Read-only workspace tools the model may call: read_file, list_files, search_text."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeAlias, cast

from . import files
from .workspaces import Workspace

Json: TypeAlias = dict[str, object]
MAX_ANSWER = 100_000
"""Characters a tool may return to the model."""
MAX_FILES = 2_000
MAX_READ = 8_000_000
"""Bytes a tool reads of one file (its answer is capped at MAX_ANSWER characters anyway)."""
SKIP_DIRS = {".git", ".hg", ".jj", "node_modules", ".venv", "__pycache__", ".mypy_cache"}

DECLARATIONS: list[Json] = [
    {
        "name": "read_file",
        "description": "Read a text file of the user's workspace, optionally only some lines.",
        "parameters": {
            "type": "OBJECT",
            "properties": {
                "path": {"type": "STRING", "description": "Path relative to the workspace root"},
                "startLine": {"type": "INTEGER", "description": "First line, 1-based"},
                "endLine": {"type": "INTEGER", "description": "Last line, inclusive"},
            },
            "required": ["path"],
        },
    },
    {
        "name": "list_files",
        "description": "List the workspace's files (respecting .gitignore) matching a glob.",
        "parameters": {
            "type": "OBJECT",
            "properties": {"glob": {"type": "STRING", "description": "e.g. **/*.py, or * for all"}},
            "required": ["glob"],
        },
    },
    {
        "name": "search_text",
        "description": "Search the workspace's text files (respecting .gitignore) for a string.",
        "parameters": {
            "type": "OBJECT",
            "properties": {"query": {"type": "STRING", "description": "Text to find"}},
            "required": ["query"],
        },
    },
]


MAX_LOCATIONS = 20
"""Files a search reports as its locations (for editors that follow along)."""


@dataclass(frozen=True)
class ToolResult:
    """What a call answers the model, and the one line clients show for it."""

    response: Json
    summary: str
    locations: tuple[tuple[Path, int | None], ...] = ()
    """The files (and 1-based lines) the call read, for editors that follow along."""

    @property
    def failed(self) -> bool:
        """Whether the call answered the model an error."""
        return "error" in self.response


class ToolError(Exception):
    """A call the tool cannot serve; the model is told why."""


class Editor(Protocol):
    """An editor taking part in the tool calls of a turn (the ACP front end).

    Set for a turn's task with `EDITOR`; the turn's tool threads inherit it. Its methods are
    called from those threads, so they block (and must not touch the event loop directly).
    """

    def read_text(self, path: Path) -> str | None:
        """The editor's text of a confined file (unsaved changes included), or None to read
        the file from disk."""
        ...

    def started(self, name: str, args: Json) -> None:
        """A call is about to run."""
        ...

    def finished(self, name: str, result: ToolResult) -> None:
        """A call ran (or failed: see `ToolResult.failed`)."""
        ...


EDITOR: ContextVar[Editor | None] = ContextVar("gemini_chat_tools_editor", default=None)
"""The editor of the current turn, if it takes part; None reads files from disk."""


def run(ws: Workspace, name: str, args: Json) -> ToolResult:
    """Run one call (blocking; call it in a thread). Errors become an `error` response."""
    editor = EDITOR.get()
    if editor is not None:
        editor.started(name, args)
    result = _run(ws, name, args)
    if editor is not None:
        editor.finished(name, result)
    return result


def _run(ws: Workspace, name: str, args: Json) -> ToolResult:
    tool = _TOOLS.get(name)
    if tool is None:
        return ToolResult({"error": f"unknown tool {name}"}, f"unknown tool {name}")
    try:
        return tool(ws, args)
    except (ToolError, files.FileRefused, OSError, ValueError) as exc:
        return ToolResult({"error": str(exc)}, f"{name} failed: {exc}")


def _str_arg(args: Json, key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value:
        raise ToolError(f"{key} must be a non-empty string")
    return value


def read_file(ws: Workspace, args: Json) -> ToolResult:
    """The text of one workspace file, or some of its lines."""
    rel = _str_arg(args, "path")
    path = files.confine(ws.root, ws.root / rel.lstrip("/"), "path")
    editor = EDITOR.get()
    text = editor.read_text(path) if editor is not None else None
    if text is None:
        data = files.read_bounded(path, MAX_READ, "path")
        if files.is_binary(data):
            raise ToolError(f"{rel} is a binary file")
        text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    start = _line(args.get("startLine"), 1)
    end = min(_line(args.get("endLine"), len(lines)), len(lines))
    text = "\n".join(lines[start - 1 : end])
    shown = path.relative_to(ws.root).as_posix()
    where = f":{start}-{end}" if "startLine" in args or "endLine" in args else ""
    response: Json = {"path": shown, "startLine": start, "endLine": end, "totalLines": len(lines)}
    response["content"], response["truncated"] = _cap(text)
    return ToolResult(response, f"read {shown}{where}", ((path, start),))


def _line(value: object, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolError("line numbers must be integers")
    return max(1, int(value))


def _cap(text: str) -> tuple[str, bool]:
    return (text[:MAX_ANSWER], True) if len(text) > MAX_ANSWER else (text, False)


def list_files(ws: Workspace, args: Json) -> ToolResult:
    """Workspace files matching a glob, .gitignore respected."""
    pattern = _str_arg(args, "glob")
    files = [f for f in workspace_files(ws.root) if _glob_match(f, pattern)]
    listing, truncated = _cap("\n".join(files))
    response: Json = {"files": listing, "count": len(files), "truncated": truncated}
    return ToolResult(response, f"listed {len(files)} files matching {pattern}")


def _glob_match(path: str, pattern: str) -> bool:
    if pattern in ("*", "**", "**/*"):
        return True
    if pattern.startswith("**/") and fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern[3:]):
        return True
    return fnmatch.fnmatch(path, pattern)


def search_text(ws: Workspace, args: Json) -> ToolResult:
    """Lines of the workspace's text files containing a string (case-insensitive)."""
    query = _str_arg(args, "query")
    needle = query.lower()
    hits: list[str] = []
    found: dict[str, int] = {}
    for rel in workspace_files(ws.root):
        try:  # the same rule as read_file: a symlink out of the folder is not searched
            _, data = files.read_confined(ws.root, ws.root / rel, MAX_READ, "path")
        except files.FileRefused:
            continue
        if files.is_binary(data):
            continue
        for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if needle in line.lower():
                hits.append(f"{rel}:{n}: {line.strip()[:300]}")
                found.setdefault(rel, n)
        if len(hits) > 500:
            break
    text, truncated = _cap("\n".join(hits))
    response: Json = {"matches": text, "count": len(hits), "truncated": truncated}
    where = tuple((ws.root / rel, n) for rel, n in list(found.items())[:MAX_LOCATIONS])
    return ToolResult(response, f"searched for {query!r} ({len(hits)} matches)", where)


def workspace_files(root: Path) -> list[str]:
    """Relative paths of the workspace's files: git's view when it is a repository."""
    git = shutil.which("git")
    if git and (root / ".git").exists():
        out = subprocess.run(
            [git, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            timeout=30,
            check=False,
        )
        if out.returncode == 0:
            names = [n for n in out.stdout.decode(errors="replace").split("\0") if n]
            return sorted(n for n in names if (root / n).is_file())[:MAX_FILES]
    return _walk(root, _gitignore(root))


def _gitignore(root: Path) -> list[str]:
    try:
        _, data = files.read_confined(root, root / ".gitignore", MAX_READ, "path")
    except files.FileRefused:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def _ignored(rel: str, patterns: list[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    for pat in patterns:
        p = pat.rstrip("/").lstrip("/")
        if fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) or rel.startswith(p + "/"):
            return True
    return False


def _walk(root: Path, patterns: list[str]) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not _ignored(prefix + d, patterns)
        )
        for f in sorted(filenames):
            if not _ignored(prefix + f, patterns):
                found.append(prefix + f)
            if len(found) >= MAX_FILES:
                return found
    return found


_TOOLS: dict[str, Callable[[Workspace, Json], ToolResult]] = {
    "read_file": read_file,
    "list_files": list_files,
    "search_text": search_text,
}


def call_args(part: Json) -> tuple[str, Json]:
    """The name and args of a functionCall part."""
    call = cast(Json, part.get("functionCall") or {})
    args = call.get("args")
    return str(call.get("name", "")), cast(Json, args) if isinstance(args, dict) else {}
