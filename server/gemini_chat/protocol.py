"""PROTOCOL.md in code: method names, error codes and reasons (imports nothing heavy)."""

from __future__ import annotations

from typing import Literal, TypeAlias, cast

Json: TypeAlias = dict[str, object]
"""A JSON object as the daemon handles it (params, results, stored contents)."""


def objects(value: object) -> list[Json]:
    """The JSON objects in `value` when it is a list (stored meta read back), else none."""
    items = cast(list[object], value) if isinstance(value, list) else []
    return [cast(Json, v) for v in items if isinstance(v, dict)]


SETTINGS_SECTION = "gemini"

PROTOCOL_VERSION = 1

CHAT = "gemini/chat"
HISTORY = "gemini/history"
RESET = "gemini/reset"
MODELS = "gemini/models"
STATUS = "gemini/status"
COUNT_TOKENS = "gemini/countTokens"
SET_MODEL = "gemini/setModel"
CONVERSATIONS = "gemini/conversations"
OPEN_CONVERSATION = "gemini/openConversation"
RENAME_CONVERSATION = "gemini/renameConversation"
DELETE_CONVERSATION = "gemini/deleteConversation"
EXPORT = "gemini/export"
GENERATE_IMAGE = "gemini/generateImage"
METHODS = [
    CHAT, HISTORY, RESET, MODELS, STATUS, COUNT_TOKENS, SET_MODEL,
    CONVERSATIONS, OPEN_CONVERSATION, RENAME_CONVERSATION, DELETE_CONVERSATION, EXPORT,
    GENERATE_IMAGE,
]  # fmt: skip

CONVERSATION_CHANGED = "gemini/conversationChanged"
TURN_PROGRESS = "gemini/turnProgress"
NOTIFICATIONS = [CONVERSATION_CHANGED, TURN_PROGRESS]
"""Notifications the daemon sends (listed in the capability, like the methods)."""

# JSON-RPC 2.0 and LSP error codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_NOT_INITIALIZED = -32002
REQUEST_CANCELLED = -32800
REQUEST_FAILED = -32803


Reason = Literal[
    "apiKeyMissing",
    "apiKeyInvalid",
    "rateLimited",
    "blocked",
    "modelNotFound",
    "badRequest",
    "upstreamUnavailable",
    "timeout",
    "network",
    "storage",
]


class FieldError(ValueError):
    """Input that does not fit the protocol; answered InvalidParams naming the field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def settings_section(options: object) -> Json:
    """The `gemini` section of initializationOptions or didChangeConfiguration settings.

    Either the section itself (`{"model": ...}`) or wrapped (`{"gemini": {...}}`).
    """
    if not isinstance(options, dict):
        return {}
    outer = cast(Json, options)
    inner = outer.get(SETTINGS_SECTION, outer)
    return cast(Json, inner) if isinstance(inner, dict) else {}


def invalid_params_data(field: str) -> dict[str, object]:
    """`data` of an InvalidParams error."""
    return {"reason": "invalidParams", "field": field}
