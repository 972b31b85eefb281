"""The stdio transport: LSP base-protocol frames read on a thread, dispatched on the event loop."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO, cast

from . import envelope
from .framing import FrameReader, Refusal

if TYPE_CHECKING:
    from .server import GeminiChatProtocol, GeminiChatServer

log = logging.getLogger("gemini_chat")
Item = bytes | Refusal | None


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


def serve_stdio(server: GeminiChatServer, stdin: BinaryIO, out: BinaryIO) -> int:
    """Read frames on a thread, handle them on the event loop; return the exit status."""
    server.protocol.set_writer(_Writer(out))

    async def run() -> int:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Item] = asyncio.Queue()

        def deliver(item: Item) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        reader = threading.Thread(
            target=_read_frames,
            args=(FrameReader(stdin), deliver),
            name="stdin-reader",
            daemon=True,
        )
        reader.start()
        while (item := await queue.get()) is not None:
            _dispatch(server, item)
        log.info("stdin closed; exiting")
        return 0 if server.protocol._shutdown else 1  # pyright: ignore[reportPrivateUsage]

    return asyncio.run(run())


def _read_frames(reader: FrameReader, deliver: Callable[[Item], None]) -> None:
    """The reader thread: every frame or refusal in order, then None at the end of input."""
    try:
        while (item := reader.read()) is not None:
            deliver(item)
    except Exception:
        log.exception("Reading stdin failed")
    deliver(None)


def _dispatch(server: GeminiChatServer, item: bytes | Refusal) -> None:
    """Parse and handle one frame; whatever it holds, answer or drop it and go on."""
    proto = cast("GeminiChatProtocol", server.protocol)
    try:
        message = envelope.parse(item) if isinstance(item, bytes) else item
        if not isinstance(message, Refusal):
            message = proto.structure_message(message)
        proto.handle_message(message)
    except Exception:
        log.exception("Failed to handle a message")
