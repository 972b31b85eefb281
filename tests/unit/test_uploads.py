"""Media too large to send inline goes through the Files API before the turn, and a file Gemini
no longer keeps is replaced by a note in later requests (uploads expire after 48 hours).

The turns run through the gemini/chat handler over the scripted Gemini; the Files API answers
are the real wire shape (resumable start, then finalize answering the File)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from gemini_chat import attachments, handlers, protocol, uploads
from gemini_chat.store import Entry

from .core_fakes import FakeDaemon, Rig, contents_text, sse, text
from .gemini_fakes import BASE, started

UPLOAD_URL = f"{BASE}/upload/v1beta/files?upload_id=u-1&upload_protocol=resumable"
FILE_URI = f"{BASE}/v1beta/files/clip-1"
CLIP = bytes(range(256)) * 4


def finalized(expires: str) -> httpx.Response:
    """The answer to the last chunk: the File, ACTIVE, expiring at `expires`."""
    file = {
        "name": "files/clip-1",
        "displayName": "media/clip.mp4",
        "mimeType": "video/mp4",
        "sizeBytes": str(len(CLIP)),
        "state": "ACTIVE",
        "uri": FILE_URI,
        "expirationTime": expires,
    }
    return httpx.Response(200, json={"file": file}, headers={"x-goog-upload-status": "final"})


@pytest.fixture
def rig(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> Rig:
    """A chat service whose folder holds media/clip.mp4 (1 kB), over an inline limit of 100
    bytes so that the clip goes through the Files API."""
    monkeypatch.setattr(attachments, "MAX_INLINE_BYTES", 100)
    (rig.ws.root / "media").mkdir()
    (rig.ws.root / "media" / "clip.mp4").write_bytes(CLIP)
    return rig


async def turn_with_clip(rig: Rig, expires: str) -> tuple[FakeDaemon, object]:
    """A streamed gemini/chat attaching the clip; returns the edge and the result."""
    rig.gemini.script(started(UPLOAD_URL), finalized(expires), sse(
        {"candidates": [{"content": {"parts": [{"text": "A cat jumps."}]}, "finishReason": "STOP"}]}
    ))  # fmt: skip
    daemon = FakeDaemon(rig)
    uri = (rig.ws.root / "media" / "clip.mp4").as_uri()
    params = {"message": "What happens?", "attachments": [{"uri": uri}], "partialResultToken": 1}
    return daemon, await handlers.HANDLERS[protocol.CHAT](daemon, params)


async def test_a_large_clip_is_uploaded_then_sent_as_file_data(rig: Rig) -> None:
    """The clip's bytes go to the upload URL; upload progress is reported; the turn's request
    holds a fileData part naming the file's URI; history keeps the upload's name, URI and
    expiry and shows the attachment."""
    daemon, result = await turn_with_clip(rig, "2099-01-01T00:00:00Z")
    assert isinstance(result, dict) and result["text"] == "A cat jumps."
    start, chunk, _ = rig.gemini.requests
    assert (start.url.path, start.headers["x-goog-upload-header-content-type"]) == (
        "/upload/v1beta/files", "video/mp4",
    )  # fmt: skip
    assert (str(chunk.url), chunk.content) == (UPLOAD_URL, CLIP)
    assert [v for _, _, v in daemon.sent][0] == {
        "upload": {"name": "media/clip.mp4", "sent": len(CLIP), "total": len(CLIP),
                   "state": "uploading"},
    }  # fmt: skip
    (body,) = rig.gemini.bodies
    assert body["contents"][0]["parts"] == [
        {"fileData": {"fileUri": FILE_URI, "mimeType": "video/mp4"}},
        {"text": "What happens?"},
    ]
    question = rig.store.history(rig.ws.key)[0]
    assert question.meta["files"] == [
        {"name": "media/clip.mp4", "uri": FILE_URI, "expires": "2099-01-01T00:00:00+00:00"}
    ]
    assert question.meta["attachments"] == [{"name": "media/clip.mp4", "mimeType": "video/mp4"}]


async def test_an_expired_upload_becomes_a_note_in_the_next_request(rig: Rig) -> None:
    """The next turn after the file expired sends a note where the fileData part was (a
    request naming an expired file would fail whole); the stored entry keeps the part."""
    await turn_with_clip(rig, "2000-01-01T00:00:00Z")
    rig.gemini.script(text("It jumped."))
    await rig.turn("And then?")
    sent = rig.gemini.bodies[-1]["contents"]
    assert sent[0]["parts"] == [
        {"text": "[media/clip.mp4 was attached here; uploaded files expire]"},
        {"text": "What happens?"},
    ]
    assert contents_text(rig.gemini.bodies[-1])[1:] == ["model: A cat jumps.", "user: And then?"]
    assert "fileData" in json.dumps(rig.store.history(rig.ws.key)[0].content)


def entry(content: dict[str, object], meta: dict[str, object], raw: str = "") -> Entry:
    """A stored user entry."""
    return Entry(0, 1, "user", content, meta, "2025-01-01T00:00:00.000Z", raw)


FILE_PART = {"fileData": {"fileUri": FILE_URI, "mimeType": "video/mp4"}}
CONTENT = {"role": "user", "parts": [FILE_PART, {"text": "q"}]}
NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "files",
    [
        [],
        [{"name": "clip", "uri": FILE_URI, "expires": (NOW + timedelta(seconds=1)).isoformat()}],
        [{"name": "clip", "uri": FILE_URI, "expires": None}],
        [{"name": "clip", "uri": FILE_URI, "expires": "not a time"}],
        ["not an object"],
    ],
)
def test_a_file_still_kept_is_sent_as_stored(files: list[object]) -> None:
    """No upload, one expiring later, one without (or with an unreadable) expiry: the entry's
    stored JSON text is sent unchanged (the raw text when there is one)."""
    raw = json.dumps(CONTENT)
    assert uploads.sendable(entry(CONTENT, {"files": files}, raw), NOW) == raw
    compact = json.dumps(CONTENT, separators=(",", ":"))
    assert uploads.sendable(entry(CONTENT, {"files": files}), NOW) == compact


def test_only_the_expired_file_becomes_a_note() -> None:
    """Of two uploads, the one expired at (or before) now becomes a note naming it, the other
    part and the text are kept in order; a file without a name is "a file"."""
    other = {"fileData": {"fileUri": f"{BASE}/v1beta/files/other", "mimeType": "audio/mp3"}}
    content = {"role": "user", "parts": [FILE_PART, other, {"text": "q"}]}
    files = [
        {"uri": FILE_URI, "expires": NOW.isoformat().replace("+00:00", "Z")},
        {"name": "song", "uri": f"{BASE}/v1beta/files/other", "expires": "2099-01-01T00:00:00Z"},
    ]
    sent = json.loads(uploads.sendable(entry(content, {"files": files}), NOW))
    assert sent == {
        "role": "user",
        "parts": [{"text": "[a file was attached here; uploaded files expire]"}, other,
                  {"text": "q"}],
    }  # fmt: skip
