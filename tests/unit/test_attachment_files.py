"""Attachments read from the folder: images inline, binary files refused, size caps, ranges
inside one line."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from gemini_chat import attachments
from gemini_chat.attachments import MAX_INLINE_BYTES, MAX_TEXT_BYTES, AttachmentError, Prepared
from gemini_chat.params import ChatParams
from gemini_chat.workspaces import Workspace

from .core_fakes import workspace

PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A folder with an image and a source file."""
    w = workspace(tmp_path / "project")
    (w.root / "shot.png").write_bytes(PNG)
    (w.root / "app.py").write_text("total = add(first, second)\n")
    return w


def prepare(ws: Workspace, *items: dict[str, object]) -> Prepared:
    """Attachments as a chat request gives them, prepared from disk."""
    params = ChatParams.model_validate({"message": "m", "attachments": list(items)})
    return attachments.prepare(params.attachments, ws, lambda _uri: None)


def test_an_image_file_goes_inline(ws: Workspace) -> None:
    """A workspace image is sent as inlineData of its bytes, shown by its relative name."""
    out = prepare(ws, {"uri": (ws.root / "shot.png").as_uri()})
    blob = {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}
    assert out.parts == [{"inlineData": blob}]
    assert out.shown == [{"name": "shot.png", "mimeType": "image/png"}]
    assert out.inline_bytes == len(PNG)


def test_a_binary_file_is_not_sent_as_text(ws: Workspace) -> None:
    """A file that is not text nor an inline type is refused naming the attachment."""
    (ws.root / "data.bin").write_bytes(b"\x7fELF\0\0\0")
    with pytest.raises(AttachmentError, match=r"data\.bin is a binary file") as info:
        prepare(ws, {"uri": (ws.root / "data.bin").as_uri()})
    assert info.value.field == "attachments.0.uri"


def test_a_range_inside_one_line_sends_those_characters(ws: Workspace) -> None:
    """start and end on one line: only the characters between them."""
    rng = {"start": {"line": 0, "character": 12}, "end": {"line": 0, "character": 25}}
    out = prepare(ws, {"uri": (ws.root / "app.py").as_uri(), "range": rng})
    assert out.parts[0]["text"] == (
        "Attached file: lines 1-1 of `app.py`\n```python\nfirst, second\n```"
    )


def test_text_over_the_cap_is_refused(ws: Workspace) -> None:
    """Pasted text over the text cap is refused before anything is read."""
    with pytest.raises(AttachmentError) as info:
        prepare(ws, {"uri": (ws.root / "app.py").as_uri()}, {"text": "é" * MAX_TEXT_BYTES})
    assert info.value.field == "attachments.1.text"


def test_a_whole_file_over_the_text_cap_asks_for_a_range(ws: Workspace) -> None:
    """A text file larger than the text cap is refused whole, suggesting a range; a range of
    it is accepted."""
    (ws.root / "big.log").write_text("log line\n" * (MAX_TEXT_BYTES // 9 + 10))
    uri = (ws.root / "big.log").as_uri()
    with pytest.raises(AttachmentError, match="attach a range"):
        prepare(ws, {"uri": uri})
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}
    assert "log line\nlog line\n" in str(prepare(ws, {"uri": uri, "range": rng}).parts[0]["text"])


def test_files_and_data_together_are_held_to_the_inline_cap(ws: Workspace) -> None:
    """An image file and base64 data that each fit but together pass the inline cap are
    refused on the attachment that passed it."""
    big = ws.root / "big.png"
    big.write_bytes(PNG + bytes(MAX_INLINE_BYTES // 2))
    data = base64.b64encode(bytes(MAX_INLINE_BYTES // 2)).decode()
    with pytest.raises(AttachmentError, match="exceed 20 MB") as info:
        prepare(ws, {"uri": big.as_uri()}, {"mimeType": "image/png", "data": data})
    assert info.value.field == "attachments.1"
