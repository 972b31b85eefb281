"""GeminiClient non-streaming calls through httpx.MockTransport: URLs, headers, retries."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gemini_chat import __version__
from gemini_chat.gemini.api import SEND_AT_ONCE, Spliced, sendable
from gemini_chat.gemini.client import CallOptions, GeminiClient
from gemini_chat.gemini.errors import (
    ApiKeyInvalidError,
    ApiKeyMissingError,
    BadRequestError,
    BlockedError,
    GeminiError,
    GeminiTimeoutError,
    ModelNotFoundError,
    NetworkError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from gemini_chat.gemini.wire import Content, GenerateContentRequest, Part

from .gemini_fakes import BASE, EXAMPLES, MODELS_JSON, Harness, Reply, Upstream, rate_limited

KEY = "test-secret-key-5f2e"
REPLY = (EXAMPLES / "generate-content-response-cookbook-2024.json").read_bytes()


@pytest.fixture
async def make() -> Any:
    """Build harnesses and close their clients after the test."""
    made: list[Harness] = []

    def build(upstream: Callable[[httpx.Request], Any]) -> Harness:
        made.append(Harness(upstream))
        return made[-1]

    yield build
    for harness in made:
        await harness.client.aclose()


def opts(**overrides: Any) -> CallOptions:
    """Call options against the mock with the test key."""
    values: dict[str, Any] = {"api_key": KEY, "base_url": BASE} | overrides
    return CallOptions(**values)


def request() -> GenerateContentRequest:
    """A one-turn request."""
    return GenerateContentRequest(contents=[Content(role="user", parts=[Part(text="Sort a list")])])


def err(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> httpx.Response:
    """A Gemini error reply."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return httpx.Response(code, json={"error": error})


def ok(content: bytes = REPLY) -> httpx.Response:
    """A 200 JSON reply."""
    return httpx.Response(200, content=content, headers={"content-type": "application/json"})


async def test_generate_sends_key_only_in_header(make: Any) -> None:
    """URL, headers and body are what the API expects; the key is only in x-goog-api-key."""
    upstream = Upstream(ok())
    h = make(upstream)
    response = await h.client.generate_content("gemini-2.5-flash", request(), opts())
    assert response.text().startswith("```python")
    (sent,) = upstream.requests
    assert sent.method == "POST"
    assert str(sent.url) == f"{BASE}/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == KEY
    assert sent.headers["content-type"] == "application/json"
    agent = f"gemini-chat/{__version__} gl-python/{sys.version_info.major}.{sys.version_info.minor}"
    assert sent.headers["user-agent"].startswith(agent)
    assert sent.headers["x-goog-api-client"] == sent.headers["user-agent"]
    assert KEY not in str(sent.url)
    assert KEY.encode() not in sent.content
    assert json.loads(sent.content) == {
        "contents": [{"role": "user", "parts": [{"text": "Sort a list"}]}]
    }


async def test_http_client_is_made_at_the_first_call_once(
    make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No httpx client exists until a call needs one (its TLS context costs ~16 ms and 3 MB of
    an idle daemon); two first calls at once share one client, made off the event loop; a
    client that never called closes without making one."""
    made: list[int] = []
    real = httpx.AsyncClient
    loop_thread = threading.get_ident()

    def counting(*args: Any, **kwargs: Any) -> httpx.AsyncClient:
        made.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(httpx, "AsyncClient", counting)
    idle = make(Upstream(ok()))
    await idle.client.aclose()
    upstream = Upstream(ok(), ok())
    h = make(upstream)
    assert made == []
    await asyncio.gather(
        h.client.generate_content("gemini-2.5-flash", request(), opts()),
        h.client.generate_content("gemini-2.5-flash", request(), opts()),
    )
    await h.client.generate_content("gemini-2.5-flash", request(), opts())
    assert len(made) == 1, made
    assert made[0] != loop_thread
    assert len(upstream.requests) == 3


@pytest.mark.parametrize(
    ("base", "model"),
    [
        (BASE + "/", "gemini-2.5-flash"),
        (BASE, "models/gemini-2.5-flash"),
        (BASE + "//", "gemini-2.5-flash"),
    ],
)
async def test_base_url_slash_and_models_prefix(make: Any, base: str, model: str) -> None:
    """A trailing slash and a models/ prefix give the same URL."""
    upstream = Upstream(ok())
    await make(upstream).client.generate_content(model, request(), opts(base_url=base))
    assert str(upstream.requests[0].url) == f"{BASE}/v1beta/models/gemini-2.5-flash:generateContent"


@pytest.mark.parametrize(
    "model", ["../x", "a/b", "models/../x", "x?alt=1", "x&y", "x#y", "a b", "", "x..y", "x\n"]
)
async def test_bad_model_ids_are_refused_before_io(make: Any, model: str) -> None:
    """A model id that could change the URL is a BadRequestError and nothing is sent."""
    upstream = Upstream(ok())
    with pytest.raises(BadRequestError, match="not a valid model id"):
        await make(upstream).client.generate_content(model, request(), opts())
    assert upstream.requests == []


@pytest.mark.parametrize("key", [None, ""])
async def test_missing_key_fails_before_io(make: Any, key: str | None) -> None:
    """No key: ApiKeyMissingError with the fix, and no request."""
    upstream = Upstream(ok())
    with pytest.raises(ApiKeyMissingError) as info:
        await make(upstream).client.generate_content(
            "gemini-2.5-flash", request(), opts(api_key=key)
        )
    assert str(info.value) == "No Gemini API key: set GEMINI_API_KEY or the gemini.apiKey setting"
    assert upstream.requests == []


async def test_bad_base_url_fails_before_io(make: Any) -> None:
    """A base URL without http(s) is refused, without showing its credentials."""
    upstream = Upstream(ok())
    with pytest.raises(BadRequestError, match="baseUrl") as info:
        await make(upstream).client.generate_content(
            "gemini-2.5-flash", request(), opts(base_url="localhost:8080")
        )
    assert upstream.requests == []
    assert info.value.reason == "badRequest"


async def test_503_503_200_retries_with_backoff(make: Any) -> None:
    """Two 503s are retried after 1 s and 2 s, telling the caller each time."""
    overloaded = err(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
    upstream = Upstream(overloaded, overloaded, ok())
    h = make(upstream)
    response = await h.client.generate_content(
        "gemini-2.5-flash", request(), opts(), on_retry=h.on_retry
    )
    assert response.finish_reason() == "STOP"
    assert len(upstream.requests) == 3
    assert h.sleeps == [1.0, 2.0]
    assert [n.attempt for n in h.notices] == [1, 2]
    assert h.notices[0].describe() == "Gemini answered 503: retrying in 1 s"
    assert h.notices[1].describe() == "Gemini answered 503: retrying in 2 s"
    assert isinstance(h.notices[0].error, UpstreamUnavailableError)


async def test_429_retry_delay_is_honoured(make: Any) -> None:
    """A 429 with retryDelay 26s waits exactly 26 s, then succeeds."""
    upstream = Upstream(rate_limited("26s"), ok())
    h = make(upstream)
    await h.client.generate_content("gemini-2.5-flash", request(), opts(), on_retry=h.on_retry)
    assert h.sleeps == [26.0]
    assert h.notices[0].describe() == "rate limited: retrying in 26 s"


async def test_429_published_body_is_retried(make: Any) -> None:
    """The published 429 body, verbatim, is honoured too."""
    body = (EXAMPLES / "error-429-resource-exhausted-retryinfo.json").read_bytes()
    upstream = Upstream(httpx.Response(429, content=body), ok())
    h = make(upstream)
    await h.client.generate_content("gemini-2.5-flash", request(), opts())
    assert h.sleeps == [26.0]


async def test_429_longer_than_cap_fails_at_once(make: Any) -> None:
    """retryDelay over maxRetryDelay raises RateLimitedError with retry_after, no waiting."""
    upstream = Upstream(rate_limited("90s"), ok())
    h = make(upstream)
    with pytest.raises(RateLimitedError) as info:
        await h.client.generate_content("gemini-2.5-flash", request(), opts(max_retry_delay=60))
    assert info.value.retry_after == 90.0
    assert info.value.to_data()["retryAfterSeconds"] == 90.0
    assert len(upstream.requests) == 1
    assert h.sleeps == []


async def test_retry_after_header_fills_a_missing_retry_info(make: Any) -> None:
    """A proxy's Retry-After header counts when the body has no RetryInfo."""
    limited = httpx.Response(429, text="slow down", headers={"retry-after": "7"})
    h = make(Upstream(limited, ok()))
    await h.client.generate_content("gemini-2.5-flash", request(), opts())
    assert h.sleeps == [7.0]


@pytest.mark.parametrize(
    ("reply", "error_type"),
    [
        (err(400, "INVALID_ARGUMENT", "contents is not specified"), BadRequestError),
        (err(401, "UNAUTHENTICATED", "no"), ApiKeyInvalidError),
        (err(403, "PERMISSION_DENIED", "no"), ApiKeyInvalidError),
        (err(404, "NOT_FOUND", "models/x is not found"), ModelNotFoundError),
        (
            httpx.Response(400, content=(EXAMPLES / "error-400-api-key-invalid.json").read_bytes()),
            ApiKeyInvalidError,
        ),
    ],
)
async def test_client_errors_are_not_retried(
    make: Any, reply: httpx.Response, error_type: type[GeminiError]
) -> None:
    """400/401/403/404 raise at once, after one request."""
    upstream = Upstream(reply, ok())
    h = make(upstream)
    with pytest.raises(error_type):
        await h.client.generate_content("gemini-2.5-flash", request(), opts())
    assert len(upstream.requests) == 1
    assert h.sleeps == []


async def test_404_names_the_model(make: Any) -> None:
    """modelNotFound says which model and where to pick one."""
    h = make(Upstream(err(404, "NOT_FOUND", "models/gemini-9 is not found")))
    with pytest.raises(ModelNotFoundError, match="Model gemini-9 was not found; pick one"):
        await h.client.generate_content("gemini-9", request(), opts())


async def test_max_retries_is_respected(make: Any) -> None:
    """With maxRetries 2, three attempts are made, then the last error is raised."""
    upstream = Upstream(err(500, "INTERNAL", "An internal error has occurred."))
    h = make(upstream)
    with pytest.raises(UpstreamUnavailableError, match="internal error"):
        await h.client.generate_content("gemini-2.5-flash", request(), opts(max_retries=2))
    assert len(upstream.requests) == 3
    assert h.sleeps == [1.0, 2.0]


async def test_backoff_is_capped(make: Any) -> None:
    """Waits never exceed maxRetryDelay."""
    h = make(Upstream(err(503, "UNAVAILABLE", "busy")))
    with pytest.raises(UpstreamUnavailableError):
        await h.client.generate_content(
            "gemini-2.5-flash", request(), opts(max_retries=4, max_retry_delay=3)
        )
    assert h.sleeps == [1.0, 2.0, 3.0, 3.0]


async def test_connection_error_is_retried(make: Any) -> None:
    """A refused connection is retried, then the reply is returned."""
    upstream = Upstream(httpx.ConnectError("Connection refused"), ok())
    h = make(upstream)
    await h.client.generate_content("gemini-2.5-flash", request(), opts(), on_retry=h.on_retry)
    assert len(upstream.requests) == 2
    assert h.notices[0].describe() == "connection failed: retrying in 1 s"


async def test_connection_error_names_the_host(make: Any) -> None:
    """When retries run out, NetworkError names the host and says what to check."""
    h = make(Upstream(httpx.ConnectError("Connection refused")))
    with pytest.raises(NetworkError) as info:
        await h.client.generate_content("gemini-2.5-flash", request(), opts(max_retries=1))
    assert "gemini.test" in info.value.message
    assert "baseUrl" in info.value.message
    assert info.value.reason == "network"


async def test_httpx_timeout_is_a_timeout_naming_request_timeout(make: Any) -> None:
    """An httpx read timeout is GeminiTimeoutError and is not retried."""
    upstream = Upstream(httpx.ReadTimeout("timed out"), ok())
    h = make(upstream)
    with pytest.raises(GeminiTimeoutError, match="requestTimeout"):
        await h.client.generate_content("gemini-2.5-flash", request(), opts())
    assert len(upstream.requests) == 1


async def test_whole_call_is_bounded_by_request_timeout(make: Any) -> None:
    """A reply that never comes ends with GeminiTimeoutError after requestTimeout."""
    never = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await never.wait()
        return ok()

    h = make(hang)
    with pytest.raises(GeminiTimeoutError, match="requestTimeout"):
        await h.client.generate_content("gemini-2.5-flash", request(), opts(timeout=0.05))


async def test_invalid_json_reply(make: Any) -> None:
    """A 200 that is not JSON is upstreamUnavailable with a plain message."""
    h = make(Upstream(ok(b"<html>oops")))
    with pytest.raises(UpstreamUnavailableError) as info:
        await h.client.generate_content("gemini-2.5-flash", request(), opts(max_retries=0))
    assert info.value.message == "Gemini sent a reply that is not valid JSON"


async def test_blocked_prompt_raises_blocked(make: Any) -> None:
    """A 200 whose prompt was blocked raises BlockedError with the block reason."""
    body = (EXAMPLES / "prompt-blocked-prohibited-content-sse-chunk.json").read_bytes()
    upstream = Upstream(ok(body))
    h = make(upstream)
    with pytest.raises(BlockedError) as info:
        await h.client.generate_content("gemini-2.5-flash", request(), opts())
    assert info.value.block_reason == "PROHIBITED_CONTENT"
    assert info.value.to_data() == {"reason": "blocked", "blockReason": "PROHIBITED_CONTENT"}
    assert len(upstream.requests) == 1


@pytest.mark.parametrize(
    "reply",
    [
        err(400, "INVALID_ARGUMENT", f"API key {KEY} not valid"),
        err(403, "PERMISSION_DENIED", f"key={KEY} denied"),
        err(404, "NOT_FOUND", f"models/x?key={KEY} not found"),
        err(500, "INTERNAL", f"crashed on {KEY}"),
        httpx.Response(502, text=f"<h1>proxy error for {KEY}</h1>"),
        httpx.ConnectError(f"proxy refused {KEY}"),
    ],
)
async def test_key_never_in_an_error_message(make: Any, reply: Reply) -> None:
    """Even when upstream echoes the key, no error message or notice contains it."""
    h = make(Upstream(reply))
    with pytest.raises(GeminiError) as info:
        await h.client.generate_content(
            "gemini-2.5-flash", request(), opts(max_retries=1), on_retry=h.on_retry
        )
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)
    assert all(KEY not in n.describe() and KEY not in str(n.error) for n in h.notices)


def test_call_options_repr_hides_the_key() -> None:
    """Logging CallOptions cannot leak the key."""
    assert KEY not in repr(opts())


async def test_count_tokens(make: Any) -> None:
    """countTokens posts just the contents and returns totalTokens."""
    upstream = Upstream(httpx.Response(200, json={"totalTokens": 31, "promptTokensDetails": []}))
    h = make(upstream)
    contents = [Content(role="user", parts=[Part(text="hello")])]
    assert await h.client.count_tokens("gemini-2.5-flash", contents, opts()) == 31
    (sent,) = upstream.requests
    assert str(sent.url) == f"{BASE}/v1beta/models/gemini-2.5-flash:countTokens"
    assert json.loads(sent.content) == {
        "contents": [{"role": "user", "parts": [{"text": "hello"}]}]
    }
    assert sent.headers["x-goog-api-key"] == KEY


async def test_list_models_reads_every_page(make: Any) -> None:
    """models.list is followed through nextPageToken; models from all pages are returned."""
    models = json.loads(MODELS_JSON.read_text())["models"]
    pages = [
        httpx.Response(200, json={"models": models[:20], "nextPageToken": "tok/1+="}),
        httpx.Response(200, json={"models": models[20:40], "nextPageToken": "tok2"}),
        httpx.Response(200, json={"models": models[40:]}),
    ]
    upstream = Upstream(*pages)
    listed = await make(upstream).client.list_models(opts())
    assert [m.name for m in listed] == [m["name"] for m in models]
    assert [r.url.params.get("pageToken") for r in upstream.requests] == [None, "tok/1+=", "tok2"]
    assert all(r.url.path == "/v1beta/models" for r in upstream.requests)
    assert all("key" not in r.url.params for r in upstream.requests)


async def test_list_models_stops_on_a_repeated_token(make: Any) -> None:
    """A server that repeats its page token cannot make the client loop forever."""
    page = httpx.Response(200, json={"models": [{"name": "models/a"}], "nextPageToken": "same"})
    upstream = Upstream(page)
    listed = await make(upstream).client.list_models(opts())
    assert len(upstream.requests) == 2
    assert [m.id for m in listed] == ["a", "a"]


async def test_get_model(make: Any) -> None:
    """models.get reads one model by id."""
    model = json.loads(MODELS_JSON.read_text())["models"][0]
    upstream = Upstream(httpx.Response(200, json=model))
    got = await make(upstream).client.get_model("gemini-2.5-flash", opts())
    assert got.name == model["name"]
    assert str(upstream.requests[0].url) == f"{BASE}/v1beta/models/gemini-2.5-flash"
    assert upstream.requests[0].method == "GET"


async def test_get_unknown_model(make: Any) -> None:
    """models.get of an unknown model is ModelNotFoundError."""
    h = make(Upstream(err(404, "NOT_FOUND", "not found")))
    with pytest.raises(ModelNotFoundError):
        await h.client.get_model("gemini-0", opts())


class ClosableTransport(httpx.MockTransport):
    """A MockTransport that records being closed (closing the pool closes its transport)."""

    closed = False

    async def aclose(self) -> None:
        """Record the close."""
        self.closed = True


async def test_client_is_an_async_context_manager() -> None:
    """``async with GeminiClient()`` closes its connection pool on leaving, and not before."""
    transport = ClosableTransport(Upstream(ok()))
    async with GeminiClient(transport=transport) as client:
        await client.generate_content("gemini-2.5-flash", request(), opts())
        assert not transport.closed
    assert transport.closed


async def test_unreadable_reply_is_retried_and_described(make: Any) -> None:
    """A 200 that is not JSON is retried like a 5xx, with its own status line."""
    h = make(Upstream(ok(b"{truncated"), ok()))
    await h.client.generate_content("gemini-2.5-flash", request(), opts(), on_retry=h.on_retry)
    assert [n.describe() for n in h.notices] == ["Gemini's reply was unusable: retrying in 1 s"]


async def test_a_spliced_body_goes_in_few_writes_of_known_length() -> None:
    """A Spliced body (the daemon's joined history and the new turn) is given to httpx as one
    write when it fits SEND_AT_ONCE, else as writes of at most SEND_AT_ONCE (a piece larger
    than that alone); the bytes are the pieces in order and content-length is their total."""
    small = Spliced((b'{"contents":[', bytearray(b'{"role":"user"}'), b"]}"))
    stream, headers = sendable(small, {"content-type": "application/json"})
    assert [chunk async for chunk in stream] == [b'{"contents":[{"role":"user"}]}']  # type: ignore[union-attr]
    assert headers == {"content-type": "application/json", "content-length": "30"}
    half, big = b"a" * (SEND_AT_ONCE // 2), b"b" * (SEND_AT_ONCE + 1)
    large = Spliced((half, half, b"c", big, b"d"))
    stream, headers = sendable(large, {})
    writes = [chunk async for chunk in stream]  # type: ignore[union-attr]
    assert writes == [half + half, b"c", big, b"d"]
    assert headers["content-length"] == str(len(b"".join(writes)))
