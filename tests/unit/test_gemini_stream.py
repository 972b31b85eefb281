"""GeminiClient streaming through httpx.MockTransport: SSE, errors, retries, cancel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import httpx
import pytest

from gemini_chat.gemini.client import CallOptions
from gemini_chat.gemini.errors import (
    BlockedError,
    GeminiError,
    GeminiTimeoutError,
    NetworkError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from gemini_chat.gemini.wire import Content, GenerateContentRequest, GenerateContentResponse, Part

from .gemini_fakes import BASE, EXAMPLES, Harness, Upstream

KEY = "stream-secret-key-9a1b"
STREAM_URL = f"{BASE}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
# The two published chunks, each kept as the exact line Gemini sent.
CHUNKS = [
    line.rstrip(",")
    for line in (EXAMPLES / "stream-sse-chunks-gemini-2.5-flash.json").read_text().splitlines()
    if line.startswith("{")
]
BLOCKED = (EXAMPLES / "prompt-blocked-prohibited-content-sse-chunk.json").read_text().strip()
MID_STREAM_500 = json.dumps(
    {"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}
)


def sse(*payloads: str, newline: str = "\r\n") -> bytes:
    """An SSE body: one ``data:`` line per payload, each followed by a blank line."""
    return "".join(f"data: {p}{newline}{newline}" for p in payloads).encode()


class Feed(httpx.AsyncByteStream):
    """A response body the test writes piece by piece; records when httpx closes it."""

    def __init__(self, *pieces: bytes | Exception) -> None:
        self.queue: asyncio.Queue[bytes | Exception | None] = asyncio.Queue()
        for piece in pieces:
            self.queue.put_nowait(piece)
        self.closed = asyncio.Event()

    def send(self, piece: bytes | Exception | None) -> None:
        """Deliver bytes, raise an error in the reader, or (None) end the body."""
        self.queue.put_nowait(piece)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            piece = await self.queue.get()
            if piece is None:
                return
            if isinstance(piece, Exception):
                raise piece
            yield piece

    async def aclose(self) -> None:
        self.closed.set()


def event_stream(body: bytes | Feed, status: int = 200) -> httpx.Response:
    """A text/event-stream reply."""
    headers = {"content-type": "text/event-stream"}
    if isinstance(body, Feed):
        return httpx.Response(status, headers=headers, stream=body)
    return httpx.Response(status, headers=headers, content=body)


def err(code: int, status: str, details: list[dict[str, Any]] | None = None) -> httpx.Response:
    """A JSON error reply, as Gemini sends before a stream starts."""
    error: dict[str, Any] = {"code": code, "message": f"{status} happened", "status": status}
    if details:
        error["details"] = details
    return httpx.Response(code, json={"error": error})


class StreamHarness(Harness):
    """The harness, streaming the one-turn request."""

    def __init__(self, upstream: Upstream) -> None:
        super().__init__(upstream)
        self.upstream = upstream

    def stream(self, **overrides: Any) -> Any:
        """Start a stream of the one-turn request."""
        opts = CallOptions(**({"api_key": KEY, "base_url": BASE} | overrides))
        request = GenerateContentRequest(contents=[Content(role="user", parts=[Part(text="Hi")])])
        return self.client.stream_generate_content(
            "gemini-2.5-flash", request, opts, on_retry=self.on_retry
        )

    async def collect(self, **overrides: Any) -> list[GenerateContentResponse]:
        """All chunks of a stream."""
        got: list[GenerateContentResponse] = []
        await self.drain(got, **overrides)
        return got

    async def drain(self, got: list[GenerateContentResponse], **overrides: Any) -> None:
        """Read a stream into ``got``, so chunks before an error are kept."""
        async with aclosing(self.stream(**overrides)) as chunks:
            async for chunk in chunks:
                got.append(chunk)


@pytest.fixture
async def make() -> Any:
    """Build harnesses and close their clients after the test."""
    made: list[StreamHarness] = []

    def build(*replies: httpx.Response | Exception) -> StreamHarness:
        made.append(StreamHarness(Upstream(*replies)))
        return made[-1]

    yield build
    for harness in made:
        await harness.client.aclose()


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
async def test_published_chunks_stream_through(make: Any, newline: str) -> None:
    """The published chunks arrive parsed, in order, with CRLF or LF framing."""
    h = make(event_stream(sse(*CHUNKS, newline=newline)))
    chunks = await h.collect()
    assert [c.model_dump(by_alias=True, exclude_none=True, mode="json") for c in chunks] == [
        GenerateContentResponse.model_validate_json(c).model_dump(
            by_alias=True, exclude_none=True, mode="json"
        )
        for c in CHUNKS
    ]
    assert "".join(c.text() for c in chunks).endswith("**Italian:** Ciao")
    (sent,) = h.upstream.requests
    assert str(sent.url) == STREAM_URL
    assert sent.headers["x-goog-api-key"] == KEY
    assert KEY not in str(sent.url)


async def test_comments_and_split_lines_are_handled(make: Any) -> None:
    """Comment lines are ignored and events split across reads are joined."""
    body = b": keep-alive\r\n\r\n" + sse(*CHUNKS)
    feed = Feed(*(body[i : i + 7] for i in range(0, len(body), 7)), None)
    chunks = await make(event_stream(feed)).collect()
    assert [c.finish_reason() for c in chunks] == [None, "STOP"]


async def test_each_chunk_is_yielded_as_it_arrives(make: Any) -> None:
    """The first chunk reaches the caller before the second one was even sent."""
    feed = Feed(sse(CHUNKS[0]))
    h = make(event_stream(feed))
    async with aclosing(h.stream()) as chunks:
        first = await anext(chunks)
        assert first.text().startswith("Here you go!")
        feed.send(sse(CHUNKS[1]))
        feed.send(None)
        rest = [c async for c in chunks]
    assert [c.finish_reason() for c in rest] == ["STOP"]


async def test_mid_stream_error_raises_and_is_not_retried(make: Any) -> None:
    """An error event after a chunk raises the mapped error; the chunk stays delivered."""
    h = make(event_stream(sse(CHUNKS[0], MID_STREAM_500)), event_stream(sse(*CHUNKS)))
    got: list[GenerateContentResponse] = []
    with pytest.raises(UpstreamUnavailableError, match="internal error"):
        await h.drain(got)
    assert len(got) == 1
    assert len(h.upstream.requests) == 1
    assert h.sleeps == []


async def test_error_event_first_is_not_retried(make: Any) -> None:
    """Even before any chunk, an error event in a 200 stream is final."""
    h = make(event_stream(sse(MID_STREAM_500)), event_stream(sse(*CHUNKS)))
    with pytest.raises(UpstreamUnavailableError) as info:
        await h.collect()
    assert info.value.http_status == 500
    assert len(h.upstream.requests) == 1


async def test_cut_stream_raises_network_error(make: Any) -> None:
    """A stream that ends without a finishReason is a NetworkError; it is not retried."""
    h = make(event_stream(sse(CHUNKS[0])), event_stream(sse(*CHUNKS)))
    got: list[GenerateContentResponse] = []
    with pytest.raises(NetworkError) as info:
        await h.drain(got)
    assert len(got) == 1
    assert str(info.value) == (
        "The reply stream ended before Gemini finished; nothing was saved. Try again."
    )
    assert len(h.upstream.requests) == 1


async def test_connection_lost_mid_stream(make: Any) -> None:
    """A read error after a chunk is a NetworkError naming the host."""
    feed = Feed(sse(CHUNKS[0]), httpx.ReadError("connection reset"))
    h = make(event_stream(feed))
    with pytest.raises(NetworkError, match=r"gemini\.test"):
        await h.collect()
    assert feed.closed.is_set()


async def test_empty_stream_before_any_chunk_is_retried(make: Any) -> None:
    """A 200 stream that ends before its first chunk is retried like a connection failure."""
    h = make(event_stream(b""), event_stream(sse(*CHUNKS)))
    chunks = await h.collect()
    assert len(chunks) == 2
    assert len(h.upstream.requests) == 2
    assert h.sleeps == [1.0]


async def test_503_before_the_stream_is_retried(make: Any) -> None:
    """Errors before the stream starts are retried, telling the caller."""
    h = make(err(503, "UNAVAILABLE"), httpx.ConnectError("refused"), event_stream(sse(*CHUNKS)))
    chunks = await h.collect()
    assert len(chunks) == 2
    assert h.sleeps == [1.0, 2.0]
    assert [n.describe() for n in h.notices] == [
        "Gemini answered 503: retrying in 1 s",
        "connection failed: retrying in 2 s",
    ]


async def test_429_before_the_stream_over_cap_fails_at_once(make: Any) -> None:
    """A 429 whose retryDelay exceeds the cap is raised at once with retry_after."""
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "120s"}
    h = make(err(429, "RESOURCE_EXHAUSTED", [retry]), event_stream(sse(*CHUNKS)))
    with pytest.raises(RateLimitedError) as info:
        await h.collect(max_retry_delay=60)
    assert info.value.retry_after == 120.0
    assert len(h.upstream.requests) == 1


async def test_blocked_prompt_chunk_raises_blocked(make: Any) -> None:
    """The published blocked-prompt event raises BlockedError and is not retried."""
    h = make(event_stream(sse(BLOCKED)), event_stream(sse(*CHUNKS)))
    with pytest.raises(BlockedError) as info:
        await h.collect()
    assert info.value.block_reason == "PROHIBITED_CONTENT"
    assert len(h.upstream.requests) == 1


def safety_stop(parts: list[dict[str, Any]]) -> str:
    """A final chunk stopped for SAFETY."""
    return json.dumps(
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": parts},
                    "finishReason": "SAFETY",
                    "safetyRatings": [
                        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}
                    ],
                }
            ]
        }
    )


async def test_safety_stop_without_answer_is_blocked(make: Any) -> None:
    """A SAFETY stop when no answer text came raises BlockedError naming the category."""
    thought = json.dumps(
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "hm", "thought": True}]}}]}
    )
    h = make(event_stream(sse(thought, safety_stop([]))))
    with pytest.raises(BlockedError, match="dangerous content") as info:
        await h.collect()
    assert info.value.block_reason == "SAFETY"


async def test_safety_stop_after_answer_text_is_delivered(make: Any) -> None:
    """A SAFETY stop after some answer text is a cut-short reply, yielded like any other."""
    h = make(event_stream(sse(CHUNKS[0], safety_stop([]))))
    chunks = await h.collect()
    assert [c.finish_reason() for c in chunks] == [None, "SAFETY"]


async def test_invalid_json_event(make: Any) -> None:
    """An event that is not JSON raises upstreamUnavailable."""
    h = make(event_stream(sse(CHUNKS[0], "{not json")))
    with pytest.raises(UpstreamUnavailableError, match="not valid JSON"):
        await h.collect()


async def test_not_an_event_stream(make: Any) -> None:
    """A 200 with another content type is upstreamUnavailable, pointing at baseUrl."""
    reply = httpx.Response(200, html="<html>captive portal</html>")
    h = make(reply)
    with pytest.raises(UpstreamUnavailableError, match="baseUrl"):
        await h.collect(max_retries=0)


async def test_idle_stream_times_out(make: Any) -> None:
    """No event for stream_idle_timeout seconds: GeminiTimeoutError, and the body is closed."""
    feed = Feed(sse(CHUNKS[0]))
    h = make(event_stream(feed))
    with pytest.raises(GeminiTimeoutError, match="sent nothing"):
        await h.collect(stream_idle_timeout=0.05)
    assert feed.closed.is_set()


async def test_stream_bounded_by_request_timeout(make: Any) -> None:
    """requestTimeout bounds the whole stream, even while events keep coming."""
    feed = Feed(sse(CHUNKS[0]))
    h = make(event_stream(feed))
    with pytest.raises(GeminiTimeoutError, match="requestTimeout"):
        await h.collect(timeout=0.05, stream_idle_timeout=60)
    assert feed.closed.is_set()


async def test_aclose_closes_the_upstream_response(make: Any) -> None:
    """Closing the iterator after a chunk closes the HTTP response at once."""
    feed = Feed(sse(CHUNKS[0]))
    h = make(event_stream(feed))
    chunks = h.stream()
    await anext(chunks)
    assert not feed.closed.is_set()
    await chunks.aclose()
    assert feed.closed.is_set()


async def test_cancel_closes_the_upstream_response(make: Any) -> None:
    """Cancelling the consuming task while it waits for a chunk closes the response."""
    feed = Feed(sse(CHUNKS[0]))
    h = make(event_stream(feed))
    got_first = asyncio.Event()

    async def consume() -> None:
        async with aclosing(h.stream()) as chunks:
            async for _ in chunks:
                got_first.set()

    task = asyncio.create_task(consume())
    await got_first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert feed.closed.is_set()
    assert len(h.upstream.requests) == 1


ECHO = {"error": {"code": 400, "message": f"bad key {KEY}", "status": "INVALID_ARGUMENT"}}


@pytest.mark.parametrize(
    "reply",
    [httpx.Response(400, json=ECHO), event_stream(sse(json.dumps(ECHO)))],
    ids=["before-stream", "mid-stream"],
)
async def test_key_never_in_stream_errors(make: Any, reply: httpx.Response) -> None:
    """The key does not appear in stream errors, even when the upstream echoes it."""
    h = make(reply)
    with pytest.raises(GeminiError) as info:
        await h.collect()
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)
