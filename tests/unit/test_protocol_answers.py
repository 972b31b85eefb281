"""What the daemon's protocol object puts on the wire for answers pygls would get wrong: an
internal error never carries a traceback, and an answer that cannot be serialised (too deep,
not JSON) still goes out as one InternalError answer to its request."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcInternalError

from gemini_chat import protocol as P
from gemini_chat.server import GeminiChatProtocol, create_server


class Collector:
    """A writer that keeps every frame's JSON body."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        head, _, body = data.partition(b"\r\n\r\n")
        assert b"Content-Length: %d" % len(body) in head
        self.frames.append(json.loads(body))

    def close(self) -> None:
        """Nothing to flush."""


def protocol(tmp_path: Path) -> tuple[GeminiChatProtocol, Collector]:
    server = create_server(tmp_path, {"GEMINI_CHAT_DATA_DIR": str(tmp_path / "data")})
    proto = server.protocol
    assert isinstance(proto, GeminiChatProtocol)
    out = Collector()
    proto.set_writer(out)
    return proto, out


def test_an_internal_error_answer_has_no_traceback(tmp_path: Path) -> None:
    """pygls' InternalError carries the traceback in `data`; the answer keeps code and message
    only (the log has the traceback)."""
    proto, out = protocol(tmp_path)
    try:
        raise TypeError("unhashable type: 'dict'")
    except TypeError:
        error = JsonRpcInternalError.of(sys.exc_info()).to_response_error()
    assert error.data and "traceback" in error.data
    proto._send_response(4, error=error)  # pyright: ignore[reportPrivateUsage]
    assert out.frames == [
        {
            "jsonrpc": "2.0",
            "id": 4,
            "error": {"code": P.INTERNAL_ERROR, "message": "TypeError: unhashable type: 'dict'"},
        }
    ]


def test_an_unserialisable_answer_still_answers_its_request(tmp_path: Path) -> None:
    """A result nested past Python's recursion limit, or holding a non-JSON value, becomes one
    InternalError answer with the request's id instead of no answer at all."""
    proto, out = protocol(tmp_path)
    deep: object = 1
    for _ in range(5000):
        deep = [deep]
    proto._send_response(5, result=deep)  # pyright: ignore[reportPrivateUsage]
    proto._send_response("six", result={"x": object()})  # pyright: ignore[reportPrivateUsage]
    assert [(f["id"], f["error"]["code"]) for f in out.frames] == [
        (5, P.INTERNAL_ERROR),
        ("six", P.INTERNAL_ERROR),
    ]


def test_an_unserialisable_notification_is_dropped(tmp_path: Path) -> None:
    """A notification that cannot be serialised is logged and not sent (there is no request to
    answer); the next message goes out normally."""
    proto, out = protocol(tmp_path)
    proto.notify("test/notice", {"value": object()})
    proto.notify("test/notice", {"value": "ok"})
    assert out.frames == [{"jsonrpc": "2.0", "method": "test/notice", "params": {"value": "ok"}}]
