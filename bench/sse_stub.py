"""A tiny streamGenerateContent server that records when it wrote its first SSE chunk.

The emulator records requests, disconnects and finished streams, but not the moment a chunk
was written, so the first-delta latency needs this stub. It answers models.get (GET) with a
model, and every POST with a short SSE reply: it writes the first chunk, notes
`time.monotonic()`, then waits for `release` (set by the bench once the client saw the first
delta) before writing the rest, so later chunks cannot queue behind the first one.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import MODEL

PIECES = ["The first ", "piece, then ", "the rest."]
RELEASE_TIMEOUT = 10.0


def _event(text: str, last: bool) -> bytes:
    candidate: dict[str, object] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "index": 0,
    }
    chunk: dict[str, object] = {"candidates": [candidate], "modelVersion": MODEL}
    if last:
        candidate["finishReason"] = "STOP"
        chunk["usageMetadata"] = {
            "promptTokenCount": 10,
            "candidatesTokenCount": 8,
            "totalTokenCount": 18,
        }
    data = f"data: {json.dumps(chunk, separators=(',', ':'))}\r\n\r\n".encode()
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StubServer  # pyright: ignore[reportIncompatibleVariableOverride]

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: nothing to stderr."""

    def do_GET(self) -> None:
        """models.get: the daemon asks for the input limit (its context-size check)."""
        body = json.dumps(
            {"name": f"models/{MODEL}", "inputTokenLimit": 1_048_576, "outputTokenLimit": 65_536}
        ).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
        self.wfile.write(head.encode() + b"\r\n\r\n" + body)

    def do_POST(self) -> None:
        """Stream PIECES as SSE, timing the first write."""
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        head = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=UTF-8\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        self.wfile.write(head)
        events = [_event(p, i == len(PIECES) - 1) for i, p in enumerate(PIECES)]
        self.wfile.write(events[0])
        self.server.first_written.append(time.monotonic())
        self.server.release.wait(RELEASE_TIMEOUT)
        self.wfile.write(b"".join(events[1:]) + b"0\r\n\r\n")


class StubServer(ThreadingHTTPServer):
    """The stub: `first_written` holds one monotonic time per request; set `release` to go on."""

    daemon_threads = True

    def __init__(self) -> None:
        self.first_written: list[float] = []
        self.release = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def server_bind(self) -> None:
        """Bind without a reverse-DNS lookup."""
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.server_port}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
