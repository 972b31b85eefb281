"""The stdio transport: LSP base-protocol frames read on a thread, dispatched on the event loop.

A plain `initialize` as the first frame is answered before pygls is imported (early.py); the
server is built after that answer is written.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO, NoReturn

from . import early, envelope
from .exiting import exit_now
from .framing import FrameReader, Refusal

if TYPE_CHECKING:
    from .server import GeminiChatServer

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


def serve_stdio(
    stdin: BinaryIO, out: BinaryIO, ready: Callable[[GeminiChatServer], None] | None = None
) -> NoReturn:
    """Answer a first `initialize` early, build the server (`ready` is called with it), then
    read frames on a thread and handle them on the event loop; at the end of input, end the
    process (status 0 after `shutdown`, else 1)."""
    started = time.time()  # before `initialize` is answered: the client's changes come after
    writer = _Writer(out)
    frames = FrameReader(stdin)
    first = frames.read()
    answered = early.answer(first) if isinstance(first, bytes) else None
    if answered is not None:
        writer.write(answered.frame)
    from .server import create_server

    server = create_server()
    server.started = started  # building it took pygls' import, while other daemons went on
    if ready is not None:
        ready(server)
    server.protocol.set_writer(writer)

    async def run() -> NoReturn:
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()

        def handle(item: Item) -> None:
            if item is not None:
                _dispatch(server, item)
            elif not ended.done():
                ended.set_result(None)

        if answered is not None:
            server.edge.run_answered(answered.message)
        else:
            handle(first)
        if first is not None:
            # One loop callback per frame, in order (no queue: one wake-up instead of two).
            deliver: Callable[[Item], object] = lambda item: loop.call_soon_threadsafe(handle, item)  # noqa: E731
            threading.Thread(
                target=_read_frames, args=(frames, deliver), name="stdin-reader", daemon=True
            ).start()
        await ended
        log.info("stdin closed; exiting")
        code = 0 if server.edge.shut_down else 1
        # End here, like `exit`: letting asyncio.run cancel the turns in flight would run their
        # cancel clean-up, and a turn cut short by its editor going away must stay journaled
        # (other daemons show it as interrupted), not vanish as if the user had cancelled it.
        exit_now(code)

    asyncio.run(run())
    raise AssertionError("run() ends the process")  # for the type checker: never reached


def _read_frames(reader: FrameReader, deliver: Callable[[Item], object]) -> None:
    """The reader thread: every frame or refusal in order, then None at the end of input."""
    try:
        while (item := reader.read()) is not None:
            deliver(item)
    except Exception:
        log.exception("Reading stdin failed")
    deliver(None)


def _dispatch(server: GeminiChatServer, item: bytes | Refusal) -> None:
    """Parse and handle one frame; whatever it holds, answer or drop it and go on."""
    proto = server.edge
    try:
        message = envelope.parse(item) if isinstance(item, bytes) else item
        if not isinstance(message, Refusal):
            message = proto.structure_message(message)
        proto.handle_message(message)
    except Exception:
        log.exception("Failed to handle a message")
