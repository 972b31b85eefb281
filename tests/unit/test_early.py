"""`initialize` answered before pygls loads (early.py): the same answer pygls builds, for the
client capabilities that change it, and only for params of LSP's shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
from lsprotocol import types

from gemini_chat import early
from gemini_chat.server import GeminiChatProtocol, create_server

VSCODE_LIKE: dict[str, Any] = {
    "workspace": {
        "applyEdit": True,
        "workspaceFolders": True,
        "configuration": True,
        "fileOperations": {"didCreate": True, "willRename": True, "didDelete": True},
    },
    "textDocument": {
        "synchronization": {"willSave": True, "willSaveWaitUntil": True, "didSave": True},
        "rename": {"prepareSupport": True},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
    },
    "window": {"workDoneProgress": True},
    "general": {"positionEncodings": ["utf-16"]},
    "notebookDocument": {"synchronization": {"dynamicRegistration": True}},
}
PARAMS: list[dict[str, Any]] = [
    {"capabilities": {}},
    {"capabilities": {}, "processId": None, "rootUri": None, "workspaceFolders": None},
    {"capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}},
    {"capabilities": {"general": {"positionEncodings": ["utf-32"]}}},
    {"capabilities": {"general": {"positionEncodings": ["ebcdic", "utf-8"]}}},
    {"capabilities": {"general": {"positionEncodings": []}}},
    {"capabilities": {"textDocument": {"synchronization": {"willSave": False}}}},
    {"capabilities": {"textDocument": {"synchronization": {"willSaveWaitUntil": True}}}},
    {
        "processId": 1234,
        "clientInfo": {"name": "Visual Studio Code", "version": "1.99"},
        "locale": "en",
        "rootPath": "/tmp/w",
        "rootUri": "file:///tmp/w",
        "workspaceFolders": [{"uri": "file:///tmp/w", "name": "w"}],
        "initializationOptions": {"gemini": {"model": "gemini-2.5-pro"}},
        "trace": "off",
        "workDoneToken": "init-1",
        "capabilities": VSCODE_LIKE,
    },
]


def _pygls_answer(params: dict[str, Any]) -> dict[str, Any]:
    """The InitializeResult pygls builds for the daemon's registered features, as JSON."""
    proto = cast(GeminiChatProtocol, create_server().protocol)
    converter = proto._converter  # pyright: ignore[reportPrivateUsage]
    gen = proto.lsp_initialize(converter.structure(params, types.InitializeParams))
    next(gen)  # the user's initialize handler: not needed for the answer
    with pytest.raises(StopIteration) as done:
        gen.send(None)
    return json.loads(json.dumps(converter.unstructure(done.value.value)))


@pytest.mark.parametrize("params", PARAMS)
def test_the_early_answer_is_the_one_pygls_builds(params: dict[str, Any]) -> None:
    """For each client capability that changes the answer (position encodings, will-save
    flags, or none of them), the early answer equals pygls' own, key for key."""
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "initialize", "params": params})
    answered = early.answer(body.encode())
    assert answered is not None
    head, frame = answered.frame.split(b"\r\n\r\n", 1)
    assert head == b"Content-Length: %d" % len(frame)
    assert json.loads(frame) == {"jsonrpc": "2.0", "id": 7, "result": _pygls_answer(params)}
    assert answered.message["params"] == params


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": 1, "method": "gemini/status", "params": {}},
        {"jsonrpc": "2.0", "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "id": True, "method": "initialize", "params": {"capabilities": {}}},
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": []},
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": 3}},
        {"id": 1, "method": "initialize", "params": {"capabilities": {}}},
    ]
    + [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}, **p}}
        for p in (
            {"processId": "12"},
            {"processId": True},
            {"rootUri": 5},
            {"workspaceFolders": {"uri": "file:///w"}},
            {"workspaceFolders": [{"uri": "file:///w"}]},
            {"clientInfo": {"version": "1"}},
            {"trace": "loud"},
            {"capabilities": {"general": {"positionEncodings": "utf-8"}}},
            {"capabilities": {"general": {"positionEncodings": [8]}}},
            {"capabilities": {"textDocument": {"synchronization": {"willSave": "yes"}}}},
            {"capabilities": {"textDocument": []}},
        )
    ],
)
def test_anything_but_a_plain_initialize_is_left_to_pygls(message: dict[str, Any]) -> None:
    """Another method, a notification, a bad id, or params not of LSP's shapes: no early
    answer (pygls answers them, InvalidParams when it cannot read them)."""
    assert early.answer(json.dumps(message).encode()) is None


def test_essentials_keep_what_the_daemon_reads() -> None:
    """Params pygls refuses are cut to the folders, options, process and encodings."""
    params = {**PARAMS[-1], "capabilities": {**VSCODE_LIKE, "textDocument": 5}}
    cut = early.essentials(params)
    assert cut == {
        "processId": 1234,
        "rootUri": "file:///tmp/w",
        "rootPath": "/tmp/w",
        "workspaceFolders": [{"uri": "file:///tmp/w", "name": "w"}],
        "initializationOptions": {"gemini": {"model": "gemini-2.5-pro"}},
        "capabilities": {"general": {"positionEncodings": ["utf-16"]}},
    }
    proto = cast(GeminiChatProtocol, create_server().protocol)
    proto._converter.structure(cut, types.InitializeParams)  # pyright: ignore[reportPrivateUsage]


def test_the_early_answer_needs_neither_pygls_nor_lsprotocol() -> None:
    """Answering `initialize` early imports neither pygls, lsprotocol, attrs nor cattrs (what
    makes it early: they cost 200-300 ms to import)."""
    code = (
        "import sys\n"
        "from gemini_chat import early, stdio, cli\n"
        'frame = b\'{"jsonrpc":"2.0","id":1,"method":"initialize",\''
        ' b\'"params":{"capabilities":{}}}\'\n'
        "assert early.answer(frame) is not None\n"
        "print([m for m in ('pygls', 'lsprotocol', 'attrs', 'cattrs') if m in sys.modules])\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"
