"""One turn's inputs, read once: the request, its context (settings, store, model), its events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .attachments import Prepared
from .gemini.api import Spliced
from .gemini.client import CallOptions, RetryNotice
from .jsonmode import JsonMode
from .protocol import Json
from .redaction import Redactions
from .settings import Settings
from .store import ConversationStore
from .workspaces import Workspace


@dataclass(frozen=True)
class Turn:
    """One user message, ready to send."""

    ws: Workspace
    message: str
    prepared: Prepared = field(default_factory=Prepared)
    model: str | None = None
    generation_config: Json | None = None
    json_mode: JsonMode | None = None
    """Reply as JSON (with a schema, checked): `gemini/chat`'s `json`."""


class TurnEvents:
    """What a turn tells its client as it goes; the defaults tell nothing.

    `streaming` chooses `streamGenerateContent`; the pieces then arrive through `progress`.
    """

    streaming: bool = False

    async def begin(self, model: str) -> None:
        """The turn starts, with this model."""

    async def waiting(self) -> None:
        """The turn waits for another editor's turn on the folder to end."""

    async def progress(self, value: Json) -> None:
        """A `$/progress` value: {"text"}, {"thought"}, {"tool"}, {"compacted"}, {"image"}, ..."""

    async def retry(self, notice: RetryNotice) -> None:
        """The turn waits before retrying an upstream call."""


@dataclass(frozen=True)
class TurnContext:
    """Everything a turn reads once before it starts: a settings change applies to the next."""

    ws: Workspace
    settings: Settings
    store: ConversationStore
    model: str
    opts: CallOptions
    fields: Json
    """The request's fields but `contents` (system instruction, config, safety, tools)."""
    redactions: Redactions
    context_file: Path | None = None


def call_options(s: Settings) -> CallOptions:
    """The Gemini client's per-call options from the turn's settings."""
    return CallOptions(
        api_key=s.key,
        base_url=s.base_url,
        timeout=s.request_timeout,
        max_retries=s.max_retries,
        max_retry_delay=s.max_retry_delay,
        stream_idle_timeout=s.stream_idle_timeout,
    )


def dumps(value: Json) -> str:
    """Compact JSON text, as stored and sent."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def encode(fields: Json, history: tuple[bytes, ...], contents: list[str]) -> Spliced:
    """A request body: the history's stored JSON texts (in pieces, never copied) and this
    turn's contents spliced in, then the other fields.

    `fields` must not hold "contents" (JSON's last duplicate key would win).
    """
    rest = dumps(fields)
    tail = ("," + rest[1:] if fields else "}").encode()
    turn = ",".join(contents).encode()
    joint = b"," if any(history) and turn else b""
    return Spliced((b'{"contents":[', *history, joint + turn + b"]" + tail))
