"""What clients are shown of stored contents: history turns (and, later, exports)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast

from .protocol import Json, objects
from .store import Entry

_USER_FIELDS = ("compacted", "imagen")
_MODEL_FIELDS = (
    "usage", "thoughts", "model", "finishReason", "toolCalls", "images", "filtered", "json",
)  # fmt: skip


def shown(e: Entry) -> Json:
    """One `gemini/history` turn of a stored entry."""
    item: Json = {
        "role": e.role,
        "text": e.meta.get("text", ""),
        "attachments": e.meta.get("attachments", []),
        "time": e.time,
    }
    for name in _USER_FIELDS if e.role == "user" else _MODEL_FIELDS:
        if e.meta.get(name) is not None:
            item[name] = e.meta[name]
    return item


def markdown(title: str, dates: tuple[str, str], exchanges: Sequence[Sequence[Entry]]) -> str:
    """A conversation as one Markdown document: its title, then `## You` / `## Gemini` per
    exchange with attachments, thoughts (collapsed), tool calls, images and usage."""
    created, updated = dates
    count = len(exchanges)
    when = f"started {_minute(created)}, last {_minute(updated)} UTC"
    out = [f"# {_line(title)}", "", f"_{count} turn{'s' * (count != 1)}, {when}._"]
    for group in exchanges:
        shown = [e for e in group if not e.meta.get("hidden")]
        for e in shown:
            out += ["", *(_you(e) if e.role == "user" else _gemini(e))]
    return "\n".join(out).rstrip() + "\n"


def _minute(stamp: str) -> str:
    return stamp[:16].replace("T", " ")


def _line(text: str) -> str:
    return " ".join(text.split()) or "Untitled"


def _you(e: Entry) -> list[str]:
    lines = ["## You", ""]
    if e.meta.get("compacted"):
        lines[0] = "## You (summary)"
    text = str(e.meta.get("text", "")).strip()
    if text:
        lines += [text, ""]
    names = [str(a.get("name", "")) for a in objects(e.meta.get("attachments"))]
    if names:
        lines.append("Attached: " + ", ".join(f"`{n}`" for n in names))
    return lines


def _gemini(e: Entry) -> list[str]:
    lines = ["## Gemini", ""]
    thoughts = str(e.meta.get("thoughts") or "").strip()
    if thoughts:
        lines += ["<details><summary>Thoughts</summary>", "", thoughts, "", "</details>", ""]
    calls = objects(e.meta.get("toolCalls"))
    if calls:
        lines += [f"- `{c.get('name', '')}`: {c.get('summary', '')}" for c in calls]
        lines.append("")
    text = str(e.meta.get("text", "")).strip()
    if text:
        lines += [text, ""]
    for image in objects(e.meta.get("images")):
        path = Path(str(image.get("path", "")))  # <...>: a path with spaces stays one link
        lines += [f"![{path.name}](<{path}>)", ""]
    usage = e.meta.get("usage")
    if isinstance(usage, dict):
        u: dict[str, object] = usage  # pyright: ignore[reportUnknownVariableType]
        lines.append(f"_{e.meta.get('model') or 'Gemini'}: {_spent(u)}_")
    return lines


def _spent(u: dict[str, object]) -> str:
    """`12 prompt, 3 reply, 0 thinking tokens, $0.000011` (`2 images` for Imagen)."""
    count = u.get("images")
    if isinstance(count, int):
        what = f"{count} image{'s' * (count != 1)}"
    else:
        what = (
            f"{u.get('promptTokens', 0)} prompt, {u.get('replyTokens', 0)} reply, "
            f"{u.get('thoughtsTokens', 0)} thinking tokens"
        )
    cost = u.get("cost")
    reply = cast(dict[str, object], cost).get("reply") if isinstance(cost, dict) else None
    return f"{what}, ${reply:.6f}" if isinstance(reply, float | int) else what
