"""A stored conversation as the session updates `session/load` replays: the user's messages,
then each reply's thoughts, tool calls, text and images, in the order they were shown."""

from __future__ import annotations

from collections.abc import Sequence

from acp import (
    start_tool_call,
    text_block,
    update_agent_message,
    update_agent_thought_text,
    update_user_message_text,
)

from ..protocol import Json, objects
from ..store import Entry
from .updates import KINDS, Update, image_link


def updates(exchanges: Sequence[Sequence[Entry]]) -> list[Update]:
    """Every shown entry of the exchanges (tool rounds stay hidden, as in gemini/history)."""
    out: list[Update] = []
    for turn, group in enumerate(exchanges, 1):
        for entry in group:
            if entry.meta.get("hidden"):
                continue
            out += _user(entry.meta) if entry.role == "user" else _reply(entry.meta, turn)
    return out


def _user(meta: Json) -> list[Update]:
    text = str(meta.get("text", ""))
    names = [str(a.get("name", "")) for a in objects(meta.get("attachments"))]
    if names:
        attached = "Attached: " + ", ".join(f"`{n}`" for n in names)
        text = f"{text}\n\n{attached}" if text else attached
    return [update_user_message_text(text)] if text else []


def _reply(meta: Json, turn: int) -> list[Update]:
    out: list[Update] = []
    thoughts = str(meta.get("thoughts") or "")
    if thoughts:
        out.append(update_agent_thought_text(thoughts))
    for i, call in enumerate(objects(meta.get("toolCalls")), 1):
        name = str(call.get("name", ""))
        title = str(call.get("summary", name))
        out.append(
            start_tool_call(
                f"turn-{turn}-tool-{i}", title, kind=KINDS.get(name, "other"), status="completed"
            )
        )
    text = str(meta.get("text", ""))
    if text:
        out.append(update_agent_message(text_block(text)))
    out += [update_agent_message(image_link(image)) for image in objects(meta.get("images"))]
    return out
