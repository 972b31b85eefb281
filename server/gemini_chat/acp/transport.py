"""Newline-delimited JSON-RPC over stdio for the ACP SDK's connection (its `Transport` seam).

stdin is read on a thread, as the native daemon does (any kind of file works, pipes included);
a line that is not a JSON object is answered with the JSON-RPC error it deserves instead of
being dropped, so a client never waits for an answer that will not come. Writes go to the
original stdout only (fd 1 itself is pointed at stderr by the caller).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any, BinaryIO

from .. import envelope, protocol
from ..framing import Refusal

log = logging.getLogger(__name__)
MAX_LINE = 64 * 1024 * 1024
"""Bytes of one message; a longer line is refused (its bytes are skipped, not kept)."""
TOO_LARGE = b"\0"
"""Stands for a line over MAX_LINE in the queue (no JSON line can be this)."""


class StdioTransport:
    """One JSON-RPC message per line on a pair of byte streams."""

    def __init__(self, stdin: BinaryIO, stdout: BinaryIO) -> None:
        self._out = stdout
        self._lock = threading.Lock()
        self._lines: asyncio.Queue[bytes | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        reader = threading.Thread(target=self._read, args=(stdin, loop), daemon=True)
        reader.start()

    def _read(self, stdin: BinaryIO, loop: asyncio.AbstractEventLoop) -> None:
        """Hand each line to the loop; None at end of input."""
        try:
            while line := stdin.readline(MAX_LINE + 1):
                if len(line) > MAX_LINE and not line.endswith(b"\n"):
                    while (rest := stdin.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                        pass
                    line = TOO_LARGE
                loop.call_soon_threadsafe(self._lines.put_nowait, line)
        except (OSError, ValueError) as exc:
            log.info("stdin closed: %s", exc)
        finally:
            loop.call_soon_threadsafe(self._lines.put_nowait, None)

    async def receive(self) -> dict[str, Any] | None:
        """The next message; None once stdin ends."""
        while (line := await self._lines.get()) is not None:
            message = self._parse(line)
            if message is not None:
                return message
        return None

    def _parse(self, line: bytes) -> dict[str, Any] | None:
        if not line.strip():
            return None
        if line is TOO_LARGE:
            refusal = Refusal(
                protocol.INVALID_REQUEST, f"Invalid request: a message over {MAX_LINE} bytes"
            )
            self._refuse(refusal)
            return None
        # The daemon's own check: not JSON, not JSON-RPC 2.0, or nested too deep to handle.
        message = envelope.parse(line)
        if isinstance(message, Refusal):
            self._refuse(message)
            return None
        return message

    def _refuse(self, refusal: Refusal) -> None:
        log.warning("%s", refusal.message)
        error = {"code": refusal.code, "message": refusal.message}
        self._write({"jsonrpc": "2.0", "id": refusal.msg_id, "error": error})

    async def send(self, message: dict[str, Any]) -> None:
        """Write one message as one line."""
        self._write(message)

    def _write(self, message: dict[str, Any]) -> None:
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            view = memoryview(data)
            while view:  # an unbuffered write may take only part of it
                view = view[self._out.write(view) or 0 :]
            self._out.flush()

    async def close(self) -> None:
        """Flush what was written."""
        with self._lock:
            self._out.flush()
