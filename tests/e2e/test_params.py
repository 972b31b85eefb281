"""Bad params of every shape answer -32602 naming the field and reach nothing upstream;
malformed frames do not kill the daemon."""

from __future__ import annotations

import asyncio

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator

from .daemon import Daemon, error_data

INVALID_PARAMS = -32602

BAD_CHAT_PARAMS: list[tuple[object, str]] = [
    ({}, "message"),
    ({"message": 42}, "message"),
    ({"message": None}, "message"),
    ({"message": ""}, "message"),
    ({"message": "   \n"}, "message"),
    ({"message": "hi", "workspace": 7}, "workspace"),
    ({"message": "hi", "workspace": "http://example.com/x"}, "workspace"),
    ({"message": "hi", "workspace": "file:///definitely/not/known"}, "workspace"),
    ({"message": "hi", "attachments": "a.py"}, "attachments"),
    ({"message": "hi", "attachments": [{"nope": 1}]}, "attachments.0"),
    ({"message": "hi", "attachments": [{"uri": 5}]}, "attachments.0"),
    ({"message": "hi", "model": "../../etc"}, "model"),
    ({"message": "hi", "model": ""}, "model"),
    ({"message": "hi", "generationConfig": "hot"}, "generationConfig"),
    ({"message": "hi", "generationConfig": {"temperature": "hot"}}, "generationConfig"),
    ({"message": "hi", "generationConfig": {"noSuchField": 1}}, "generationConfig"),
    ({"message": "hi", "partialResultToken": {"x": 1}}, "partialResultToken"),
    ({"message": "hi", "unknownField": True}, "unknownField"),
    ([1, 2], "params"),
    ("hello", "params"),
]


async def test_bad_chat_params(daemon: Daemon, emulator: Emulator) -> None:
    """Each bad shape is InvalidParams naming the field; nothing is sent upstream."""
    for params, field in BAD_CHAT_PARAMS:
        with pytest.raises(JsonRpcException) as err:
            await daemon.request("gemini/chat", params)
        assert err.value.code == INVALID_PARAMS, params
        data = error_data(err.value)
        assert data["reason"] == "invalidParams", params
        assert data["field"].startswith(field), (params, data)
    assert emulator.requests(":generate") == []
    assert await daemon.history() == []


@pytest.mark.parametrize(
    "method", ["gemini/history", "gemini/reset", "gemini/status", "gemini/models"]
)
async def test_other_methods_refuse_unknown_fields(daemon: Daemon, method: str) -> None:
    """Unknown fields are refused on every method."""
    with pytest.raises(JsonRpcException) as err:
        await daemon.request(method, {"bogus": 1})
    assert err.value.code == INVALID_PARAMS


async def test_unknown_method(daemon: Daemon) -> None:
    """An unknown method is MethodNotFound."""
    with pytest.raises(JsonRpcException) as err:
        await daemon.request("gemini/nope", {})
    assert err.value.code == -32601


def _frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


MALFORMED = [
    _frame(b"{not json"),
    _frame(b"[1,2,3]"),
    _frame(b'"just a string"'),
    _frame(b'{"jsonrpc": "1.0", "id": 9, "method": "gemini/status"}'),
    _frame(b'{"jsonrpc": "2.0", "id": 10, "method": "initialize", "params": {"capabilities": 5}}'),
    _frame(b"\xff\xfe\x00garbage"),
    b"Content-Length: nope\r\n\r\n",
    b"X-Junk: 1\r\n\r\n",
    b"Content-Length: 99999999999\r\n\r\n",
]


async def test_malformed_frames_do_not_kill_the_daemon(daemon: Daemon) -> None:
    """Garbage on stdin is logged and answered where possible; the daemon keeps serving."""
    stdin = daemon.process.stdin
    assert stdin is not None
    for junk in MALFORMED:
        stdin.write(junk)
    await stdin.drain()
    status = await asyncio.wait_for(daemon.request("gemini/status", {}), 10)
    assert status["apiKeySet"] is True
    assert daemon.process.returncode is None
