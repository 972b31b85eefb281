"""The emulator's HTTP side: the request handler, v1beta routes, SSE writing, control API."""

from __future__ import annotations

import base64
import json
import logging
import re
import select
import socket
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import parse_qsl, urlsplit

from .control import control
from .errors import (
    MISSING_KEY,
    RequestError,
    invalid_key_error,
    not_found_model,
    plain_error,
    scripted_error,
    token_limit_error,
    violations_error,
)
from .replies import blocked, build_reply, prompt_details, response_id
from .schema import JsonObject, conversation_error
from .state import EmulatorState

_log = logging.getLogger("gemini_chat.emulator")
_POLL = 0.01  # how often a wait looks for a closed client socket (cancel must be seen fast)
_BROKEN_JSON = '{"candidates": [{"content": {"parts": [{"text": "cut'
_ROUTE = re.compile(r"^/v1beta/(models/[^/:]+)(?::([A-Za-z]+))?$")


class EmulatorServer(ThreadingHTTPServer):
    """A threading HTTP server that carries the emulator's state."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops SYNs when many clients connect at once.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: EmulatorState) -> None:
        self.state = state
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse-DNS lookup of the host (slow on some machines)."""
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = (
            str(self.server_address[0]),
            int(self.server_address[1]),
        )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Client Closed Request" if status == 499 else "Error"


def _pretty(obj: object) -> bytes:
    """Pretty-printed like the API's non-streamed bodies: 2-space indent, final newline."""
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()


def _sse(obj: JsonObject | str) -> bytes:
    """One SSE event: a single-line JSON after `data: `, CRLF framed."""
    line = (
        obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, separators=(",", ": "))
    )
    return f"data: {line}\r\n\r\n".encode()


def _parse_json(raw: bytes) -> object | None:
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None


class Handler(BaseHTTPRequestHandler):
    """One client connection: HTTP/1.1 keep-alive, every response written in one write."""

    protocol_version = "HTTP/1.1"
    server: EmulatorServer  # pyright: ignore[reportIncompatibleVariableOverride]
    _gone = False

    def setup(self) -> None:
        """Disable Nagle (no delayed-ACK stalls between small writes) and track the socket."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.state.track(self.connection, True)

    def finish(self) -> None:
        """Untrack the socket."""
        try:
            super().finish()
        finally:
            self.server.state.track(self.connection, False)

    def log_message(self, format: str, *args: object) -> None:
        """Route http.server's own messages (malformed requests) to our logger."""
        _log.debug(format, *args)

    def do_GET(self) -> None:
        """Serve GET."""
        self._handle()

    def do_POST(self) -> None:
        """Serve POST."""
        self._handle()

    def do_DELETE(self) -> None:
        """Serve DELETE (always 404 here)."""
        self._handle()

    def _handle(self) -> None:
        self._gone = False
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        raw = self._read_body()
        if split.path.startswith("/_emulator/"):
            self._control(split.path, raw, query)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        body = _parse_json(raw)
        self.server.state.record(self.command, split.path, query, headers, body)
        try:
            status = self._api(split.path, query, raw, body)
        except RequestError as err:
            status = err.status
            self._send(err.status, _pretty(err.body))
        # Only the path: the query may carry ?key=, which must never reach a log.
        _log.info("%s %s -> %s", self.command, split.path, status if status else "dropped")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(data)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # --- writing ---------------------------------------------------------------------------

    def _head(self, status: int, content_type: str, length: int | None) -> bytes:
        lines = [
            f"HTTP/1.1 {status} {_reason(status)}",
            f"Content-Type: {content_type}",
            "Vary: Origin, X-Origin, Referer",
            "Server: scaffolding on HTTPServer2",
            "X-Content-Type-Options: nosniff",
        ]
        lines.append(
            f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
        )
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _write(self, data: bytes) -> bool:
        """Write once; a failure means the client went away (recorded as a disconnect)."""
        if self._gone:
            return False
        try:
            self.wfile.write(data)
        except OSError:
            self._lost()
            return False
        return True

    def _lost(self) -> None:
        if not self._gone:
            self._gone = True
            self.close_connection = True
            self.server.state.event("disconnect", path=urlsplit(self.path).path)

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        """Headers and body in one write."""
        head = self._head(status, f"{content_type}; charset=UTF-8", len(body))
        self._write(head + body)

    def _chunk(self, data: bytes) -> bool:
        return self._write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _wait(self, seconds: float) -> bool:
        """Sleep `seconds`, watching the socket: False as soon as the client has closed it."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self.server.state.stopping.is_set():
                self.close_connection = True  # shutting down: not the client's doing
                return False
            if self._peer_closed(min(remaining, _POLL)):
                self._lost()
                return False
        return True

    def _peer_closed(self, timeout: float) -> bool:
        readable, _, _ = select.select([self.connection], [], [], timeout)
        if not readable:
            return False
        try:
            data = self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return True
        if data:
            time.sleep(timeout)  # a pipelined request is waiting: not a close, don't spin
        return data == b""

    # --- routes ----------------------------------------------------------------------------

    def _api(self, path: str, query: dict[str, str], raw: bytes, body: object | None) -> int:
        route = self._route(path, query, raw, body)
        if route is None:
            raise plain_error(404, "Method not found.")
        self._check_key(query)
        return route()

    def _route(
        self, path: str, query: dict[str, str], raw: bytes, body: object | None
    ) -> Callable[[], int] | None:
        if path == "/v1beta/models":
            return (lambda: self._list_models(query)) if self.command == "GET" else None
        match = _ROUTE.match(path)
        if match is None:
            return None
        model, method = str(match.group(1)), cast("str | None", match.group(2))
        sse = query.get("alt") == "sse"
        table: dict[tuple[str, str | None], Callable[[], int]] = {
            ("GET", None): lambda: self._get_model(model),
            ("POST", "generateContent"): lambda: self._generate(model, raw, body, None),
            ("POST", "streamGenerateContent"): lambda: self._generate(model, raw, body, sse),
            ("POST", "countTokens"): lambda: self._count(model, raw, body),
        }
        return table.get((self.command, method))

    def _check_key(self, query: dict[str, str]) -> None:
        key = self.headers.get("x-goog-api-key") or query.get("key")
        if not key:
            raise plain_error(403, MISSING_KEY)
        if key not in self.server.state.api_keys:
            raise invalid_key_error()

    def _json_ok(self, obj: object) -> int:
        self._send(200, _pretty(obj))
        return 200

    def _list_models(self, query: dict[str, str]) -> int:
        size_text = query.get("pageSize", "") or "50"
        if not re.fullmatch(r"-?\d+", size_text):
            raise plain_error(400, f"Invalid value at 'page_size' (TYPE_INT32), \"{size_text}\"")
        size = int(size_text)
        size = 50 if size <= 0 else min(size, 1000)
        offset = _decode_token(query.get("pageToken", ""))
        state = self.server.state
        models, next_offset = state.catalog.page(size, offset)
        result: JsonObject = {"models": [state.with_limit(m) for m in models]}
        if next_offset is not None:
            result["nextPageToken"] = _encode_token(next_offset)
        return self._json_ok(result)

    def _get_model(self, name: str) -> int:
        model = self.server.state.catalog.get(name)
        if model is None:
            raise not_found_model(name, "get")
        return self._json_ok(self.server.state.with_limit(model))

    def _request(self, raw: bytes, body: object | None, schema: str) -> JsonObject:
        """The parsed request body, or the API's 400 for bad JSON or a schema violation."""
        if body is None and raw.strip():
            snippet = raw[:40].decode(errors="replace")
            raise plain_error(
                400, f"Invalid JSON payload received. Unexpected token.\n{snippet}\n^"
            )
        violations = self.server.state.validator.validate({} if body is None else body, schema)
        if violations:
            raise violations_error(violations)
        return self.server.state.validator.camelize(cast("JsonObject", body or {}), schema)

    def _count(self, model: str, raw: bytes, body: object | None) -> int:
        if self.server.state.catalog.get(model, "countTokens") is None:
            raise not_found_model(model, "countTokens")
        request = self._request(raw, body, "CountTokensRequest")
        inner = request.get("generateContentRequest")
        if isinstance(inner, dict):
            if "contents" in request:
                raise plain_error(
                    400, "Either contents or generate_content_request may be set, not both."
                )
            request = cast("JsonObject", inner)
            where = "CountTokensRequest.generate_content_request"
            if not re.fullmatch(r"models/[^/]+", str(request.get("model", ""))):
                raise plain_error(400, f"* {where}.model: unexpected model name format\n")
        else:
            where = "CountTokensRequest"
        problem = conversation_error(request.get("contents"), where, must_end_with_user=False)
        if problem:
            raise plain_error(400, problem)
        total, details = prompt_details(request)
        return self._json_ok({"totalTokens": total, "promptTokensDetails": details})

    def _generate(self, model: str, raw: bytes, body: object | None, sse: bool | None) -> int:
        """generateContent (sse None) or streamGenerateContent (SSE, or a JSON array)."""
        state = self.server.state
        found = state.catalog.get(model, "generateContent")
        if found is None:
            raise not_found_model(model, "generateContent")
        request = self._request(raw, body, "GenerateContentRequest")
        where = "GenerateContentRequest"
        problem = conversation_error(request.get("contents"), where, must_end_with_user=True)
        if problem:
            raise plain_error(400, problem)
        limit, (count, _) = state.token_limit(found), prompt_details(request)
        if limit is not None and count > limit:
            raise token_limit_error(count, limit)  # before next_step(): no step is used up
        step = state.next_step()
        if not self._wait(float(cast("float", step.get("delay", 0)))):
            return 0
        if step.get("dropConnection") and "cutAfter" not in step:
            self.close_connection = True
            return 0
        if "status" in step and ("errorAfter" not in step or sse is None):
            raise scripted_error(step, model)
        chunks, full = self._outcome(step, request, model, response_id(raw))
        if sse is None:
            self._send(200, full.encode() if isinstance(full, str) else _pretty(full))
            return 200
        return self._stream(chunks, step, model, sse)

    @staticmethod
    def _outcome(
        step: JsonObject, request: JsonObject, model: str, rid: str
    ) -> tuple[list[JsonObject | str], JsonObject | str]:
        """The stream's events and the non-streamed body for a step."""
        if step.get("invalidJson"):
            return [_BROKEN_JSON], _BROKEN_JSON
        if "block" in step:
            prompt, _ = prompt_details(request)
            body = blocked(model.removeprefix("models/"), rid, prompt, str(step["block"]))
            return [body], body
        reply = build_reply(step, request, model, rid)
        return list[JsonObject | str](reply.chunks()), reply.full()

    def _stream(
        self, chunks: list[JsonObject | str], step: JsonObject, model: str, sse: bool
    ) -> int:
        content_type = "text/event-stream" if sse else "application/json"
        if not self._write(self._head(200, f"{content_type}; charset=UTF-8", None)):
            return 200
        limit = cast("int", step.get("cutAfter", step.get("errorAfter", len(chunks))))
        delay = float(cast("float", step.get("chunkDelay", 0)))
        for i, event in enumerate(chunks[:limit]):
            if (i and not self._wait(delay)) or not self._chunk(self._frame(event, i, sse)):
                return 200
        if "errorAfter" in step:
            error = scripted_error(step, model).body
            if not (self._wait(delay) and self._chunk(self._frame(error, limit, sse))):
                return 200
        if step.get("dropConnection"):
            self.close_connection = True  # cut mid-body: no terminating chunk
            return 200
        tail = b"" if sse else b"]"
        self._write((self._chunk_bytes(tail) if tail else b"") + b"0\r\n\r\n")
        self.server.state.event("done", path=urlsplit(self.path).path)
        return 200

    @staticmethod
    def _chunk_bytes(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    @staticmethod
    def _frame(event: JsonObject | str, index: int, sse: bool) -> bytes:
        if sse:
            return _sse(event)
        text = event if isinstance(event, str) else json.dumps(event, indent=2, ensure_ascii=False)
        return (("[" if index == 0 else ",\r\n") + text).encode()

    def _control(self, path: str, raw: bytes, query: dict[str, str]) -> None:
        status, result = control(self.server.state, self.command, path, _parse_json(raw), query)
        self._send(status, _pretty(result))


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_token(token: str) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    match = re.fullmatch(r"offset:(\d+)", text)
    if match is None:
        raise plain_error(400, "Invalid page token.")
    return int(match.group(1))
