"""The emulator's shared state: keys, the fault script, recorded requests, open sockets."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from .catalog import ModelCatalog
from .files import FileStore
from .schema import JsonObject, SchemaValidator
from .steps import check_step

DEFAULT_API_KEY = "emulator-key"
"""The key the emulator accepts when none is given (what `make chat` uses without a real key)."""
RECORDED_BYTES = 64 << 20
"""Request bodies kept for tests to read, in bytes: past it the oldest requests are forgotten
(the newest is always kept), so a long `make chat` does not grow without bound (every turn's
request carries the whole conversation)."""
RECORDED_EVENTS = 10_000
"""Events kept (the oldest are forgotten past it)."""


def parse_json(raw: bytes) -> object | None:
    """A body parsed as JSON; None when it is empty or not JSON."""
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class RecordedRequest:
    """A request as received: header names lower-case, the body as its bytes (parsed when
    read: bytes take a fraction of the memory of the parsed tree)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: bytes | None
    """The body received; None for upload bytes (streamed to the file store, never kept)."""

    @property
    def body(self) -> object | None:
        """The body parsed as JSON (None if it is not JSON or was not kept)."""
        return None if self.raw is None else parse_json(self.raw)

    def shown(self) -> JsonObject:
        """The request as `/_emulator/requests` answers it (the body parsed)."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
        }


class EmulatorState:
    """Everything the handler threads share: keys, script, files, records, events, sockets."""

    def __init__(
        self,
        api_keys: Sequence[str],
        input_token_limit: int | None = None,
        recorded_bytes: int = RECORDED_BYTES,
    ) -> None:
        self.api_keys = frozenset(api_keys)
        self.validator = SchemaValidator.bundled()
        self.catalog = ModelCatalog.bundled()
        self.files = FileStore()
        self.stopping = threading.Event()
        self._cond = threading.Condition()
        self._script: deque[JsonObject] = deque()
        self._requests: deque[RecordedRequest] = deque()
        self._recorded = 0
        self._recorded_bytes = recorded_bytes
        self._events: deque[JsonObject] = deque(maxlen=RECORDED_EVENTS)
        self._sockets: set[socket.socket] = set()
        self._finish = self.validator.enum_values("Candidate", "finishReason")
        self._blocks = self.validator.enum_values("PromptFeedback", "blockReason")
        self._limit: int | None = None
        self.set_input_token_limit(input_token_limit)

    @property
    def input_token_limit(self) -> int | None:
        """The input token limit that overrides every model's, or None (each model's own)."""
        with self._cond:
            return self._limit

    def set_input_token_limit(self, limit: int | None) -> None:
        """Override every model's inputTokenLimit (None: back to each model's own)."""
        value = cast("object", limit)  # callers from untyped code (the control endpoint, tests)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"inputTokenLimit must be a positive integer or None, not {value!r}")
        if limit is not None and limit < 1:
            raise ValueError(f"inputTokenLimit must be a positive integer, not {limit}")
        with self._cond:
            self._limit = limit

    def token_limit(self, model: JsonObject) -> int | None:
        """The input token limit a model enforces: the override, else its own inputTokenLimit."""
        override = self.input_token_limit
        own = model.get("inputTokenLimit")
        if override is not None:
            return override
        return own if isinstance(own, int) and not isinstance(own, bool) else None

    def with_limit(self, model: JsonObject) -> JsonObject:
        """The model as models.get shows it: a copy with the overriding inputTokenLimit."""
        override = self.input_token_limit
        if override is None or "inputTokenLimit" not in model:
            return model
        return {**model, "inputTokenLimit": override}  # same key order: the value is replaced

    def add_steps(self, steps: Sequence[object]) -> int:
        """Validate and queue script steps; return the queue length."""
        checked = [check_step(s, self._finish, self._blocks) for s in steps]
        with self._cond:
            self._script.extend(checked)
            return len(self._script)

    def next_step(self) -> JsonObject:
        """The next scripted step, or {} (the default reply) when the script is empty."""
        with self._cond:
            return self._script.popleft() if self._script else {}

    def record(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        raw: bytes | None,
    ) -> None:
        """Remember a request (forgetting the oldest past `recorded_bytes`) and announce it as a
        "request" event."""
        with self._cond:
            self._requests.append(RecordedRequest(method, path, query, headers, raw))
            self._recorded += len(raw or b"")
            while self._recorded > self._recorded_bytes and len(self._requests) > 1:
                self._recorded -= len(self._requests.popleft().raw or b"")
        self.event("request", method=method, path=path)

    def event(self, kind: str, **fields: object) -> None:
        """Record an event and wake anyone waiting for one."""
        with self._cond:
            self._events.append({"type": kind, **fields, "time": time.monotonic()})
            self._cond.notify_all()

    def requests(self, path_contains: str = "") -> list[RecordedRequest]:
        """A snapshot of recorded requests whose path contains `path_contains`."""
        with self._cond:
            return [r for r in self._requests if path_contains in r.path]

    def events(self) -> list[JsonObject]:
        """A snapshot of the events so far."""
        with self._cond:
            return [dict(e) for e in self._events]

    def wait_for_event(self, kind: str, timeout: float) -> JsonObject:
        """The first event of type `kind` since the last clear, waiting up to `timeout` seconds."""

        def find() -> JsonObject | None:
            return next((e for e in self._events if e["type"] == kind), None)

        with self._cond:
            if not self._cond.wait_for(lambda: find() is not None, timeout):
                seen = [e["type"] for e in self._events]
                raise TimeoutError(f"no {kind!r} event within {timeout}s (events: {seen})")
            return dict(cast("JsonObject", find()))

    def clear(self) -> None:
        """Forget requests, events, scripts and files (the token limit is configuration)."""
        with self._cond:
            self._script.clear()
            self._requests.clear()
            self._recorded = 0
            self._events.clear()
        self.files.clear()

    def track(self, sock: socket.socket, add: bool) -> None:
        """Keep the set of open client connections (stop() closes them)."""
        with self._cond:
            if add:
                self._sockets.add(sock)
            else:
                self._sockets.discard(sock)

    def close_sockets(self) -> None:
        """Shut down every open client connection (wakes handler threads blocked on reads)."""
        with self._cond:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the peer
                sock.shutdown(socket.SHUT_RDWR)
