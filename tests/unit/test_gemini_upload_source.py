"""Uploads of a file on disk: what is sent when the file changes under the upload."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gemini_chat.gemini.client import CallOptions
from gemini_chat.gemini.errors import BadRequestError

from .gemini_fakes import BASE, Harness

UPLOAD_URL = f"{BASE}/upload/v1beta/files?upload_id=abc123&upload_protocol=resumable"
OPTS = CallOptions(api_key="test-secret-key-5f2e", base_url=BASE)
CHUNK = 16384
"""Bytes per chunk: above a buffered reader's 8 KiB, so no stale buffer hides a shrink."""


@pytest.mark.parametrize("left", [CHUNK, CHUNK + 500])
async def test_a_file_that_shrinks_mid_upload_stops_it(tmp_path: Path, left: int) -> None:
    """A 4-chunk file cut to `left` bytes after its first chunk went up: the
    upload stops with BadRequestError naming the file (its display name) and asking to attach it again; nothing
    more is sent (no chunk of the shorter tail, no endless empty chunks)."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"v" * 4 * CHUNK)
    sent: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if len(sent) == 1:
            headers = {
                "x-goog-upload-url": UPLOAD_URL,
                "x-goog-upload-chunk-granularity": str(CHUNK),
            }
            return httpx.Response(200, headers=headers | {"x-goog-upload-status": "active"})
        if len(sent) > 8:
            pytest.fail(f"{len(sent)} requests: the upload went on after the file shrank")
        with path.open("r+b") as f:
            f.truncate(left)
        return httpx.Response(200, headers={"x-goog-upload-status": "active"})

    h = Harness(upstream)
    with pytest.raises(BadRequestError) as info:
        await h.client.upload_file(path, "video/mp4", "media/clip.mp4", OPTS, chunk_size=CHUNK)
    await h.client.aclose()
    assert str(info.value) == (
        "media/clip.mp4 changed while it was being uploaded; attach it again"
    )
    assert [r.headers["x-goog-upload-offset"] for r in sent[1:]] == ["0"]
    assert sent[1].headers["content-length"] == str(CHUNK)
