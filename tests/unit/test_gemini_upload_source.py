"""Uploads of a file on disk: which files are opened, and what is sent when one changes."""

from __future__ import annotations

import asyncio
import contextlib
import os
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
    """A 4-chunk file cut to `left` bytes after its first chunk went up: the upload stops with
    BadRequestError naming the file (its display name) and asking to attach it again; nothing
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


def _refuse_requests(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"no request expected, got {request.method} {request.url}")


async def test_a_symlink_is_not_followed(tmp_path: Path) -> None:
    """Uploading a path that is a symlink (to a readable file) is refused with BadRequestError
    naming it, before any request: the upload opens only regular files, never through a last
    symlink, by files.py's rule."""
    (tmp_path / "real.mp4").write_bytes(b"secret frames")
    (tmp_path / "link.mp4").symlink_to(tmp_path / "real.mp4")
    h = Harness(_refuse_requests)
    with pytest.raises(BadRequestError, match=r"Could not read link\.mp4 to upload it"):
        await h.client.upload_file(tmp_path / "link.mp4", "video/mp4", None, OPTS)
    await h.client.aclose()


async def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    """Uploading a FIFO without a writer is refused within 5 s (not a regular file), before any
    request, instead of blocking a thread on its open for ever."""
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    h = Harness(_refuse_requests)
    upload = h.client.upload_file(fifo, "video/mp4", None, OPTS)
    try:
        with pytest.raises(BadRequestError, match=r"pipe\.mp4 .*not a regular file"):
            await asyncio.wait_for(upload, 5)
    finally:
        # Should the open block, a writer that comes and goes releases its thread.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        await h.client.aclose()
