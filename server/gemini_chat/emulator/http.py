"""The emulator's HTTP side: the server, reading requests, writing responses, disconnects.

routes.py holds what each API path answers; control.py the /_emulator/ endpoints.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .control import control
from .errors import RequestError
from .schema import JsonObject
from .state import EmulatorState, parse_json

_log = logging.getLogger("gemini_chat.emulator")
_POLL = 0.01  # how often a wait looks for a closed client socket (cancel must be seen fast)
UPLOAD_PATH = "/upload/v1beta/files"


class EmulatorServer(ThreadingHTTPServer):
    """A threading HTTP server that carries the emulator's state."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops SYNs when many clients connect at once.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        state: EmulatorState,
        handler: type[BaseHTTPRequestHandler],
    ) -> None:
        self.state = state
        super().__init__(address, handler)

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


def pretty(obj: object) -> bytes:
    """Pretty-printed like the API's non-streamed bodies: 2-space indent, final newline."""
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()


def sse_event(obj: JsonObject | str) -> bytes:
    """One SSE event: a single-line JSON after `data: `, CRLF framed."""
    line = (
        obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False, separators=(",", ": "))
    )
    return f"data: {line}\r\n\r\n".encode()


class BaseHandler(BaseHTTPRequestHandler):
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
        """Serve DELETE."""
        self._handle()

    def _handle(self) -> None:
        self._gone = False
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        if split.path == UPLOAD_PATH and "upload_id" in query:
            # Upload bytes: streamed to the handler, never recorded (only their request line).
            self.server.state.record(self.command, split.path, query, headers, None)
            status = self._answering(lambda: self._upload(query, headers))
        else:
            raw = self._read_body()
            if split.path.startswith("/_emulator/"):
                self._control(split.path, raw, query)
                return
            body = parse_json(raw)
            self.server.state.record(self.command, split.path, query, headers, raw)
            status = self._answering(lambda: self._api(split.path, query, raw, body))
        # Only the path: the query may carry ?key=, which must never reach a log.
        _log.info("%s %s -> %s", self.command, split.path, status if status else "dropped")

    def _answering(self, route: Callable[[], int]) -> int:
        """Run a route; a RequestError becomes its error response."""
        try:
            return route()
        except RequestError as err:
            self._send(err.status, pretty(err.body), headers=err.headers)
            return err.status

    def _api(self, path: str, query: dict[str, str], raw: bytes, body: object | None) -> int:
        """Answer an API request; the status sent (0: none). Routes override this."""
        raise NotImplementedError

    def _upload(self, query: dict[str, str], headers: dict[str, str]) -> int:
        """Answer a request on an upload URL, reading its body. Routes override this."""
        raise NotImplementedError

    def _read_body(self) -> bytes:
        return b"".join(self._body_pieces())

    def _body_pieces(self, size: int = 1 << 16) -> Iterator[bytes]:
        """The request body in pieces of at most `size` bytes (chunked or Content-Length)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while length := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                yield self.rfile.read(length)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            piece = self.rfile.read(min(size, left))
            if not piece:
                return  # the client went away mid-body
            left -= len(piece)
            yield piece

    # --- writing ---------------------------------------------------------------------------

    def _head(
        self,
        status: int,
        content_type: str,
        length: int | None,
        extra: dict[str, str] | None = None,
    ) -> bytes:
        lines = [
            f"HTTP/1.1 {status} {_reason(status)}",
            f"Content-Type: {content_type}",
            "Vary: Origin, X-Origin, Referer",
            "Server: scaffolding on HTTPServer2",
            "X-Content-Type-Options: nosniff",
            *(f"{name}: {value}" for name, value in (extra or {}).items()),
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

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Headers and body in one write."""
        head = self._head(status, f"{content_type}; charset=UTF-8", len(body), headers)
        self._write(head + body)

    def _chunk(self, data: bytes) -> bool:
        return self._write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _wait(self, seconds: float) -> bool:
        """Sleep `seconds`, watching the socket: False as soon as the client has closed it."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            closed = self._peer_closed(min(remaining, _POLL))
            # Checked after the poll too: stop() shuts our sockets down, which reads as a close.
            if self.server.state.stopping.is_set():
                self.close_connection = True  # shutting down: not the client's doing
                return False
            if closed:
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

    def _control(self, path: str, raw: bytes, query: dict[str, str]) -> None:
        status, result = control(self.server.state, self.command, path, parse_json(raw), query)
        self._send(status, pretty(result))
