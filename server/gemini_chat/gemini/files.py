"""The Files API: a resumable upload that streams the bytes, then waiting until the file is ready.

Media above the inline limit goes to Gemini this way: ``start`` (keyed, JSON metadata, size and
type in ``X-Goog-Upload-Header-*``) answers an upload URL; the bytes follow in chunks that are a
multiple of the server's granularity, the last one with ``upload, finalize``; the File it answers
is used as ``fileData`` once its state is ``ACTIVE``. The upload URL is used as given and sent no
key (its ``upload_id`` is the credential); it is never shown or logged, since the API echoes a
``?key=`` it was given into it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

from gemini_chat import files
from gemini_chat.gemini.api import ApiCore, CallOptions, RetryCallback, encode_body
from gemini_chat.gemini.errors import (
    BadRequestError,
    GeminiError,
    GeminiTimeoutError,
    UpstreamUnavailableError,
)
from gemini_chat.gemini.limits import MAX_FILE_BYTES
from gemini_chat.gemini.media_wire import (
    CreateFileRequest,
    CreateFileResponse,
    File,
    FileMetadata,
    file_name,
)
from gemini_chat.gemini.sse import parse_body
from gemini_chat.gemini.wire import dump

UPLOAD_CHUNK = 8 * 1024 * 1024
"""Bytes per upload request (rounded to the server's granularity, which is 8 MiB at Google)."""


@dataclass(frozen=True)
class UploadProgress:
    """How far an upload got: ``sent`` of ``total`` bytes, then Gemini ``processing`` it."""

    sent: int
    total: int
    state: Literal["uploading", "processing"]


ProgressCallback = Callable[[UploadProgress], Awaitable[None]]


@dataclass(frozen=True)
class _Session:
    url: str
    granularity: int


class _Source:
    """The bytes to send, read a chunk at a time (a file is never read whole)."""

    def __init__(self, data: bytes | None, fd: int | None, size: int, name: str) -> None:
        self._data = memoryview(data) if data is not None else None
        self._fd = fd
        self.size = size
        self.name = name
        """What messages call the file."""

    async def read(self, offset: int, count: int) -> bytes:
        """Up to ``count`` bytes from ``offset``; disk reads run in a thread."""
        if self._data is not None:
            return bytes(self._data[offset : offset + count])
        assert self._fd is not None
        try:
            return await asyncio.to_thread(os.pread, self._fd, count, offset)
        except OSError as exc:
            raise BadRequestError(
                f"Could not read {self.name} to upload it ({exc.strerror})."
            ) from None


@asynccontextmanager
async def _opened(source: Path | bytes, display_name: str | None) -> AsyncGenerator[_Source]:
    """The bytes, or the file opened by files.py's rule: a regular file, never through a last
    symlink, without blocking on a FIFO (the daemon confined the path to the folder)."""
    if isinstance(source, bytes):
        yield _Source(source, None, len(source), display_name or "The file")
        return
    try:
        fd, size = await asyncio.to_thread(files.open_regular, source, "source")
    except (files.FileRefused, OSError) as exc:
        raise BadRequestError(f"Could not read {source.name} to upload it ({exc}).") from None
    try:
        yield _Source(None, fd, size, display_name or source.name)
    finally:
        await asyncio.to_thread(os.close, fd)


async def upload_file(
    api: ApiCore,
    source: Path | bytes,
    mime_type: str,
    display_name: str | None,
    opts: CallOptions,
    on_progress: ProgressCallback | None = None,
    *,
    on_retry: RetryCallback | None = None,
    chunk_size: int = UPLOAD_CHUNK,
    poll_interval: float = 1.0,
    processing_timeout: float = 600.0,
) -> File:
    """Upload, then wait (polling ``files.get``) until the file is ``ACTIVE``; see GeminiClient."""
    async with _opened(source, display_name) as data:
        if data.size > MAX_FILE_BYTES:
            raise BadRequestError(
                f"{display_name or 'The file'} is {data.size} bytes; Gemini takes files of at "
                f"most {MAX_FILE_BYTES} bytes (2 GB)."
            )
        session = await _start(api, data.size, mime_type, display_name, opts, on_retry)
        uploaded = await _send_all(api, session, data, opts, on_progress, on_retry, chunk_size)
    return await _until_active(
        api, uploaded, opts, on_progress, on_retry, poll_interval, processing_timeout
    )


async def get_file(
    api: ApiCore, name: str, opts: CallOptions, on_retry: RetryCallback | None = None
) -> File:
    """One file's description; FileUnavailableError when Gemini no longer has it."""
    url = api.url(opts, _checked_name(name))

    async def once() -> File:
        return parse_body(File, await api.call(opts, "GET", url, None, None))

    return await api.with_retries(once, opts, on_retry)


async def delete_file(api: ApiCore, name: str, opts: CallOptions) -> None:
    """Delete an uploaded file (Gemini deletes them itself after 48 hours)."""
    url = api.url(opts, _checked_name(name))

    async def once() -> None:
        await api.call(opts, "DELETE", url, None, None)

    await api.with_retries(once, opts, None)


def _checked_name(name: str) -> str:
    try:
        return file_name(name)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None


async def _start(
    api: ApiCore,
    size: int,
    mime_type: str,
    display_name: str | None,
    opts: CallOptions,
    on_retry: RetryCallback | None,
) -> _Session:
    """Open the upload session (retried like any call): its URL and chunk granularity."""
    url = api.url(opts, "files", prefix="/upload")
    body = dump(CreateFileRequest(file=FileMetadata(display_name=display_name)))
    headers = api.headers(opts, json_body=True) | {
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": str(size),
        "x-goog-upload-header-content-type": mime_type,
    }
    content = encode_body(body)

    async def once() -> httpx.Response:
        return await api.request(opts, "POST", url, headers=headers, content=content)

    response = await api.with_retries(once, opts, on_retry)
    upload_url: str = response.headers.get("x-goog-upload-url", "")
    parts = urlsplit(upload_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UpstreamUnavailableError(
            "Gemini did not answer a usable upload address, so the file was not sent. Try again."
        )
    granularity = response.headers.get("x-goog-upload-chunk-granularity", "")
    step = int(granularity) if granularity.isdigit() and int(granularity) > 0 else UPLOAD_CHUNK
    return _Session(upload_url, step)


async def _send_all(
    api: ApiCore,
    session: _Session,
    data: _Source,
    opts: CallOptions,
    on_progress: ProgressCallback | None,
    on_retry: RetryCallback | None,
    chunk_size: int,
) -> File:
    """Send every chunk; after a failed one (5xx, network) ask the server where to go on."""
    step = max(session.granularity, chunk_size // session.granularity * session.granularity)
    offset = attempt = 0
    while True:
        piece = await data.read(offset, min(step, data.size - offset))
        if len(piece) < min(step, data.size - offset):
            # Shorter than announced at start: the rest would never come (and a read at the
            # end answers b"" for ever), so stop rather than send a file that no longer is.
            raise BadRequestError(
                f"{data.name} changed while it was being uploaded; attach it again"
            )
        final = offset + len(piece) >= data.size
        command = "upload, finalize" if final else "upload"
        try:
            response = await _upload_request(api, session, opts, command, offset, piece)
        except GeminiError as error:
            attempt = await api.backoff(error, attempt, opts, on_retry)
            offset = await _received(api, session, opts, on_retry)
            continue
        offset += len(piece)
        attempt = 0  # the retry budget is per chunk: a long upload may meet several hiccups
        expected = "final" if final else "active"
        if response.headers.get("x-goog-upload-status") != expected:
            raise UpstreamUnavailableError(
                "Gemini stopped taking the upload before it was complete; nothing was kept. "
                "Try again."
            )
        if on_progress is not None:
            await on_progress(UploadProgress(offset, data.size, "uploading"))
        if final:
            return parse_body(CreateFileResponse, response.content).file


async def _upload_request(
    api: ApiCore, session: _Session, opts: CallOptions, command: str, offset: int, piece: bytes
) -> httpx.Response:
    """One request to the upload URL (no key: the URL's upload_id authorizes it)."""
    headers = api.headers(None, json_body=False) | {
        "x-goog-upload-command": command,
        "x-goog-upload-offset": str(offset),
        "content-length": str(len(piece)),
    }
    # As a one-shot stream: httpx's responses live in reference cycles, and a request holding
    # its bytes would keep every chunk alive until the cyclic GC ran (tens of MiB per upload).
    return await api.request(opts, "POST", session.url, headers=headers, content=_once(piece))


async def _once(piece: bytes) -> AsyncGenerator[bytes]:
    yield piece


async def _received(
    api: ApiCore, session: _Session, opts: CallOptions, on_retry: RetryCallback | None
) -> int:
    """How many bytes the server holds (``query``), where the upload goes on from."""

    async def once() -> httpx.Response:
        return await _upload_request(api, session, opts, "query", 0, b"")

    response = await api.with_retries(once, opts, on_retry)
    received = response.headers.get("x-goog-upload-size-received", "")
    if response.headers.get("x-goog-upload-status") != "active" or not received.isdigit():
        raise UpstreamUnavailableError(
            "Gemini lost the upload after a failed chunk; nothing was kept. Try again."
        )
    return int(received)


async def _until_active(
    api: ApiCore,
    file: File,
    opts: CallOptions,
    on_progress: ProgressCallback | None,
    on_retry: RetryCallback | None,
    poll_interval: float,
    processing_timeout: float,
) -> File:
    """Poll ``files.get`` while the file is PROCESSING, for at most ``processing_timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + processing_timeout
    size = file.size_bytes or 0
    while file.state == "PROCESSING":
        if on_progress is not None:
            await on_progress(UploadProgress(size, size, "processing"))
        if loop.time() + poll_interval > deadline:
            raise GeminiTimeoutError(
                f"Gemini was still processing {_shown(file)} after {processing_timeout:g} s; "
                "try again later."
            )
        # The loop's own sleep, not api.sleep (the retry wait, which tests record instead of
        # sleeping): the deadline runs on the loop's clock, so a skipped wait would busy-poll.
        await asyncio.sleep(poll_interval)
        file = await get_file(api, file.name, opts, on_retry)
    if file.state == "FAILED":
        why = file.error.message if file.error is not None and file.error.message else None
        raise BadRequestError(
            f"Gemini could not process {_shown(file)}{f' ({why})' if why else ''}; "
            "check that the file is a supported type and not damaged."
        )
    return file


def _shown(file: File) -> str:
    return file.display_name or file.name
