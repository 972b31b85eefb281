"""JSON-RPC envelopes checked before pygls sees them: a frame body becomes a message or a
Refusal to answer, so nothing malformed, too deep or misaddressed reaches a handler."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import cache
from typing import Any, Literal, cast

from . import protocol
from .framing import Refusal

log = logging.getLogger(__name__)

# The deepest nesting of arrays and objects accepted. Real messages stay under ten levels;
# the cap keeps every recursive step after parsing (cattrs, pydantic, logging, json.dumps of
# an answer) far from Python's recursion limit.
MAX_DEPTH = 64


def parse(body: bytes) -> dict[str, Any] | Refusal:
    """A frame body as a JSON-RPC 2.0 object, or the Refusal to answer."""
    try:
        data: object = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        log.warning("Received a frame that is not JSON (%d bytes)", len(body))
        return Refusal(protocol.PARSE_ERROR, "Parse error: the frame is not valid JSON")
    except RecursionError:
        return _too_deep(None)
    if not isinstance(data, dict) or cast(dict[str, object], data).get("jsonrpc") != "2.0":
        found = cast(dict[str, object], data).get("id") if isinstance(data, dict) else None
        return Refusal(
            protocol.INVALID_REQUEST, "Invalid request: not a JSON-RPC 2.0 message", _id(found)
        )
    message = cast(dict[str, Any], data)
    if _deeper_than(message, MAX_DEPTH, body):
        return _too_deep(_id(message.get("id")))
    return message


def check(data: dict[str, Any]) -> Refusal | None:
    """Why a JSON-RPC 2.0 object is not a request, notification or response, if it is not."""
    method = data.get("method")
    if "method" not in data:
        if "result" in data or "error" in data:
            return None  # a response: pygls matches it to a request or logs it
        return Refusal(protocol.INVALID_REQUEST, "Invalid request: no method", _id(data.get("id")))
    if "id" in data and _id(data["id"]) is None:
        return Refusal(
            protocol.INVALID_REQUEST, "Invalid request: the id must be an integer or a string"
        )
    if not isinstance(method, str):
        return Refusal(
            protocol.INVALID_REQUEST, "Invalid request: the method must be a string", data.get("id")
        )
    return None


@cache
def method_kind(method: str) -> Literal["request", "notification"] | None:
    """Whether LSP or PROTOCOL.md make `method` a request or a notification (None: neither)."""
    if method in protocol.METHODS:
        return "request"
    # Here, not at the top: `initialize` is answered before lsprotocol loads (early.py).
    import attrs
    from lsprotocol import types

    message_type = types.METHOD_TO_TYPES.get(method, (None,))[0]
    if message_type is None:
        return None
    return "request" if "id" in attrs.fields_dict(message_type) else "notification"


def _id(value: object) -> int | str | None:
    """A usable message id (LSP: integer or string), else None."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    return value


def _too_deep(msg_id: int | str | None) -> Refusal:
    log.warning("Refusing a message nested deeper than %d levels", MAX_DEPTH)
    return Refusal(
        protocol.INVALID_REQUEST, f"Invalid request: nested deeper than {MAX_DEPTH} levels", msg_id
    )


def _deeper_than(value: object, limit: int, body: bytes) -> bool:
    """Whether arrays and objects nest more than `limit` levels (walked without recursion)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot be: the common case costs two byte counts
    stack: list[tuple[object, int]] = [(value, 1)]  # containers only
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[object] = cast(dict[str, object], item).values()
        elif isinstance(item, list):
            children = cast(list[object], item)
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))  # pyright: ignore[reportUnknownArgumentType]
    return False


def answer_id(data: object) -> object:
    """The id of an outgoing answer (a pygls response object or a plain dict), else None."""
    if isinstance(data, dict):
        frame = cast(dict[str, object], data)
        return None if "method" in frame else frame.get("id")
    return None if hasattr(data, "method") else getattr(data, "id", None)
