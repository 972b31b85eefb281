"""Media above the inline limit goes through the Files API: uploaded with progress, sent as
`fileData`; a file Gemini no longer keeps is left out of later requests."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gemini_chat.emulator import Emulator
from gemini_chat.store import Entry
from gemini_chat.uploads import sendable

from .conftest import StartDaemon


def _video(path: Path, size: int) -> None:
    with path.open("wb") as f:  # a sparse file: the size without the disk
        f.truncate(size)
    os.utime(path)


async def test_a_large_video_is_uploaded_and_sent_as_file_data(
    daemons: StartDaemon, emulator: Emulator, workspace: Path
) -> None:
    """A 21 MB .mp4 of the folder (over the 20 MB inline limit) is uploaded through the Files
    API before the turn: progress values report bytes sent and processing; the request carries a
    `fileData` part naming the uploaded file (no inline bytes); the history names the file."""
    video = workspace / "clip.mp4"
    _video(video, 21_000_000)
    d = await daemons()
    result = await d.chat(
        "what happens in this clip?", attachments=[{"uri": video.as_uri()}], partialResultToken="p"
    )
    assert result["turn"] == 1
    held = emulator.files()
    assert len(held) == 1 and held[0]["sizeBytes"] == "21000000"
    request = emulator.requests(":streamGenerateContent")[-1].body
    parts = request["contents"][-1]["parts"]  # type: ignore[index]
    assert parts[0] == {"fileData": {"fileUri": held[0]["uri"], "mimeType": "video/mp4"}}
    assert all("inlineData" not in p for p in parts)
    uploads = [v["upload"] for v in d.client.progress["p"] if "upload" in v]
    assert uploads[-1]["sent"] == uploads[-1]["total"] == 21_000_000
    assert {u["state"] for u in uploads} >= {"uploading"}
    turns = await d.history()
    assert turns[0]["attachments"] == [{"name": "clip.mp4", "mimeType": "video/mp4"}]


async def test_small_media_stays_inline(
    daemons: StartDaemon, emulator: Emulator, workspace: Path
) -> None:
    """A media file that fits the inline limit is sent inline, nothing uploaded."""
    clip = workspace / "small.mp4"
    _video(clip, 1000)
    d = await daemons()
    await d.chat("and this?", attachments=[{"uri": clip.as_uri()}])
    assert emulator.files() == []
    part = emulator.requests(":generateContent")[-1].body["contents"][-1]["parts"][0]  # type: ignore[index]
    assert part["inlineData"]["mimeType"] == "video/mp4"


def test_an_expired_upload_is_left_out_of_later_requests() -> None:
    """Once an uploaded file's expiry passed, the stored user content is sent with a note in
    place of its fileData part (the rest unchanged); before that, as stored."""
    uri = "https://generativelanguage.googleapis.com/v1beta/files/abc"
    expires = datetime(2026, 1, 2, tzinfo=UTC)
    content = {
        "role": "user",
        "parts": [{"fileData": {"fileUri": uri, "mimeType": "video/mp4"}}, {"text": "what?"}],
    }
    meta = {
        "text": "what?",
        "files": [{"name": "clip.mp4", "uri": uri, "expires": expires.isoformat()}],
    }
    entry = Entry(0, 1, "user", content, meta, "t")
    before = sendable(entry, expires - timedelta(hours=1))
    assert '"fileData"' in before
    after = sendable(entry, expires + timedelta(seconds=1))
    assert '"fileData"' not in after
    assert "clip.mp4 was attached here" in after and '"what?"' in after
