"""Context-window arithmetic and the shape of a compacted conversation (pure)."""

from __future__ import annotations

import json
from typing import TypeAlias

from .store import Entry

Json: TypeAlias = dict[str, object]
Staged: TypeAlias = list[tuple[str, Json, Json]]
KEEP_EXCHANGES = 2
"""The most recent exchanges kept word for word when older ones are summarised."""

SUMMARY_REQUEST = (
    "Summarise our conversation so far for your own later use: the user's goals, decisions "
    "made, facts learned, file names, code that matters (verbatim where short), and open "
    "questions. Be complete but concise. Reply with the summary only."
)
ACKNOWLEDGEMENT = "Understood. I will continue from this summary."


def estimate_tokens(history: list[Entry], draft: Json) -> int:
    """The next request's size: the last turn's usage when known, else characters / 4."""
    for i in range(len(history) - 1, -1, -1):
        e = history[i]
        usage = e.meta.get("usage")
        if e.role == "model" and isinstance(usage, dict):
            u: dict[str, object] = usage  # pyright: ignore[reportUnknownVariableType]
            known = sum(int(v) for k, v in u.items() if k != "totalTokens" and isinstance(v, int))
            return known + _chars(history[i + 1 :]) // 4 + _chars_of(draft) // 4
    return _chars(history) // 4 + _chars_of(draft) // 4


def _chars(entries: list[Entry]) -> int:
    return sum(_chars_of(e.content) for e in entries)


def _chars_of(content: Json) -> int:
    return len(json.dumps(content, separators=(",", ":")))


def too_long(message: str) -> bool:
    """Whether Gemini refused a request for passing the model's input token limit."""
    text = message.lower()
    return "token" in text and ("exceeds the maximum" in text or "too long" in text)


def exchanges(history: list[Entry]) -> list[list[Entry]]:
    """History grouped by exchange (a user turn, its tool rounds, the reply)."""
    groups: dict[int, list[Entry]] = {}
    for e in history:
        groups.setdefault(e.turn, []).append(e)
    return list(groups.values())


def split(history: list[Entry]) -> tuple[list[list[Entry]], list[list[Entry]]]:
    """The exchanges to summarise and the recent ones to keep as they are."""
    groups = exchanges(history)
    keep = KEEP_EXCHANGES if len(groups) > KEEP_EXCHANGES else 0
    return (groups[:-keep], groups[-keep:]) if keep else (groups, [])


def summary_exchange(summary: str, count: int) -> Staged:
    """The marked exchange that stands for `count` summarised ones."""
    user: Json = {
        "role": "user",
        "parts": [{"text": f"Summary of our conversation so far ({count} earlier exchanges):"
                   f"\n\n{summary}"}],
    }  # fmt: skip
    model: Json = {"role": "model", "parts": [{"text": ACKNOWLEDGEMENT}]}
    user_meta: Json = {
        "text": f"Summary of {count} earlier exchanges",
        "compacted": count,
        "attachments": [],
    }
    return [("user", user, user_meta), ("model", model, {"text": summary, "summary": True})]


def restaged(groups: list[list[Entry]]) -> list[Staged]:
    """Kept exchanges, ready to store again in the new conversation."""
    return [[(e.role, e.content, e.meta) for e in group] for group in groups]
