"""`gemini-chat-server`: parse arguments, set up logging, serve JSON-RPC over stdio or TCP."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from . import __version__

if TYPE_CHECKING:
    from .server import GeminiChatServer

log = logging.getLogger("gemini_chat")
MAX_FRAME = 64 * 1024 * 1024


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The daemon's command line."""
    p = argparse.ArgumentParser(
        prog="gemini-chat-server",
        description="Gemini chat daemon: JSON-RPC (LSP framing) over stdio.",
    )
    p.add_argument("--stdio", action="store_true", help="serve on stdin/stdout (the default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="serve on a TCP socket, for debugging")
    p.add_argument("--version", action="version", version=f"gemini-chat-server {__version__}")
    p.add_argument("--log-file", type=Path, metavar="PATH", help="also write the log here")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log (-vv: pygls too)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `gemini-chat-server` and `python -m gemini_chat`."""
    args = parse_args(argv)
    from . import logs

    logs.setup(args.verbose, args.log_file)
    # stdout carries frames only: keep the real one for frames, send stray prints to stderr.
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from .server import create_server

    server = create_server()
    _log_to_client(server)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        log.info("gemini-chat-server %s listening on %s", __version__, args.tcp)
        server.start_tcp(host or "127.0.0.1", int(port))
        return
    log.info("gemini-chat-server %s on stdio (pid %d)", __version__, os.getpid())
    code = serve_stdio(server, sys.stdin.buffer, frames)
    logging.shutdown()
    os._exit(code)


def _log_to_client(server: GeminiChatServer) -> None:
    """Mirror our own log records to the client as window/logMessage, redacted."""
    from .logs import ClientLogHandler, add_redaction

    handler = ClientLogHandler(server)
    add_redaction(handler)
    logging.getLogger("gemini_chat").addHandler(handler)


class _Writer:
    """Writes whole frames to stdout from the event loop thread."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._out.write(data)

    def close(self) -> None:
        self._out.flush()


def _read_frame(stdin: BinaryIO) -> bytes | None:
    """One LSP frame's body; None at end of input. Garbage headers are skipped, not fatal."""
    length: int | None = None
    while True:
        line = stdin.readline(65536)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            if length is None:
                continue
            return stdin.read(length)
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            try:
                parsed = int(value.strip())
            except ValueError:
                log.warning("Ignoring a frame with a bad Content-Length header")
                continue
            length = parsed if 0 <= parsed <= MAX_FRAME else None


def serve_stdio(server: GeminiChatServer, stdin: BinaryIO, out: BinaryIO) -> int:
    """Read frames on a thread, handle them on the event loop; return the exit status."""
    server.protocol.set_writer(_Writer(out))

    async def run() -> int:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()

        def reader() -> None:
            while True:
                body = _read_frame(stdin)
                loop.call_soon_threadsafe(queue.put_nowait, body)
                if body is None:
                    return

        threading.Thread(target=reader, name="stdin-reader", daemon=True).start()
        while (body := await queue.get()) is not None:
            _dispatch(server, body)
        log.info("stdin closed; exiting")
        return 0 if server.protocol._shutdown else 1  # pyright: ignore[reportPrivateUsage]

    return asyncio.run(run())


def _dispatch(server: GeminiChatServer, body: bytes) -> None:
    """Parse and handle one frame; answer what cannot be parsed instead of dying."""
    from pygls.exceptions import JsonRpcException

    proto = server.protocol
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        log.warning("Received a frame that is not JSON (%d bytes)", len(body))
        _send_error(server, None, -32700, "Parse error: the frame is not valid JSON")
        return
    if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":  # pyright: ignore[reportUnknownMemberType]
        msg_id = data.get("id") if isinstance(data, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        _send_error(server, msg_id, -32600, "Invalid request: not a JSON-RPC 2.0 message")  # pyright: ignore[reportUnknownArgumentType]
        return
    method = str(data.get("method", "response"))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    try:
        message = proto.structure_message(data)  # pyright: ignore[reportUnknownArgumentType]
    except JsonRpcException as exc:
        if "id" in data and "method" in data:
            _send_error(server, data["id"], -32602, f"Invalid params for {data['method']}")  # pyright: ignore[reportUnknownArgumentType]
        log.warning("Could not read a %s message: %s", method, exc)
        return
    try:
        proto.handle_message(message)  # pyright: ignore[reportArgumentType]
    except Exception:
        log.exception("Failed to handle a %s message", method)


def _send_error(server: GeminiChatServer, msg_id: object, code: int, message: str) -> None:
    """Answer a frame we could not dispatch."""
    if isinstance(msg_id, bool) or not isinstance(msg_id, int | str | None):
        msg_id = None
    frame = {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
    server.protocol._send_data(frame)  # pyright: ignore[reportPrivateUsage]
