"""Attachments reach the API from disk and from open documents; escapes are refused and
nothing of them is sent."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator

from .daemon import Daemon


def _user_parts(emulator: Emulator) -> list[dict[str, Any]]:
    return emulator.requests(":generateContent")[-1].body["contents"][-1]["parts"]  # type: ignore[index]


async def test_file_range_reaches_the_api(
    daemon: Daemon, emulator: Emulator, workspace: Path
) -> None:
    """A uri + range attachment is sent as a fenced excerpt before the question."""
    uri = (workspace / "src" / "app.py").as_uri()
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}
    await daemon.chat("explain", attachments=[{"uri": uri, "range": rng}])
    parts = _user_parts(emulator)
    assert parts[-1] == {"text": "explain"}
    assert "`src/app.py`" in parts[0]["text"]
    assert "def add(a, b):\n    return a + b\n" in parts[0]["text"]
    assert "print(add" not in parts[0]["text"]
    turns = await daemon.history()
    assert turns[0]["attachments"] == [{"name": "src/app.py:1-2", "mimeType": "text/plain"}]


async def test_open_document_text_is_sent(
    daemon: Daemon, emulator: Emulator, workspace: Path
) -> None:
    """A document the editor synced is read from the editor, unsaved edits included."""
    uri = (workspace / "src" / "app.py").as_uri()
    doc = types.TextDocumentItem(uri=uri, language_id="python", version=1, text="old = 1\n")
    daemon.client.text_document_did_open(types.DidOpenTextDocumentParams(doc))
    daemon.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [types.TextDocumentContentChangeWholeDocument(text="unsaved_edit = 2\n")],
        )
    )
    await daemon.chat("what changed?", attachments=[{"uri": uri}])
    assert "unsaved_edit = 2" in _user_parts(emulator)[0]["text"]


async def test_image_and_text_attachments(daemon: Daemon, emulator: Emulator) -> None:
    """Image data goes as inlineData; free text as a fenced text part."""
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
    await daemon.chat(
        "look",
        attachments=[
            {"name": "shot.png", "mimeType": "image/png", "data": png},
            {"name": "notes", "text": "remember the milk"},
        ],
    )
    parts = _user_parts(emulator)
    assert parts[0] == {"inlineData": {"mimeType": "image/png", "data": png}}
    assert "remember the milk" in parts[1]["text"]


async def test_attachment_only_message(daemon: Daemon, emulator: Emulator) -> None:
    """A blank message is fine when something is attached."""
    await daemon.chat("", attachments=[{"name": "n", "text": "context only"}])
    assert len(_user_parts(emulator)) == 1


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
async def test_escapes_are_refused(
    daemon: Daemon, emulator: Emulator, workspace: Path, tmp_path: Path, kind: str
) -> None:
    """`..`, outside paths and symlinks leaving the workspace are InvalidParams; nothing sent."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    if kind == "dotdot":
        uri = f"{workspace.as_uri()}/src/../../secret.txt"
    elif kind == "absolute":
        uri = secret.as_uri()
    else:
        os.symlink(secret, workspace / "innocent.txt")
        uri = (workspace / "innocent.txt").as_uri()
    with pytest.raises(JsonRpcException) as err:
        await daemon.chat("read it", attachments=[{"uri": uri}])
    assert err.value.code == -32602
    assert "TOP-SECRET-CONTENT" not in str(err.value)
    assert emulator.requests(":generate") == []
    assert await daemon.history() == []


async def test_missing_file_is_invalid_params(
    daemon: Daemon, workspace: Path, emulator: Emulator
) -> None:
    """An attachment that cannot be read is InvalidParams naming it."""
    with pytest.raises(JsonRpcException) as err:
        await daemon.chat("x", attachments=[{"uri": (workspace / "nope.py").as_uri()}])
    assert err.value.code == -32602
    assert "nope.py" in err.value.message
    assert emulator.requests(":generate") == []
