"""GeminiClient's media calls: Files API uploads and Imagen, against the emulator and a mock."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from gemini_chat.gemini.client import CallOptions, GeminiClient
from gemini_chat.gemini.errors import (
    BadRequestError,
    BlockedError,
    FileUnavailableError,
    GeminiTimeoutError,
    ModelNotFoundError,
    UpstreamUnavailableError,
)
from gemini_chat.gemini.files import UploadProgress
from gemini_chat.gemini.wire import Content, GenerateContentRequest, Part
from polling import until

from .gemini_fakes import BASE, Harness, Recorder, opts, started
from .test_emulator_imagen import decode_png

KEY = "test-secret-key-5f2e"
UPLOAD_URL = f"{BASE}/upload/v1beta/files?upload_id=abc123&upload_protocol=resumable"


def sha(data: bytes) -> str:
    """The File API's sha256Hash of some bytes."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def chunk_requests(emulator: Emulator) -> list[Any]:
    """The requests the emulator received on upload URLs."""
    return [r for r in emulator.requests("/upload/") if "upload_id" in r.query]


# --- against the emulator ------------------------------------------------------------------------


async def test_upload_reports_progress_and_sends_the_key_only_on_start(
    gemini: GeminiClient, emulator: Emulator, rec: Recorder
) -> None:
    """Bytes go in chunk_size chunks (a multiple of the announced granularity), progress after
    each; start alone carries x-goog-api-key; the File is ACTIVE with the bytes' hash."""
    emulator.script_uploads({"granularity": 1024})
    data = bytes(range(256)) * 40  # 10240 bytes
    file = await gemini.upload_file(
        data, "video/mp4", "Clip", opts(emulator), rec.on_progress, chunk_size=4000
    )
    assert (file.state, file.size_bytes, file.display_name) == ("ACTIVE", 10240, "Clip")
    assert file.sha256_hash == sha(data)
    assert file.mime_type == "video/mp4"
    assert [(p.sent, p.state) for p in rec.progress] == [
        (3072, "uploading"),
        (6144, "uploading"),
        (9216, "uploading"),
        (10240, "uploading"),
    ]
    (start,) = [r for r in emulator.requests("/upload/") if "upload_id" not in r.query]
    assert start.headers["x-goog-api-key"] == EMULATOR_KEY
    assert start.headers["x-goog-upload-header-content-length"] == "10240"
    assert start.headers["x-goog-upload-header-content-type"] == "video/mp4"
    assert start.body == {"file": {"displayName": "Clip"}}
    chunks = chunk_requests(emulator)
    assert [r.headers["x-goog-upload-offset"] for r in chunks] == ["0", "3072", "6144", "9216"]
    assert [r.headers["x-goog-upload-command"] for r in chunks][-1] == "upload, finalize"
    assert all("x-goog-api-key" not in r.headers for r in chunks)
    assert [r.headers["content-length"] for r in chunks] == ["3072", "3072", "3072", "1024"]
    assert all("transfer-encoding" not in r.headers for r in chunks)
    assert all(EMULATOR_KEY not in json.dumps(r.query) for r in emulator.requests())


async def test_a_large_file_is_streamed_not_read_whole(
    gemini: GeminiClient, emulator: Emulator, tmp_path: Path
) -> None:
    """A 48 MiB file goes up in 1 MiB chunks with the process never holding more than a few
    chunks (traced peak under 8 MiB, emulator included), and arrives intact."""
    path = tmp_path / "big.bin"
    block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB
    with path.open("wb") as out:
        for _ in range(48):
            out.write(block)
    emulator.script_uploads({"granularity": 1 << 20})
    tracemalloc.start()
    try:
        file = await gemini.upload_file(
            path, "application/octet-stream", None, opts(emulator), chunk_size=1 << 20
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert file.size_bytes == 48 << 20
    assert file.sha256_hash == sha(block * 48)
    assert len(chunk_requests(emulator)) == 48
    assert peak < 8 << 20, f"peak traced memory {peak / (1 << 20):.1f} MiB"


async def test_processing_then_active(
    gemini: GeminiClient, emulator: Emulator, rec: Recorder
) -> None:
    """A file PROCESSING for 0.3 s is polled (files.get) until ACTIVE, with "processing"
    reports before each poll."""
    emulator.script_uploads({"processing": 0.3})
    began = time.monotonic()
    file = await gemini.upload_file(
        b"frames", "video/mp4", None, opts(emulator), rec.on_progress, poll_interval=0.05
    )
    assert time.monotonic() - began >= 0.3
    assert file.state == "ACTIVE"
    polls = emulator.requests(f"/v1beta/{file.name}")
    assert len(polls) >= 2
    processing = [p for p in rec.progress if p.state == "processing"]
    assert len(processing) == len(polls)
    assert processing[0] == UploadProgress(6, 6, "processing")


async def test_failed_processing_and_processing_timeout(
    gemini: GeminiClient, emulator: Emulator
) -> None:
    """FAILED raises BadRequestError with Gemini's reason; a file still PROCESSING after
    processing_timeout raises GeminiTimeoutError."""
    emulator.script_uploads({"fail": "Unsupported codec."}, {"processing": 30})
    with pytest.raises(BadRequestError, match=r"could not process Bad \(Unsupported codec\.\)"):
        await gemini.upload_file(b"x", "video/mp4", "Bad", opts(emulator))
    began = time.monotonic()
    with pytest.raises(GeminiTimeoutError, match="still processing"):
        await gemini.upload_file(
            b"y", "video/mp4", None, opts(emulator), poll_interval=0.05, processing_timeout=0.3
        )
    assert time.monotonic() - began < 5


async def test_cancel_mid_upload(gemini: GeminiClient, emulator: Emulator) -> None:
    """Cancelling the task while a chunk is in flight stops at once: the emulator sees the
    connection go, no file is created and no further chunk is sent."""
    emulator.script_uploads({"granularity": 1024, "chunkDelay": 30})
    task = asyncio.create_task(
        gemini.upload_file(b"z" * 4096, "video/mp4", None, opts(emulator), chunk_size=1024)
    )
    await until(lambda: chunk_requests(emulator), "a chunk to reach the emulator", within=5)
    task.cancel()
    began = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - began < 1
    await asyncio.to_thread(emulator.wait_for_event, "disconnect", 5.0)
    assert emulator.files() == []
    assert len(chunk_requests(emulator)) == 1


async def test_start_rate_limit_is_retried(
    gemini: GeminiClient, emulator: Emulator, rec: Recorder
) -> None:
    """A 429 on start waits the server's RetryInfo delay, tells on_retry, and starts again."""
    emulator.script_uploads({"status": 429, "retryDelay": "2s"})
    file = await gemini.upload_file(
        b"abc", "text/plain", None, opts(emulator), on_retry=rec.on_retry
    )
    assert file.state == "ACTIVE"
    assert rec.sleeps == [2.0]
    assert [n.describe() for n in rec.notices] == ["rate limited: retrying in 2 s"]


async def test_a_failed_chunk_resumes_where_the_server_stopped(
    gemini: GeminiClient, emulator: Emulator, rec: Recorder
) -> None:
    """A 503 on a chunk backs off, asks the server (query) what it holds, and goes on from
    there; the file arrives whole."""
    emulator.script_uploads({"granularity": 1024, "failChunk": 1, "chunkStatus": 503})
    data = bytes(range(256)) * 12  # 3072 bytes: three chunks
    file = await gemini.upload_file(data, "video/mp4", None, opts(emulator), chunk_size=1024)
    assert file.sha256_hash == sha(data)
    commands = [r.headers["x-goog-upload-command"] for r in chunk_requests(emulator)]
    assert commands == ["upload", "upload", "query", "upload", "upload, finalize"]
    assert rec.sleeps == [1.0]


async def test_the_file_in_a_turn_until_it_expires(
    gemini: GeminiClient, emulator: Emulator
) -> None:
    """file.part() is accepted in generateContent; get/delete work; an expired or deleted file
    is FileUnavailableError (badRequest, 403), not a key problem."""
    options = opts(emulator)
    file = await gemini.upload_file(b"clip", "video/mp4", "Clip", options)
    request = GenerateContentRequest(
        contents=[Content(role="user", parts=[file.part(), Part(text="What is in it?")])]
    )
    reply = await gemini.generate_content("gemini-2.5-flash", request, options)
    assert reply.usage_metadata is not None and reply.usage_metadata.prompt_token_count == 258 + 4
    assert (await gemini.get_file(file.name, options)).uri == file.uri
    emulator.expire_file(file.name)
    with pytest.raises(FileUnavailableError) as info:
        await gemini.generate_content("gemini-2.5-flash", request, options)
    assert info.value.to_data() == {
        "reason": "badRequest",
        "httpStatus": 403,
        "status": "PERMISSION_DENIED",
    }
    assert "48 hours" in str(info.value)
    other = await gemini.upload_file(b"more", "video/mp4", None, options)
    await gemini.delete_file(other.name.removeprefix("files/"), options)
    with pytest.raises(FileUnavailableError):
        await gemini.get_file(other.name, options)
    with pytest.raises(BadRequestError, match="not a file name"):
        await gemini.get_file("files/../models", options)


async def test_generate_images(gemini: GeminiClient, emulator: Emulator) -> None:
    """Imagen: count PNGs of the aspect ratio's shape; some filtered (reasons kept), all
    filtered or a refused prompt is BlockedError; bad values fail before any I/O."""
    options = opts(emulator)
    result = await gemini.generate_images("imagen-4.0-generate-001", "A fox", 3, "9:16", options)
    assert [i.mime_type for i in result.images] == ["image/png"] * 3
    assert {decode_png(i.data)[:2] for i in result.images} == {(48, 88)}
    assert result.filtered == []
    (sent,) = [r.body for r in emulator.requests(":predict")]
    assert sent == {
        "instances": [{"prompt": "A fox"}],
        "parameters": {"sampleCount": 3, "aspectRatio": "9:16", "includeRaiReason": True},
    }
    emulator.script({"imagesFiltered": 1}, {"imageBlock": "output"}, {"imageBlock": "prompt"})
    some = await gemini.generate_images("imagen-4.0-fast-generate-001", "A fox", 2, None, options)
    assert len(some.images) == 1 and len(some.filtered) == 1
    with pytest.raises(BlockedError, match="filtered out every image") as everything:
        await gemini.generate_images("imagen-4.0-generate-001", "A fox", 2, None, options)
    assert everything.value.block_reason == "IMAGE_SAFETY"
    with pytest.raises(BlockedError, match="refused the prompt") as refused:
        await gemini.generate_images("imagen-4.0-generate-001", "A fox", 1, None, options)
    assert (refused.value.block_reason, refused.value.http_status) == ("SAFETY", 400)
    before = len(emulator.requests())
    for count, ratio in ((5, None), (0, None), (1, "2:1")):
        with pytest.raises(BadRequestError, match="Cannot ask Imagen"):
            await gemini.generate_images("imagen-4.0-generate-001", "A fox", count, ratio, options)
    assert len(emulator.requests()) == before
    with pytest.raises(ModelNotFoundError):
        await gemini.generate_images("gemini-2.5-flash", "A fox", 1, None, options)


# --- against a mock ------------------------------------------------------------------------------


def mock_opts(**overrides: Any) -> CallOptions:
    """Options against the mock with the test key."""
    return CallOptions(**({"api_key": KEY, "base_url": BASE} | overrides))


def final(state: str = "ACTIVE", **extra: Any) -> httpx.Response:
    """The answer to finalize."""
    file = {"name": "files/abc", "uri": f"{BASE}/v1beta/files/abc", "state": state} | extra
    return httpx.Response(200, json={"file": file}, headers={"x-goog-upload-status": "final"})


def file_state(state: str, **extra: Any) -> httpx.Response:
    """A files.get answer."""
    return httpx.Response(200, json={"name": "files/abc", "state": state, "sizeBytes": "3"} | extra)


async def test_mock_start_429_retried_then_processing_polled() -> None:
    """Via MockTransport: a 429 on start (RetryInfo 7s) is retried; then PROCESSING,
    PROCESSING, ACTIVE from files.get; the exact URLs and headers of each request."""
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
    quota = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [retry]}}
    replies = [
        httpx.Response(429, json=quota),
        started(UPLOAD_URL),
        final("PROCESSING", sizeBytes="3"),
        file_state("PROCESSING"),
        file_state("ACTIVE"),
    ]
    sent: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return replies.pop(0)

    h = Harness(upstream)
    progress: list[UploadProgress] = []

    async def on_progress(p: UploadProgress) -> None:
        progress.append(p)

    file = await h.client.upload_file(
        b"abc", "image/png", "cat.png", mock_opts(), on_progress, poll_interval=0.01
    )
    await h.client.aclose()
    assert file.state == "ACTIVE"
    assert h.sleeps == [7.0]
    assert [(r.method, str(r.url)) for r in sent] == [
        ("POST", f"{BASE}/upload/v1beta/files"),
        ("POST", f"{BASE}/upload/v1beta/files"),
        ("POST", UPLOAD_URL),
        ("GET", f"{BASE}/v1beta/files/abc"),
        ("GET", f"{BASE}/v1beta/files/abc"),
    ]
    assert sent[1].headers["x-goog-upload-protocol"] == "resumable"
    assert sent[1].headers["x-goog-upload-command"] == "start"
    assert json.loads(sent[1].content) == {"file": {"displayName": "cat.png"}}
    assert sent[2].headers["x-goog-upload-command"] == "upload, finalize"
    assert sent[2].headers["x-goog-upload-offset"] == "0"
    assert sent[2].content == b"abc"
    assert "x-goog-api-key" not in sent[2].headers
    assert [p.state for p in progress] == ["uploading", "processing", "processing"]


async def test_mock_upload_url_with_a_key_is_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    """An upload URL carrying ?key= (the API echoes one) is used exactly as given, and neither
    the error of a failed chunk nor our log lines show it (httpx's own request lines, which
    name URLs, are silenced below -vv and redacted by the daemon's logging set-up)."""
    caplog.set_level(logging.DEBUG)
    url = f"{UPLOAD_URL}&key={KEY}"
    sent: list[httpx.Request] = []
    replies = [started(url), httpx.Response(400, json={"error": {"code": 400, "message": url}})]

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return replies.pop(0)

    h = Harness(upstream)
    with pytest.raises(BadRequestError) as info:
        await h.client.upload_file(b"abc", "text/plain", None, mock_opts())
    await h.client.aclose()
    assert str(sent[1].url) == url
    assert KEY not in str(info.value)
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert not [line for line in ours if KEY in line]


ACTIVE_ONLY = httpx.Response(200, headers={"x-goog-upload-status": "active"})


@pytest.mark.parametrize(
    ("replies", "size", "match"),
    [
        ([httpx.Response(200)], 3, "usable upload address"),
        ([started("ftp://x/y")], 3, "usable upload address"),
        ([started(UPLOAD_URL, granularity="1024"), final()], 2048, "stopped taking the upload"),
        ([started(UPLOAD_URL), ACTIVE_ONLY], 3, "stopped taking the upload"),
    ],
)
async def test_mock_unusable_answers(replies: list[httpx.Response], size: int, match: str) -> None:
    """No upload URL, a non-HTTP one, a finalize answer to a middle chunk, or a last chunk not
    finalized: UpstreamUnavailableError, nothing kept."""
    answers = list(replies)
    h = Harness(lambda request: answers.pop(0))
    with pytest.raises(UpstreamUnavailableError, match=match):
        await h.client.upload_file(b"a" * size, "text/plain", None, mock_opts(), chunk_size=1024)
    await h.client.aclose()


async def test_mock_refusals_before_any_io(tmp_path: Path) -> None:
    """A missing path and a file over 2 GB (sparse) are refused before any request."""
    h = Harness(lambda request: pytest.fail("no request expected"))
    with pytest.raises(BadRequestError, match=r"Could not read missing\.mp4"):
        await h.client.upload_file(tmp_path / "missing.mp4", "video/mp4", None, mock_opts())
    huge = tmp_path / "huge.mp4"
    with huge.open("wb") as out:
        out.truncate(2 * 1024**3 + 1)
    with pytest.raises(BadRequestError, match="at most 2147483648 bytes"):
        await h.client.upload_file(huge, "video/mp4", "huge.mp4", mock_opts())
    await h.client.aclose()


async def test_mock_imagen_answers() -> None:
    """Predictions decode to bytes (mimeType defaulting to image/png); bad base64 is
    UpstreamUnavailableError; `{}` (every image filtered, no reasons) is BlockedError."""
    png = base64.b64encode(b"\x89PNG...").decode()
    replies = [
        httpx.Response(200, json={"predictions": [{"bytesBase64Encoded": png}]}),
        httpx.Response(200, json={"predictions": [{"bytesBase64Encoded": "%%%"}]}),
        httpx.Response(200, json={}),
    ]
    h = Harness(lambda request: replies.pop(0))
    result = await h.client.generate_images("imagen-4.0-generate-001", "x", 1, "1:1", mock_opts())
    assert [(i.data, i.mime_type) for i in result.images] == [(b"\x89PNG...", "image/png")]
    with pytest.raises(UpstreamUnavailableError, match="cannot decode"):
        await h.client.generate_images("imagen-4.0-generate-001", "x", 1, "1:1", mock_opts())
    with pytest.raises(BlockedError, match="every image"):
        await h.client.generate_images("imagen-4.0-generate-001", "x", 1, "1:1", mock_opts())
    await h.client.aclose()
