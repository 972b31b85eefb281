"""The Files API: resumable uploads, files.get/list/delete, and the fileData check of a request.

An upload is ``start`` (keyed, on /upload/v1beta/files) then requests to the upload URL it
answers (the ``upload_id`` is the credential; no key needed), as Google's resumable protocol
does it: ``upload`` chunks that are a multiple of the granularity, ``upload, finalize`` (or
``finalize``) last, ``query`` and ``cancel`` too. Bytes are hashed as they arrive and not kept.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from .errors import RequestError, error_body, named_error, plain_error, scripted_error
from .schema import JsonObject, objects, parts_of
from .steps import check_upload_step

if TYPE_CHECKING:
    from _hashlib import HASH

GRANULARITY = 8 * 1024 * 1024
"""The chunk granularity announced by default (Google's: 8 MiB)."""
MAX_SIZE = 2147483648
"""media.upload's maxSize in the discovery document (2 GiB)."""
RETENTION = 48 * 3600.0
"""Seconds an uploaded file lives (the API deletes files after 48 hours)."""
_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
_URI_PATH = re.compile(r"/v1beta/files/([^/]+)")
_ID_CHARS = string.ascii_lowercase + string.digits
_COMMANDS = frozenset({"start", "upload", "finalize", "query", "cancel"})


@dataclass(frozen=True)
class Answer:
    """A response to write: status, JSON body (None: empty), headers, and a wait before it."""

    status: int
    body: JsonObject | None = None
    headers: dict[str, str] = field(default_factory=lambda: dict[str, str]())
    delay: float = 0.0


def _stamp(epoch: float) -> str:
    """An RFC 3339 timestamp in UTC with microseconds, as the API writes them."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds")[:-6] + "Z"


@dataclass
class StoredFile:
    """A finalized upload: its metadata and when (monotonic) processing ends."""

    id: str
    display_name: str | None
    mime_type: str
    size: int
    sha256: bytes
    uri: str
    created: float
    ready_at: float
    processing: float
    failure: str | None

    def state(self) -> str:
        """PROCESSING until ready_at, then ACTIVE (or FAILED when the step said so)."""
        if time.monotonic() < self.ready_at:
            return "PROCESSING"
        return "FAILED" if self.failure is not None else "ACTIVE"

    def resource(self) -> JsonObject:
        """The File as files.get shows it."""
        state = self.state()
        done = state != "PROCESSING"
        out: JsonObject = {"name": f"files/{self.id}"}
        if self.display_name is not None:
            out["displayName"] = self.display_name
        out |= {
            "mimeType": self.mime_type,
            "sizeBytes": str(self.size),
            "createTime": _stamp(self.created),
            "updateTime": _stamp(self.created + (self.processing if done else 0.0)),
            "expirationTime": _stamp(self.created + RETENTION),
            "sha256Hash": base64.b64encode(self.sha256).decode(),
            "uri": self.uri,
            "state": state,
            "source": "UPLOADED",
        }
        if state == "FAILED":
            out["error"] = {"code": 3, "message": self.failure}
        return out


@dataclass
class UploadSession:
    """An upload between start and finalize."""

    file_id: str
    display_name: str | None
    mime_type: str
    declared: int | None
    uri: str
    granularity: int
    step: JsonObject
    received: int = 0
    chunks: int = 0
    hasher: HASH = field(default_factory=hashlib.sha256)


class FileStore:
    """The files the emulator holds, the uploads under way, and the upload script."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}
        self._sessions: dict[str, UploadSession] = {}
        self._steps: deque[JsonObject] = deque()

    def add_steps(self, steps: Sequence[object]) -> int:
        """Validate and queue upload steps; return the queue length."""
        checked = [check_upload_step(s) for s in steps]
        with self._lock:
            self._steps.extend(checked)
            return len(self._steps)

    def clear(self) -> None:
        """Forget every file, upload and upload step."""
        with self._lock:
            self._files.clear()
            self._sessions.clear()
            self._steps.clear()

    def start(
        self, headers: dict[str, str], body: JsonObject, base: str, key: str | None
    ) -> Answer:
        """The answer to ``X-Goog-Upload-Command: start``: the upload URL in a header."""
        if headers.get("x-goog-upload-protocol", "").lower() != "resumable":
            raise plain_error(400, "Only resumable uploads are supported here.")
        if headers.get("x-goog-upload-command", "").strip().lower() != "start":
            raise plain_error(400, "A resumable upload begins with X-Goog-Upload-Command: start.")
        declared = _declared_size(headers.get("x-goog-upload-header-content-length"))
        meta = body.get("file")
        meta = cast("JsonObject", meta) if isinstance(meta, dict) else {}
        mime = headers.get("x-goog-upload-header-content-type") or str(meta.get("mimeType", ""))
        file_id = self._new_file_id(meta.get("name"))
        with self._lock:
            step = self._steps.popleft() if self._steps else {}
        if "status" in step:
            raise scripted_error(step, "files")
        upload_id = secrets.token_urlsafe(24)
        granularity = int(cast("int", step.get("granularity", GRANULARITY)))
        display = meta.get("displayName")
        session = UploadSession(
            file_id,
            display if isinstance(display, str) else None,
            mime or "application/octet-stream",
            declared,
            f"{base}/v1beta/files/{file_id}",
            granularity,
            step,
        )
        with self._lock:
            self._sessions[upload_id] = session
        url = f"{base}/upload/v1beta/files?upload_id={upload_id}&upload_protocol=resumable"
        if key is not None:
            url += f"&key={key}"  # the API echoes a ?key= into the URL: clients must not log it
        out = {"X-Goog-Upload-Status": "active", "X-Goog-Upload-URL": url}
        out |= {
            "X-Goog-Upload-Control-URL": url,
            "X-Goog-Upload-Chunk-Granularity": str(granularity),
        }
        if declared is not None:
            out["X-Goog-Upload-Header-Content-Length"] = str(declared)
        return Answer(200, None, out)

    def _new_file_id(self, name: object) -> str:
        if name is None or name == "":
            return "".join(secrets.choice(_ID_CHARS) for _ in range(12))
        text = str(name).removeprefix("files/")
        if not _ID.fullmatch(text):
            raise plain_error(400, f"Invalid file name: {name}. Use files/ and up to 40 a-z0-9-.")
        with self._lock:
            taken = text in self._files
        if taken:
            raise named_error(409, "ALREADY_EXISTS", f"File files/{text} already exists.")
        return text

    def upload(
        self, query: dict[str, str], headers: dict[str, str], body: Iterable[bytes]
    ) -> Answer:
        """The answer to a request on the upload URL (the body is consumed in every case)."""
        upload_id = query.get("upload_id", "")
        with self._lock:
            session = self._sessions.get(upload_id)
        commands = {c.strip().lower() for c in headers.get("x-goog-upload-command", "").split(",")}
        commands.discard("")
        if session is None:
            _drain(body)
            raise _upload_error(404, "No upload session with that upload_id.", "final")
        if not commands or not commands <= _COMMANDS - {"start"}:
            _drain(body)
            raise _upload_error(400, f"Bad X-Goog-Upload-Command: {sorted(commands)}.", "active")
        if "cancel" in commands:
            _drain(body)
            with self._lock:
                self._sessions.pop(upload_id, None)
            return Answer(200, None, {"X-Goog-Upload-Status": "cancelled"})
        if "query" in commands:
            _drain(body)
            received = str(session.received)
            return Answer(200, None, _active() | {"X-Goog-Upload-Size-Received": received})
        delay = float(cast("float", session.step.get("chunkDelay", 0)))
        if "upload" not in commands:
            _drain(body)  # a bare finalize: any body is not part of the file
        elif failed := self._take_chunk(session, headers, body, "finalize" in commands):
            return Answer(failed.status, failed.body, failed.headers, delay)
        if "finalize" not in commands:
            return Answer(200, None, _active(), delay)
        stored = self._finalize(upload_id, session)
        return Answer(200, {"file": stored.resource()}, {"X-Goog-Upload-Status": "final"}, delay)

    def _take_chunk(
        self, session: UploadSession, headers: dict[str, str], body: Iterable[bytes], last: bool
    ) -> RequestError | None:
        """Hash one chunk in; a scripted chunk failure is returned, a bad chunk raised."""
        offset = headers.get("x-goog-upload-offset", "")
        if not offset.isdigit() or int(offset) != session.received:
            _drain(body)
            raise _upload_error(
                400,
                f"Upload offset must be {session.received}, not {offset or 'missing'}.",
                "active",
            )
        hasher, count = session.hasher.copy(), 0
        for piece in body:
            hasher.update(piece)
            count += len(piece)
        index, session.chunks = session.chunks, session.chunks + 1
        if session.step.get("failChunk") == index:
            status = int(cast("int", session.step.get("chunkStatus", 503)))
            return RequestError(status, error_body(status, "Backend Error"), _active())
        if not last and count % session.granularity:
            raise _upload_error(
                400, f"Chunk size {count} is not a multiple of {session.granularity}.", "active"
            )
        total = session.received + count
        if total > (session.declared if session.declared is not None else MAX_SIZE):
            raise _upload_error(400, "The upload is larger than its declared size.", "active")
        if last:
            _check_total(session, total)  # before keeping anything: a refused chunk leaves no trace
        session.hasher, session.received = hasher, total
        return None

    def _finalize(self, upload_id: str, session: UploadSession) -> StoredFile:
        _check_total(session, session.received)
        step = session.step
        processing = float(cast("float", step.get("processing", 0)))
        failure = step.get("fail")
        stored = StoredFile(
            session.file_id,
            session.display_name,
            session.mime_type,
            session.received,
            session.hasher.digest(),
            session.uri,
            time.time(),
            time.monotonic() + processing,
            processing,
            str(failure) if failure is not None else None,
        )
        with self._lock:
            self._sessions.pop(upload_id, None)
            self._files[stored.id] = stored
        return stored

    # --- files.get / list / delete --------------------------------------------------------

    def _held(self, file_id: str) -> StoredFile:
        with self._lock:
            stored = self._files.get(file_id)
            if stored is not None and time.time() > stored.created + RETENTION:
                del self._files[file_id]
                stored = None
        if stored is None:
            raise plain_error(
                403, f"You do not have permission to access the File {file_id} or it may not exist."
            )
        return stored

    def get(self, file_id: str) -> JsonObject:
        """files.get: the File, or the API's 403 for one it does not hold."""
        return self._held(file_id).resource()

    def delete(self, file_id: str) -> JsonObject:
        """files.delete: ``{}``, or the 403."""
        self._held(file_id)
        with self._lock:
            self._files.pop(file_id, None)
        return {}

    def page(self, size: int, offset: int) -> tuple[list[JsonObject], int | None]:
        """files.list: newest first, and the offset of the next page (None on the last)."""
        with self._lock:
            held = sorted(self._files.values(), key=lambda f: f.created, reverse=True)
        end = offset + size
        return [f.resource() for f in held[offset:end]], (end if end < len(held) else None)

    def expire(self, name: str) -> bool:
        """Forget a file as if its 48 hours were up; False if there is none."""
        with self._lock:
            return self._files.pop(name.removeprefix("files/"), None) is not None

    def snapshot(self) -> list[JsonObject]:
        """Every file held, oldest first."""
        with self._lock:
            held = sorted(self._files.values(), key=lambda f: f.created)
        return [f.resource() for f in held]

    def part_error(self, request: JsonObject) -> RequestError | None:
        """The API's error for the first fileData part naming a file that cannot be used."""
        contents = objects(request.get("contents"))
        system = request.get("systemInstruction")
        if isinstance(system, dict):
            contents.append(cast("JsonObject", system))
        for content in contents:
            for part in parts_of(content):
                data = part.get("fileData")
                if isinstance(data, dict):
                    problem = self._uri_error(str(cast("JsonObject", data).get("fileUri", "")))
                    if problem is not None:
                        return problem
        return None

    def _uri_error(self, uri: str) -> RequestError | None:
        parts = urlsplit(uri)
        if parts.hostname in ("www.youtube.com", "youtube.com", "youtu.be"):
            return None  # the API takes public YouTube URLs as fileData too
        match = _URI_PATH.fullmatch(parts.path)
        if parts.scheme not in ("http", "https") or match is None:
            return plain_error(400, f"Invalid or unsupported file uri: {uri}")
        try:
            stored = self._held(match.group(1))
        except RequestError as err:
            return err
        if stored.state() != "ACTIVE":
            return named_error(
                400,
                "FAILED_PRECONDITION",
                f"The File {stored.id} is not in an ACTIVE state and usage is not allowed.",
            )
        return None


def _declared_size(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise plain_error(400, f"Invalid X-Goog-Upload-Header-Content-Length: {text}")
    size = int(text)
    if size > MAX_SIZE:
        raise plain_error(400, f"File size {size} exceeds the maximum of {MAX_SIZE} bytes.")
    return size


def _check_total(session: UploadSession, total: int) -> None:
    if session.declared is not None and total != session.declared:
        message = f"Received {total} bytes, but the upload declared {session.declared}."
        raise _upload_error(400, message, "active")


def _active() -> dict[str, str]:
    return {"X-Goog-Upload-Status": "active"}


def _upload_error(status: int, message: str, upload_status: str) -> RequestError:
    """An error on the upload URL; its X-Goog-Upload-Status tells clients not to retry blindly."""
    return RequestError(
        status, error_body(status, message), {"X-Goog-Upload-Status": upload_status}
    )


def _drain(body: Iterable[bytes]) -> None:
    """Read and drop a body (the connection stays usable)."""
    for _ in body:
        pass
