"""Attachments to Gemini parts: open documents, ranges, files, images, size caps."""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

from . import files
from .gemini.limits import MAX_FILE_BYTES
from .params import Attachment, DataAttachment, Range, TextAttachment, UriAttachment
from .protocol import FieldError
from .workspaces import Workspace

MAX_TEXT_BYTES = 1_000_000
"""A text attachment (a file or a range of it) may hold at most this many bytes."""
MAX_INLINE_BYTES = 20_000_000
"""All inline data of one turn together (Gemini's documented inline request limit); a media
file that does not fit goes through the Files API instead."""

INLINE_TYPES = {
    "image/png", "image/jpeg", "image/webp", "image/heic", "image/heif",
    "application/pdf",
    "audio/wav", "audio/mp3", "audio/mpeg", "audio/aiff", "audio/aac", "audio/ogg", "audio/flac",
    "video/mp4", "video/mpeg", "video/mov", "video/quicktime", "video/avi", "video/x-flv",
    "video/mpg", "video/webm", "video/wmv", "video/3gpp",
}  # fmt: skip

API_MIME_TYPES = {
    ".wav": "audio/wav", ".mp3": "audio/mp3", ".aif": "audio/aiff", ".aiff": "audio/aiff",
    ".aac": "audio/aac", ".ogg": "audio/ogg", ".flac": "audio/flac",
    ".mov": "video/mov", ".avi": "video/avi", ".wmv": "video/wmv", ".3gp": "video/3gpp",
    ".mpg": "video/mpg", ".flv": "video/x-flv",
}  # fmt: skip
"""The Gemini API's names for types that `mimetypes` spells otherwise (audio/x-wav, ...)."""

LANGUAGES = {
    ".py": "python", ".ts": "typescript", ".tsx": "tsx", ".js": "javascript", ".jsx": "jsx",
    ".lua": "lua", ".rs": "rust", ".go": "go", ".c": "c", ".h": "c", ".cpp": "cpp", ".hpp": "cpp",
    ".java": "java", ".kt": "kotlin", ".rb": "ruby", ".sh": "bash", ".md": "markdown",
    ".json": "json", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".html": "html",
    ".css": "css", ".sql": "sql", ".cs": "csharp", ".swift": "swift", ".php": "php",
}  # fmt: skip

Part: TypeAlias = dict[str, object]


class AttachmentError(FieldError):
    """An attachment that cannot be sent; becomes InvalidParams naming the field."""


@dataclass(frozen=True)
class Upload:
    """A media file of the folder to upload, and where its part goes."""

    path: Path
    mime_type: str
    name: str
    size: int
    index: int


@dataclass
class Prepared:
    """Attachments turned into Gemini parts, plus what history shows of each."""

    parts: list[Part] = field(default_factory=list[Part])
    shown: list[dict[str, str]] = field(default_factory=list[dict[str, str]])
    sources: list[str] = field(default_factory=list[str])
    """Each part's attachment, `attachments.N` (where redaction reports a masked secret)."""
    uploads: list[Upload] = field(default_factory=list["Upload"])
    """Media too large to send inline: uploaded through the Files API before the turn; the
    part at each one's `index` is filled in then."""
    inline_bytes: int = 0

    def add(self, part: Part, name: str, mime: str, where: str) -> None:
        """One attachment's part, and what history shows of it."""
        self.parts.append(part)
        self.shown.append({"name": name, "mimeType": mime})
        self.sources.append(where)


OpenText = Callable[[str], str | None]
"""Returns the text of a document the client has open (synced), by URI, else None."""


def mime_type(path: Path) -> str:
    """The API's mime type for a file name; text/plain when nothing else fits."""
    suffix = path.suffix.lower()
    return API_MIME_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"


def check_caps(attachments: list[Attachment]) -> None:
    """Refuse attachments over the documented caps before anything is read or decoded."""
    inline = 0
    for i, att in enumerate(attachments):
        if isinstance(att, TextAttachment) and _over_text_cap(att.text):
            raise AttachmentError(
                f"attachments.{i}: text is larger than {MAX_TEXT_BYTES // 1000} kB",
                f"attachments.{i}.text",
            )
        if isinstance(att, DataAttachment):
            inline += len(att.data) * 3 // 4
            if inline > MAX_INLINE_BYTES:
                raise AttachmentError(_too_much(f"attachments.{i}"), f"attachments.{i}.data")


def _over_text_cap(text: str) -> bool:
    # A character is at most 4 bytes: encode only when the count comes near the cap.
    return len(text) * 4 > MAX_TEXT_BYTES and len(text.encode()) > MAX_TEXT_BYTES


def prepare(attachments: list[Attachment], ws: Workspace, open_text: OpenText) -> Prepared:
    """Turn a turn's attachments into parts; refuse what is outside the workspace or too big.

    Reads files (blocking): run it off the event loop.
    """
    check_caps(attachments)
    out = Prepared()
    for i, att in enumerate(attachments):
        where = f"attachments.{i}"
        if isinstance(att, UriAttachment):
            _add_uri(out, att, ws, open_text, where)
        elif isinstance(att, DataAttachment):
            _add_data(out, att, where)
        else:
            _add_text(out, att, where)
    return out


def _add_text(out: Prepared, att: TextAttachment, where: str) -> None:
    fence = _fence(att.text)
    text = f"Attached text «{att.name}»:\n{fence}\n{att.text}\n{fence}"
    out.add({"text": text}, att.name, "text/plain", where)


def _add_data(out: Prepared, att: DataAttachment, where: str) -> None:
    mime = att.mime_type.lower()
    if mime not in INLINE_TYPES and not mime.startswith("text/"):
        raise AttachmentError(f"{where}: mime type {mime} is not supported", f"{where}.mimeType")
    try:
        raw = base64.b64decode(
            att.data, altchars=b"-_" if "-" in att.data or "_" in att.data else None, validate=True
        )
    except (binascii.Error, ValueError):
        raise AttachmentError(f"{where}: data is not valid base64", f"{where}.data") from None
    _charge(out, len(raw), where)
    data = base64.b64encode(raw).decode()
    out.add({"inlineData": {"mimeType": mime, "data": data}}, att.name, mime, where)


def _charge(out: Prepared, size: int, where: str) -> None:
    out.inline_bytes += size
    if out.inline_bytes > MAX_INLINE_BYTES:
        raise AttachmentError(_too_much(where), where)


def _too_much(where: str) -> str:
    return (
        f"{where}: attachments exceed {MAX_INLINE_BYTES // 1_000_000} MB of inline data "
        "in one message; attach fewer or smaller files"
    )


def _add_uri(
    out: Prepared, att: UriAttachment, ws: Workspace, open_text: OpenText, where: str
) -> None:
    field = f"{where}.uri"
    path = files.confine(ws.root, ws.path(att.uri, field), field)
    rel = path.relative_to(ws.root).as_posix() or path.name
    mime = mime_type(path)
    text = open_text(att.uri)
    if text is None and mime in INLINE_TYPES and att.range is None:
        size = files.regular_size(path, field)
        if size > MAX_INLINE_BYTES - out.inline_bytes:
            _defer(out, Upload(path, mime, rel, size, len(out.parts)), where, field)
            return
        data = files.read_bounded(path, MAX_INLINE_BYTES - out.inline_bytes, field)
        _charge(out, len(data), where)
        blob = {"mimeType": mime, "data": base64.b64encode(data).decode()}
        out.add({"inlineData": blob}, rel, mime, where)
        return
    if text is None:
        text = _read_text(path, field)
    excerpt, label = _excerpt(text, att.range)
    if len(excerpt.encode()) > MAX_TEXT_BYTES:
        raise AttachmentError(
            f"{where}: {rel}{label} is larger than {MAX_TEXT_BYTES // 1000} kB; attach a range",
            where,
        )
    text = _present(rel, label, excerpt, path.suffix.lower())
    out.add({"text": text}, f"{rel}{label}", "text/plain", where)


def _defer(out: Prepared, upload: Upload, where: str, field: str) -> None:
    """Too big to send inline: a placeholder part, filled in after the upload."""
    if upload.size > MAX_FILE_BYTES:
        raise AttachmentError(f"{where}: {upload.name} is larger than 2 GB", field)
    out.uploads.append(upload)
    out.add({}, upload.name, upload.mime_type, where)


def _read_text(path: Path, field: str) -> str:
    # A range of a larger file may be attached: read up to 8 MB, send at most 1 MB of it.
    data = files.read_bounded(path, 8 * MAX_TEXT_BYTES, field)
    if files.is_binary(data):
        raise AttachmentError(f"{path.name} is a binary file, not text", field)
    return data.decode("utf-8", errors="replace")


def _excerpt(text: str, rng: Range | None) -> tuple[str, str]:
    """The attached lines and a label such as `:3-9`; LSP's end position is exclusive."""
    lines = text.splitlines(keepends=True)
    if rng is None:
        return text, ""
    first = min(rng.start.line, len(lines))
    last = rng.end.line if rng.end.character > 0 else rng.end.line - 1
    last = max(first, min(last, len(lines) - 1))
    chosen = lines[first : last + 1]
    if first == last and chosen and rng.end.line == rng.start.line:
        chosen = [chosen[0][rng.start.character : rng.end.character]]
    return "".join(chosen), f":{first + 1}-{last + 1}"


def _fence(text: str) -> str:
    longest = 0
    run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _present(rel: str, label: str, text: str, suffix: str) -> str:
    """A file excerpt as the model sees it: path, line range, fenced code with its language."""
    fence = _fence(text)
    where = f"lines {label[1:]} of " if label else ""
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"Attached file: {where}`{rel}`\n{fence}{LANGUAGES.get(suffix, '')}\n{body}{fence}"
