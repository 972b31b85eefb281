"""A local stand-in for the Gemini API (v1beta): a real HTTP server with scriptable faults.

It works on raw JSON and checks requests against the API's discovery document, so a mistake in
the client's own models cannot hide behind a shared model. See docs/emulator.md.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import cast

from gemini_chat.emulator_errors import STATUS_NAMES
from gemini_chat.emulator_http import EmulatorServer
from gemini_chat.emulator_schema import JsonObject, ModelCatalog, SchemaValidator

__all__ = ["DEFAULT_API_KEY", "Emulator", "RecordedRequest", "main"]

DEFAULT_API_KEY = "emulator-key"
"""The key the emulator accepts when none is given (what `make chat` uses without a real key)."""


@dataclass(frozen=True)
class RecordedRequest:
    """A request as received: header names lower-case, body parsed (None if not JSON)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: object | None


class EmulatorState:
    """Everything the handler threads share: keys, script, records, events, open sockets."""

    def __init__(self, api_keys: Sequence[str], input_token_limit: int | None = None) -> None:
        self.api_keys = frozenset(api_keys)
        self.validator = SchemaValidator.bundled()
        self.catalog = ModelCatalog.bundled()
        self.stopping = threading.Event()
        self._cond = threading.Condition()
        self._script: deque[JsonObject] = deque()
        self._requests: list[RecordedRequest] = []
        self._events: list[JsonObject] = []
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
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: object
    ) -> None:
        """Remember a request and announce it as a "request" event."""
        with self._cond:
            self._requests.append(RecordedRequest(method, path, query, headers, body))
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
        """Forget requests, events and the script (the token limit is configuration: it stays)."""
        with self._cond:
            self._script.clear()
            self._requests.clear()
            self._events.clear()

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


# --- script steps --------------------------------------------------------------------------

_NUMBER = (int, float)
_STEP_TYPES: dict[str, tuple[type, ...]] = {
    "reply": (str,),
    "chunks": (list,),
    "thought": (str,),
    "finishReason": (str,),
    "status": (int,),
    "message": (str,),
    "retryDelay": (str,),
    "quota": (str,),
    "delay": _NUMBER,
    "chunkDelay": _NUMBER,
    "cutAfter": (int,),
    "errorAfter": (int,),
    "block": (str,),
    "invalidJson": (bool,),
    "dropConnection": (bool,),
    "functionCall": (dict,),
    "image": (dict,),
}


def check_step(
    step: object, finish_reasons: Sequence[str], block_reasons: Sequence[str]
) -> JsonObject:
    """Validate one script step (so a typo in a test fails loudly); return a copy."""
    if not isinstance(step, dict):
        raise ValueError(f"a script step must be an object, not {type(step).__name__}")
    checked = dict(cast("JsonObject", step))
    for key, value in checked.items():
        types = _STEP_TYPES.get(key)
        if types is None:
            raise ValueError(f"unknown script step key {key!r} (known: {', '.join(_STEP_TYPES)})")
        if isinstance(value, bool) != (bool in types) or not isinstance(value, types):
            raise ValueError(f"script step {key!r} has the wrong type: {value!r}")
    problem = _step_value_problem(checked, finish_reasons, block_reasons)
    if problem:
        raise ValueError(f"bad script step {checked!r}: {problem}")
    return checked


def _step_value_problem(
    step: JsonObject, finish_reasons: Sequence[str], block_reasons: Sequence[str]
) -> str | None:
    chunks = step.get("chunks", [])
    checks = [
        (all(isinstance(c, str) for c in cast("list[object]", chunks)), "chunks must be strings"),
        (step.get("finishReason", "STOP") in finish_reasons, "unknown finishReason"),
        (step.get("block", "SAFETY") in block_reasons, "unknown block reason"),
        (step.get("status", 500) in STATUS_NAMES, f"status must be one of {sorted(STATUS_NAMES)}"),
        (step.get("quota", "minute") in ("minute", "day"), 'quota must be "minute" or "day"'),
        (re.fullmatch(r"\d+(\.\d+)?s", str(step.get("retryDelay", "1s"))), "retryDelay like '2s'"),
        ("errorAfter" not in step or "status" in step, "errorAfter needs a status"),
    ]
    for key in ("delay", "chunkDelay", "cutAfter", "errorAfter"):
        checks.append((cast("float", step.get(key, 0)) >= 0, f"{key} must not be negative"))
    call = cast("JsonObject", step.get("functionCall", {"name": "f"}))
    checks.append((isinstance(call.get("name"), str), "functionCall needs a name"))
    checks.append((isinstance(call.get("args", {}), dict), "functionCall args must be an object"))
    image = cast("JsonObject", step.get("image", {"mimeType": "a", "data": ""}))
    checks.append(
        (isinstance(image.get("mimeType"), str) and isinstance(image.get("data"), str), "image")
    )
    return next((message for ok, message in checks if not ok), None)


class Emulator:
    """The Gemini API emulator: start() it, point a client at .url, script() faults."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: Sequence[str] = (DEFAULT_API_KEY,),
        input_token_limit: int | None = None,
    ) -> None:
        if isinstance(api_keys, str):
            raise TypeError("api_keys must be a sequence of keys, not one string")
        self._address = (host, port)
        self._state = EmulatorState(api_keys, input_token_limit)
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    def start(self) -> str:
        """Serve in a daemon thread; return the base URL, e.g. "http://127.0.0.1:PORT"."""
        if self._url is not None:
            return self._url
        server = EmulatorServer(self._address, self._state)
        host = self._address[0]
        self._url = f"http://{f'[{host}]' if ':' in host else host}:{server.server_port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"gemini-emulator-{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self._url

    def stop(self) -> None:
        """Stop serving and close open connections; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        self._state.stopping.set()
        server.shutdown()
        self._state.close_sockets()
        server.server_close()
        thread.join()

    @property
    def url(self) -> str:
        """The base URL (only after start())."""
        if self._url is None:
            raise RuntimeError("the emulator is not started")
        return self._url

    def script(self, *steps: dict[str, object]) -> None:
        """Queue steps; each generate/stream call takes one (FIFO); none left: the default reply."""
        self._state.add_steps(steps)

    def requests(self, path_contains: str = "") -> list[RecordedRequest]:
        """The requests received so far (all, or those whose path contains the text)."""
        return self._state.requests(path_contains)

    def events(self) -> list[dict[str, object]]:
        """The events so far: "request", "done" (stream finished), "disconnect"."""
        return self._state.events()

    def wait_for_event(self, type: str, timeout: float = 5.0) -> dict[str, object]:
        """The first event of this type since clear(), waiting for it; TimeoutError if none."""
        return self._state.wait_for_event(type, timeout)

    def clear(self) -> None:
        """Forget requests, events and the script; the input token limit stays."""
        self._state.clear()

    @property
    def input_token_limit(self) -> int | None:
        """The input token limit set for every model, or None (each model's own)."""
        return self._state.input_token_limit

    def set_input_token_limit(self, limit: int | None) -> None:
        """Make every model report and enforce this inputTokenLimit (None: their own again)."""
        self._state.set_input_token_limit(limit)

    def __enter__(self) -> Emulator:
        """Start on entering a with-block."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a with-block."""
        self.stop()


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave the serving loop."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _positive(text: str) -> int:
    """An argparse type: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """The gemini-chat-emulator command: print the URL, serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="gemini-chat-emulator", description="A local stand-in for the Gemini API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help=f"a key to accept (repeatable; default {DEFAULT_API_KEY!r})",
    )
    parser.add_argument(
        "--input-token-limit",
        type=_positive,
        metavar="N",
        help="report and enforce this inputTokenLimit for every model",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
    )
    keys = args.api_keys or [DEFAULT_API_KEY]
    emulator = Emulator(args.host, args.port, keys, args.input_token_limit)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        print(emulator.start(), flush=True)
        while True:
            signal.pause()
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
