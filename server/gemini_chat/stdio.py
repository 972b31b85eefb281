"""The stdio transport: LSP base-protocol frames read on a thread, dispatched on the event loop."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from .server import GeminiChatServer

log = logging.getLogger("gemini_chat")
MAX_FRAME = 64 * 1024 * 1024


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
