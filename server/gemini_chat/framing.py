"""LSP base-protocol frames read from a byte stream that may carry anything.

The reader never loses sync for good: after a bad header, stray bytes or a body it refuses, it
skips ahead to the next `Content-Length:` header, and it tells the caller what to answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import BinaryIO

from . import protocol

log = logging.getLogger(__name__)

# The largest body read into memory. A turn may carry 20 MB of inline attachment data
# (attachments.MAX_INLINE_BYTES), 26.7 MB once base64-encoded, plus a message of up to
# 1,000,000 characters (params.MAX_MESSAGE_CHARS): up to 4 MB as UTF-8, 6 MB when a client
# escapes each character as \uXXXX (Python's json does). 32 MiB holds both with room for the
# envelope; anything bigger cannot be a valid request, so it is drained unread.
MAX_FRAME = 32 * 1024 * 1024

_HEADER_NAME = b"content-length:"
# A header line is a few dozen bytes; a longer run without a line break is junk.
_MAX_LINE = 8192
# Bytes held back from a junk run that has no line break yet: a header name split across reads.
_TAIL = len(_HEADER_NAME) - 1
_DRAIN_CHUNK = 1024 * 1024
# An announced body over the cap is drained exactly, up to this size. Past it the header is
# taken for garbage (no client sends that much; a lying header must not leave the daemon deaf
# while it waits for gigabytes): the reader scans for the next header instead.
_MAX_DRAIN = 256 * 1024 * 1024
_OTHER_HEADER = re.compile(rb"[A-Za-z0-9-]+:[^\r\n]*\r?\n")


@dataclass(frozen=True)
class Refusal:
    """An error answer for a frame or message that is not handed on."""

    code: int
    message: str
    msg_id: int | str | None = None


class FrameReader:
    """Reads frame bodies from a stream; see `read`."""

    def __init__(self, stream: BinaryIO, max_frame: int = MAX_FRAME) -> None:
        self._stream = stream
        self._max_frame = max_frame
        self._pending = b""  # bytes taken from the stream but not yet looked at
        self._eof = False
        # An error was already answered for the junk now being skipped (a bad frame's body).
        self._quiet = False

    def read(self) -> bytes | Refusal | None:
        """The next frame's body, a Refusal to answer for bytes that are not a frame, or None
        at the end of the stream. Memory use is bounded by the frame cap."""
        length: int | None = None  # set while inside a header block
        while True:
            line = self._line()
            if line is None:
                return None
            at = line.lower().find(_HEADER_NAME)
            if at == 0:
                parsed = self._length(line)
                if not isinstance(parsed, int):
                    return parsed
                length, self._quiet = parsed, False
                continue
            if not line.strip():
                if length is not None and line.endswith(b"\n"):
                    return self._body(length)
                continue
            if at < 0 and _OTHER_HEADER.fullmatch(line):
                continue  # another header (Content-Type): nothing to do
            if at > 0:  # junk glued to the next header: resynchronise on the header
                self._pending, line = line[at:], line[:at]
                if length is None and not line.strip():
                    continue
            length = None
            refusal = self._junk()
            if refusal is not None:
                return refusal

    def _line(self) -> bytes | None:
        """One line with its line break; a junk run without one comes in pieces (holding back
        a possible header start); None at the end of the stream."""
        while True:
            if self._pending.endswith(b"\n"):
                line, self._pending = self._pending, b""
                return line
            more = b"" if self._eof else self._stream.readline(_MAX_LINE)
            self._eof = self._eof or not more
            line, self._pending = self._pending + more, b""
            if not line:
                return None
            if line.endswith(b"\n") or self._eof or _HEADER_NAME in line.lower():
                return line
            if len(line) > _TAIL:
                line, self._pending = line[:-_TAIL], line[-_TAIL:]
                return line
            self._pending = line

    def _length(self, line: bytes) -> int | Refusal | None:
        """The value of a Content-Length line; a Refusal if it is not a usable byte count."""
        if not line.endswith(b"\n"):
            if self._eof:
                return None  # the stream ended inside a header
            return self._skip(
                protocol.PARSE_ERROR, "Parse error: a Content-Length without a line break"
            )
        value = line[len(_HEADER_NAME) :].strip()
        if not value.isdigit():
            shown = value[:40].decode("latin-1")
            return self._skip(protocol.PARSE_ERROR, f"Parse error: a bad Content-Length {shown!r}")
        if len(value) > 12 or int(value) > _MAX_DRAIN:
            return self._skip(protocol.INVALID_REQUEST, self._too_large(value.decode()))
        return int(value)

    def _skip(self, code: int, message: str) -> Refusal:
        """Refuse a header; its body, if any, is then skipped as junk (this answer covers it)."""
        log.warning("%s; skipping to the next frame", message)
        self._quiet = True
        return Refusal(code, message)

    def _too_large(self, size: str) -> str:
        return f"Invalid request: the frame is {size} bytes, over the limit of {self._max_frame}"

    def _junk(self) -> Refusal | None:
        """Answer a run of junk once (not at all if it is the body of a frame already refused)."""
        if self._quiet:
            return None
        log.warning("Received bytes that are not an LSP frame; skipping to the next frame")
        self._quiet = True
        return Refusal(protocol.PARSE_ERROR, "Parse error: bytes that are not an LSP frame")

    def _body(self, length: int) -> bytes | Refusal | None:
        """Read a body of `length` bytes, or drain it unread when it is over the cap."""
        if length > self._max_frame:
            log.warning("Refusing a %d-byte frame (the limit is %d)", length, self._max_frame)
            if not self._drain(length):
                return None
            return Refusal(protocol.INVALID_REQUEST, self._too_large(str(length)))
        body = self._stream.read(length) if length else b""
        return body if len(body) == length else None

    def _drain(self, length: int) -> bool:
        """Skip `length` bytes in bounded chunks; False if the stream ends first."""
        while length > 0:
            chunk = self._stream.read(min(length, _DRAIN_CHUNK))
            if not chunk:
                return False
            length -= len(chunk)
        return True
