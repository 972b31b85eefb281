"""The ACP stdio transport: one JSON-RPC object per line in, bad lines answered, not dropped."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest

from gemini_chat.acp import transport
from gemini_chat.acp.transport import StdioTransport


async def _run(monkeypatch: pytest.MonkeyPatch, data: bytes) -> tuple[list[Any], list[Any]]:
    """Feed `data` through a pipe; what `receive` returned and what was written back."""
    monkeypatch.setattr(transport, "MAX_LINE", 64)
    read_fd, write_fd = os.pipe()
    os.write(write_fd, data)
    os.close(write_fd)
    out = io.BytesIO()
    with os.fdopen(read_fd, "rb") as stdin:
        link = StdioTransport(stdin, out)
        got: list[Any] = []
        while (message := await link.receive()) is not None:
            got.append(message)
        await link.send({"jsonrpc": "2.0", "id": 9, "result": {"text": "é\n"}})
    return got, [json.loads(line) for line in out.getvalue().splitlines()]


async def test_each_line_is_one_message_and_bad_lines_get_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Valid lines arrive in order; blank lines are skipped; a non-JSON line is -32700, a
    non-object or non-2.0 line -32600, an over-long line -32600 with its bytes skipped (the
    next line still arrives); a sent message is one line, newlines escaped."""
    lines = [
        b'{"jsonrpc":"2.0","id":1,"method":"a"}\n',
        b"\n",
        b"not json\n",
        b'{"id":2}\n',
        b'{"jsonrpc":"2.0","id":3,"method":"' + b"x" * 200 + b'"}\n',
        b'{"jsonrpc":"2.0","method":"b"}',
    ]
    got, written = await _run(monkeypatch, b"".join(lines))
    assert got == [{"jsonrpc": "2.0", "id": 1, "method": "a"}, {"jsonrpc": "2.0", "method": "b"}]
    assert [w.get("error", {}).get("code") for w in written] == [-32700, -32600, -32600, None]
    assert all(w["id"] is None for w in written[:3])
    assert "over 64 bytes" in written[2]["error"]["message"]
    assert written[3] == {"jsonrpc": "2.0", "id": 9, "result": {"text": "é\n"}}
