"""The frame reader as a pure unit over byte streams: frames come out whole, junk and bad
headers come out as one Refusal each and never cost the next frame, oversized bodies are
drained in bounded reads, and the end of input ends reading."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemini_chat import protocol as P
from gemini_chat.framing import FrameReader, Refusal

BODY = b'{"jsonrpc": "2.0", "id": 1, "method": "gemini/status", "params": {}}'


def frame(body: bytes = BODY) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_all(data: bytes, max_frame: int = 1 << 20) -> list[bytes | Refusal]:
    """Everything the reader yields until the end of the stream."""
    reader = FrameReader(io.BytesIO(data), max_frame)
    out: list[bytes | Refusal] = []
    while (item := reader.read()) is not None:
        out.append(item)
        assert len(out) < 10_000, "the reader does not advance"
    return out


def codes(items: list[bytes | Refusal]) -> list[int | bytes]:
    """Refusals as their codes, bodies as they are."""
    return [i.code if isinstance(i, Refusal) else i for i in items]


def test_frames_back_to_back_with_any_header_spelling() -> None:
    """Frames follow each other directly; lower case, no space, LF only and a Content-Type
    before or after Content-Length are all read."""
    ct = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
    data = (
        frame()
        + b"content-length:%d\r\n\r\n" % len(BODY)
        + BODY
        + b"Content-Length: %d\n\n" % len(BODY)
        + BODY
        + ct
        + frame()
        + b"Content-Length: %d\r\n" % len(BODY)
        + ct
        + b"\r\n"
        + BODY
    )
    assert read_all(data) == [BODY] * 5


@pytest.mark.parametrize(
    "bad",
    [b"abc", b"-5", b"", b"1.5", b"12 34", b"0x10", b"\xff"],
    ids=repr,
)
def test_a_bad_content_length_is_refused_once_and_its_body_skipped(bad: bytes) -> None:
    """A bad header is one -32700; the body after it (its length unknown) is skipped without
    another answer, and the next frame is read: no more gluing the next header onto it."""
    data = b"Content-Length: " + bad + b"\r\n\r\n" + b'{"id": 7}' + frame()
    assert codes(read_all(data)) == [P.PARSE_ERROR, BODY]


@pytest.mark.parametrize("size", [b"268435457", b"99999999999", b"9" * 5000])
def test_an_implausible_length_is_refused_and_not_waited_for(size: bytes) -> None:
    """A header announcing more than 256 MiB is refused -32600 at once and the reader scans for
    the next header instead of waiting for gigabytes that may never come."""
    data = b"Content-Length: " + size + b"\r\n\r\n" + frame()
    assert codes(read_all(data)) == [P.INVALID_REQUEST, BODY]


@pytest.mark.parametrize(
    "junk",
    [b"xyz", b"\x00\xff\xfe", b"hello\r\n", b"{}\r\n\r\n", b"x" * 100_000, b"Content-Len"],
    ids=["stray", "binary", "line", "blank-ended", "100 KB", "half a header"],
)
def test_stray_bytes_are_refused_once_and_the_next_frame_read(junk: bytes) -> None:
    """Junk before a frame, with or without a line break and however long, is one -32700;
    the frame glued to it is still read."""
    assert codes(read_all(junk + frame())) == [P.PARSE_ERROR, BODY]


def test_a_header_split_across_the_line_cap_is_still_found() -> None:
    """8 KB of junk without a line break ending in the middle of `Content-Length:`: the
    held-back tail of one read joins the next, so the header is not lost."""
    for cut in range(8192 - 20, 8192 + 2):
        assert codes(read_all(b"z" * cut + frame())) == [P.PARSE_ERROR, BODY], cut


def test_a_header_block_broken_by_junk_is_refused_and_the_next_frame_read() -> None:
    """A header followed by junk instead of a blank line, and a header whose body is glued to
    the next header (no blank line): each is one -32700, then frames read normally."""
    data = b"Content-Length: 5\r\ngarbage\r\n\r\nhello" + frame()
    assert codes(read_all(data)) == [P.PARSE_ERROR, BODY]
    data = b"Content-Length: 5\r\n" + BODY + frame()
    assert codes(read_all(data)) == [P.PARSE_ERROR, BODY]


class CountingStream(io.BytesIO):
    """A stream that remembers the largest read asked of it."""

    largest = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.largest = max(self.largest, size if size is not None and size >= 0 else 1 << 62)
        return super().read(size)


def test_an_oversized_frame_is_drained_in_bounded_reads_and_refused() -> None:
    """A body over the cap is answered -32600 and skipped in reads of at most 1 MiB (never
    held in memory whole); the frame after it is read."""
    big = b"[" * 5_000_000
    stream = CountingStream(frame(big) + frame())
    reader = FrameReader(stream, max_frame=1000)
    refusal = reader.read()
    assert isinstance(refusal, Refusal) and refusal.code == P.INVALID_REQUEST
    assert refusal.msg_id is None and "5000000" in refusal.message
    assert reader.read() == BODY
    assert reader.read() is None
    assert stream.largest <= 1 << 20


def test_the_frame_cap_itself_is_accepted() -> None:
    """A body of exactly the cap is read; one byte more is refused."""
    assert read_all(frame(b"x" * 1000), max_frame=1000) == [b"x" * 1000]
    assert codes(read_all(frame(b"x" * 1001), max_frame=1000)) == [P.INVALID_REQUEST]


@pytest.mark.parametrize(
    "data",
    [b"", b"Content-Length: 10\r\n\r\nabc", b"Content-Length: 10", b"Content-Le", b"x" * 20],
    ids=["empty", "short body", "no blank line", "half a header", "junk"],
)
def test_the_end_of_input_ends_reading(data: bytes) -> None:
    """A stream that ends anywhere (inside a header or a body) ends with None, not a hang."""
    items = read_all(data)
    assert all(isinstance(i, Refusal) for i in items)


# --- properties ------------------------------------------------------------------------------

junk_bytes = st.binary(max_size=300).filter(lambda b: b"content-length:" not in b.lower())
bodies = st.binary(min_size=1, max_size=200)


@settings(max_examples=300)
@given(junk=junk_bytes, body=bodies)
def test_any_junk_then_a_frame_yields_that_frame(junk: bytes, body: bytes) -> None:
    """Whatever bytes (without a header) come first, the frame after them is read whole,
    after at most one Refusal."""
    items = read_all(junk + frame(body))
    assert items[-1] == body
    assert len(items) <= 2 and all(isinstance(i, Refusal) for i in items[:-1])


segments = st.lists(
    st.one_of(
        junk_bytes,
        st.integers(-10, 300).map(lambda n: b"Content-Length: %d\r\n" % n),
        st.sampled_from([b"\r\n", b"\r\n\r\n", b"Content-Length: x\r\n\r\n", b"Content-"]),
        bodies.map(frame),
    ),
    max_size=8,
)


@settings(max_examples=300)
@given(parts=segments, body=bodies)
def test_any_stream_resynchronises_on_the_frames_after_it(parts: list[bytes], body: bytes) -> None:
    """After any mix of junk, headers and frames, two frames longer than anything announced
    are enough: the last one is read whole (the first may be eaten by a body still due)."""
    tail = json.dumps({"pad": "p" * 400, "body": body.hex()}).encode()
    items = read_all(b"".join(parts) + frame(tail) + frame(body))
    assert items[-1] == body
