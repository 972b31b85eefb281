"""Attachments: files and ranges presented to the model, data blobs, confinement and caps."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from gemini_chat import attachments as A
from gemini_chat.params import ChatParams
from gemini_chat.protocol import FieldError
from gemini_chat.workspaces import Workspace


def _ws(root: Path) -> Workspace:
    return Workspace(str(root.resolve()), root.as_uri())


def _atts(*items: dict[str, object]) -> ChatParams:
    return ChatParams.model_validate({"message": "m", "attachments": list(items)})


def test_file_range_presented_with_path_lines_and_language(workspace: Path) -> None:
    """A range becomes a fenced excerpt naming the relative path and the 1-based lines."""
    uri = (workspace / "src" / "app.py").as_uri()
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}
    out = A.prepare(_atts({"uri": uri, "range": rng}).attachments, _ws(workspace), lambda _: None)
    text = out.parts[0]["text"]
    assert text == (
        "Attached file: lines 1-2 of `src/app.py`\n```python\ndef add(a, b):\n    return a + b\n```"
    )
    assert out.shown == [{"name": "src/app.py:1-2", "mimeType": "text/plain"}]


def test_open_document_wins_over_disk(workspace: Path) -> None:
    """The editor's unsaved text is what gets sent."""
    uri = (workspace / "src" / "app.py").as_uri()
    out = A.prepare(_atts({"uri": uri}).attachments, _ws(workspace), lambda u: "unsaved()\n")
    assert "unsaved()" in str(out.parts[0]["text"])


def test_fence_is_longer_than_backticks_inside(workspace: Path) -> None:
    """Markdown fences inside a file cannot close the excerpt early."""
    (workspace / "README.md").write_text("```sh\nls\n```\n")
    out = A.prepare(
        _atts({"uri": (workspace / "README.md").as_uri()}).attachments,
        _ws(workspace),
        lambda _: None,
    )
    assert "\n````markdown\n" in str(out.parts[0]["text"])


def test_image_data_becomes_inline_data(workspace: Path) -> None:
    """Base64 image data goes as inlineData with its mime type."""
    data = base64.b64encode(b"\x89PNG....").decode()
    att = {"name": "shot.png", "mimeType": "image/png", "data": data}
    out = A.prepare(_atts(att).attachments, _ws(workspace), lambda _: None)
    assert out.parts == [{"inlineData": {"mimeType": "image/png", "data": data}}]


@pytest.mark.parametrize(
    ("att", "field"),
    [
        ({"name": "x", "mimeType": "image/png", "data": "not base64!!"}, "attachments.0.data"),
        (
            {"name": "x", "mimeType": "application/x-msdownload", "data": "AAAA"},
            "attachments.0.mimeType",
        ),
    ],
)
def test_bad_data_is_refused(workspace: Path, att: dict[str, object], field: str) -> None:
    """Invalid base64 or an unsupported type is an error naming the field."""
    with pytest.raises(A.AttachmentError) as err:
        A.prepare(_atts(att).attachments, _ws(workspace), lambda _: None)
    assert err.value.field == field


def test_size_cap(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inline data over the cap is refused with a clear message."""
    monkeypatch.setattr(A, "MAX_INLINE_BYTES", 10)
    data = base64.b64encode(b"x" * 11).decode()
    with pytest.raises(A.AttachmentError, match="MB of inline data"):
        A.prepare(
            _atts({"mimeType": "image/png", "data": data}).attachments,
            _ws(workspace),
            lambda _: None,
        )


def test_outside_file_is_refused(workspace: Path, tmp_path: Path) -> None:
    """A file outside the workspace is never read."""
    (tmp_path / "secret.txt").write_text("secret")
    with pytest.raises(FieldError) as err:
        A.prepare(
            _atts({"uri": (tmp_path / "secret.txt").as_uri()}).attachments,
            _ws(workspace),
            lambda _: None,
        )
    assert err.value.field == "attachments.0.uri"
