"""The ACP stdio transport: one JSON-RPC object per line in, bad lines answered, not dropped."""

from __future__ import annotations

import io
import json
import tempfile
from typing import Any

import pytest

from gemini_chat.acp import transport
from gemini_chat.acp.transport import StdioTransport


async def _run(
    monkeypatch: pytest.MonkeyPatch, data: bytes, max_line: int = 64
) -> tuple[list[Any], list[Any]]:
    """Feed `data` through a file; what `receive` returned and what was written back."""
    monkeypatch.setattr(transport, "MAX_LINE", max_line)
    out = io.BytesIO()
    with tempfile.TemporaryFile() as stdin:
        stdin.write(data)
        stdin.seek(0)
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
    non-object or non-2.0 line -32600 (with its id when it has one), an over-long line -32600
    with its bytes skipped (the next line still arrives); a sent message is one line, newlines
    escaped."""
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
    assert [w["id"] for w in written[:3]] == [None, 2, None]  # the id is echoed when it is known
    assert "over 64 bytes" in written[2]["error"]["message"]
    assert written[3] == {"jsonrpc": "2.0", "id": 9, "result": {"text": "é\n"}}


async def test_a_line_nested_too_deep_is_refused_and_reading_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A line of arrays 200,000 deep (Python's json gives up with RecursionError) and one of
    100 levels (parses, but past envelope.MAX_DEPTH) are each answered -32600 "nested deeper"
    (the second with its id) instead of ending the agent; the next line still arrives."""
    deep = b"[" * 200_000 + b"]" * 200_000
    nested = b'{"jsonrpc":"2.0","id":4,"method":"a","params":' + b"[" * 100 + b"]" * 100 + b"}"
    lines = [deep, nested, b'{"jsonrpc":"2.0","method":"b"}']
    got, written = await _run(monkeypatch, b"\n".join(lines) + b"\n", max_line=1_000_000)
    assert got == [{"jsonrpc": "2.0", "method": "b"}]
    assert [(w.get("error", {}).get("code"), w["id"]) for w in written[:2]] == [
        (-32600, None),
        (-32600, 4),
    ]
    assert all("nested deeper" in w["error"]["message"] for w in written[:2])
