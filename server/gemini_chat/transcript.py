"""What clients are shown of stored contents: history turns (and, later, exports)."""

from __future__ import annotations

from .protocol import Json
from .store import Entry

_MODEL_FIELDS = ("usage", "thoughts", "model", "finishReason", "toolCalls", "images")


def shown(e: Entry) -> Json:
    """One `gemini/history` turn of a stored entry."""
    item: Json = {
        "role": e.role,
        "text": e.meta.get("text", ""),
        "attachments": e.meta.get("attachments", []),
        "time": e.time,
    }
    for name in ("compacted",) if e.role == "user" else _MODEL_FIELDS:
        if e.meta.get(name) is not None:
            item[name] = e.meta[name]
    return item
