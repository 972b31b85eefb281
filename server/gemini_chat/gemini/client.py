"""GeminiClient: the one place that talks HTTP to the Gemini API (generate, stream, tokens, models).

The API key travels only in the ``x-goog-api-key`` header. Retries (retry.py) happen here and
nowhere else, and for a stream only before its first chunk reached the caller.
"""

from __future__ import annotations

import asyncio
import json
import math
import platform
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self, TypeVar
from urllib.parse import urlsplit

import httpx

from gemini_chat import __version__
from gemini_chat.gemini.errors import (
    ApiKeyMissingError,
    BadRequestError,
    GeminiError,
    GeminiTimeoutError,
    NetworkError,
    RateLimitedError,
    blocked_error,
    error_from_response,
    idle_timeout_error,
    parse_duration,
    request_timeout_error,
)
from gemini_chat.gemini.retry import retry_delay
from gemini_chat.gemini.sse import StreamProgress, iter_event_data, parse_body, parse_chunk
from gemini_chat.gemini.wire import (
    Content,
    CountTokensRequest,
    CountTokensResponse,
    GenerateContentRequest,
    GenerateContentResponse,
    ListModelsResponse,
    Model,
    dump,
)
from gemini_chat.gemini.wire import model_id as wire_model_id

_API = "v1beta"
_PAGE_SIZE = 1000
_MAX_PAGES = 100
_NO_KEY = "No Gemini API key: set GEMINI_API_KEY or the gemini.apiKey setting"
_T = TypeVar("_T")


@dataclass(frozen=True)
class CallOptions:
    """Per-call settings: where to go, with which key, and how long and how often to try."""

    api_key: str | None = field(repr=False)
    base_url: str
    timeout: float = 300.0
    max_retries: int = 4
    max_retry_delay: float = 60.0
    connect_timeout: float = 10.0
    stream_idle_timeout: float = 120.0


@dataclass(frozen=True)
class RetryNotice:
    """Told to the caller before waiting to retry: ``attempt`` is the retry's number, from 1."""

    attempt: int
    delay: float
    error: GeminiError

    def describe(self) -> str:
        """A short status line, e.g. ``rate limited: retrying in 12 s``."""
        seconds = max(1, math.ceil(self.delay - 1e-9))
        if isinstance(self.error, RateLimitedError):
            what = "rate limited"
        elif self.error.http_status is not None:
            what = f"Gemini answered {self.error.http_status}"
        elif isinstance(self.error, NetworkError):
            what = "connection failed"
        else:
            what = "Gemini's reply was unusable"
        return f"{what}: retrying in {seconds} s"


RequestBody = Mapping[str, object] | bytes
"""A request already in wire JSON, as a mapping or encoded (the daemon splices stored history)."""
RetryCallback = Callable[[RetryNotice], Awaitable[None]]


class GeminiClient:
    """An async Gemini API client over one reused ``httpx.AsyncClient``."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        # Keep a connection per concurrent turn alive (httpx keeps 20): a TLS handshake each
        # otherwise when many workspaces talk at once.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
        self._http = httpx.AsyncClient(transport=transport, follow_redirects=False, limits=limits)
        self._sleep = sleep
        self._rng = rng
        agent = f"gemini-chat/{__version__} gl-python/{platform.python_version()}"
        self._agent = agent

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # --- public calls ------------------------------------------------------------------------

    async def generate_content(
        self,
        model: str,
        request: GenerateContentRequest | RequestBody,
        opts: CallOptions,
        on_retry: RetryCallback | None = None,
    ) -> GenerateContentResponse:
        """One whole reply; raises BlockedError for a blocked prompt or a blocked, empty reply."""
        model_id = _model_id(model)
        url = self._url(opts, f"models/{model_id}:generateContent")
        body = request_body(request)

        async def once() -> GenerateContentResponse:
            raw = await self._call(opts, "POST", url, body, model_id)
            return parse_body(GenerateContentResponse, raw)

        response = await self._with_retries(once, opts, on_retry)
        blocked = blocked_error(response)
        if blocked is not None:
            raise blocked
        return response

    def stream_generate_content(
        self,
        model: str,
        request: GenerateContentRequest | RequestBody,
        opts: CallOptions,
        on_retry: RetryCallback | None = None,
    ) -> AsyncGenerator[GenerateContentResponse, None]:
        """Yield each chunk of a streamed reply the moment it arrives.

        Close the iterator (``aclose()``, ``contextlib.aclosing``) or cancel the consuming task
        to close the upstream response at once. Raises NetworkError if the stream ends before a
        chunk carried a finishReason.
        """
        return self._stream(model, request, opts, on_retry)

    async def count_tokens(
        self, model: str, request: list[Content] | Mapping[str, object], opts: CallOptions
    ) -> int:
        """The number of tokens of ``request`` for ``model``: bare contents, or a whole
        GenerateContentRequest in wire JSON (system instruction and tools counted too)."""
        model_id = _model_id(model)
        url = self._url(opts, f"models/{model_id}:countTokens")
        if isinstance(request, list):
            body: Mapping[str, object] = dump(CountTokensRequest(contents=request))
        else:
            body = {"generateContentRequest": request}

        async def once() -> CountTokensResponse:
            return parse_body(
                CountTokensResponse, await self._call(opts, "POST", url, body, model_id)
            )

        return (await self._with_retries(once, opts, None)).total_tokens

    async def list_models(self, opts: CallOptions) -> list[Model]:
        """Every model the key can see, across all pages."""
        url = self._url(opts, "models")
        models: list[Model] = []
        token: str | None = None
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            params = {"pageSize": str(_PAGE_SIZE)} | ({"pageToken": token} if token else {})

            async def once(params: dict[str, str] = params) -> ListModelsResponse:
                raw = await self._call(opts, "GET", url, None, None, params=params)
                return parse_body(ListModelsResponse, raw)

            page = await self._with_retries(once, opts, None)
            models.extend(page.models)
            token = page.next_page_token
            # A repeated token would loop forever; treat it as the end.
            if not token or token in seen:
                break
            seen.add(token)
        return models

    async def get_model(self, model: str, opts: CallOptions) -> Model:
        """One model's description; ModelNotFoundError when there is no such model."""
        model_id = _model_id(model)
        url = self._url(opts, f"models/{model_id}")

        async def once() -> Model:
            return parse_body(Model, await self._call(opts, "GET", url, None, model_id))

        return await self._with_retries(once, opts, None)

    # --- plumbing ----------------------------------------------------------------------------

    def _url(self, opts: CallOptions, path: str) -> str:
        """``{base_url}/v1beta/{path}``; checks the key and the base URL before any I/O."""
        if not opts.api_key:
            raise ApiKeyMissingError(_NO_KEY)
        base = opts.base_url.strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadRequestError(
                "The gemini.baseUrl setting must be an http:// or https:// URL "
                f"(it is {_shown_url(base)!r})."
            )
        return f"{base}/{_API}/{path}"

    def _headers(self, opts: CallOptions, *, json_body: bool) -> dict[str, str]:
        """Auth and identification headers; the key goes here and nowhere else."""
        headers = {
            "x-goog-api-key": opts.api_key or "",
            "user-agent": self._agent,
            "x-goog-api-client": self._agent,
        }
        if json_body:
            headers["content-type"] = "application/json"
        return headers

    def _timeouts(self, opts: CallOptions, *, read: float) -> httpx.Timeout:
        return httpx.Timeout(
            connect=opts.connect_timeout, read=read, write=opts.timeout, pool=opts.connect_timeout
        )

    async def _call(
        self,
        opts: CallOptions,
        method: str,
        url: str,
        body: RequestBody | None,
        model: str | None,
        *,
        params: dict[str, str] | None = None,
    ) -> bytes:
        """One request and its whole body, within ``opts.timeout``; non-200 raises."""
        content = encode_body(body) if body is not None else None
        try:
            async with asyncio.timeout(opts.timeout):
                response = await self._http.request(
                    method,
                    url,
                    params=params,
                    content=content,
                    headers=self._headers(opts, json_body=content is not None),
                    timeout=self._timeouts(opts, read=opts.timeout),
                )
        except TimeoutError:
            raise request_timeout_error(opts.timeout) from None
        except httpx.HTTPError as exc:
            raise _transport_error(exc, opts) from None
        if response.status_code != 200:
            raise _status_error(response, response.content, model)
        return response.content

    async def _with_retries(
        self, call: Callable[[], Awaitable[_T]], opts: CallOptions, on_retry: RetryCallback | None
    ) -> _T:
        """Run ``call`` until it succeeds or retry.py says stop; the key is scrubbed from errors."""
        attempt = 0
        while True:
            try:
                return await call()
            except GeminiError as error:
                error.redact_secret(opts.api_key)
                delay = self._delay(error, attempt, opts)
                if delay is None:
                    raise
                attempt += 1
                await self._pause(RetryNotice(attempt, delay, error), on_retry)

    def _delay(self, error: GeminiError, attempt: int, opts: CallOptions) -> float | None:
        return retry_delay(
            error,
            attempt,
            max_retries=opts.max_retries,
            max_retry_delay=opts.max_retry_delay,
            rng=self._rng,
        )

    async def _pause(self, notice: RetryNotice, on_retry: RetryCallback | None) -> None:
        """Tell the caller, then wait before the next attempt."""
        if on_retry is not None:
            await on_retry(notice)
        await self._sleep(notice.delay)

    # --- streaming ---------------------------------------------------------------------------

    async def _stream(
        self,
        model: str,
        request: GenerateContentRequest | RequestBody,
        opts: CallOptions,
        on_retry: RetryCallback | None,
    ) -> AsyncGenerator[GenerateContentResponse, None]:
        """The retry loop around stream attempts; never retries once a chunk was yielded."""
        model_id = _model_id(model)
        url = self._url(opts, f"models/{model_id}:streamGenerateContent")
        content = encode_body(request)
        attempt = 0
        while True:
            progress = StreamProgress()
            try:
                attempt_chunks = self._stream_once(url, content, model_id, opts, progress)
                async with aclosing(attempt_chunks) as chunks:
                    async for chunk in chunks:
                        progress.yielded = True
                        yield chunk
                return
            except GeminiError as error:
                error.redact_secret(opts.api_key)
                retryable = not (progress.yielded or progress.final)
                delay = self._delay(error, attempt, opts) if retryable else None
                if delay is None:
                    raise
                attempt += 1
                await self._pause(RetryNotice(attempt, delay, error), on_retry)

    async def _stream_once(
        self, url: str, content: bytes, model: str, opts: CallOptions, progress: StreamProgress
    ) -> AsyncGenerator[GenerateContentResponse, None]:
        """One streamed request: open it, then parse and check each event."""
        deadline = asyncio.get_running_loop().time() + opts.timeout
        response = await self._open_stream(url, content, opts, deadline)
        try:
            if response.status_code != 200:
                raw = await self._read_error_body(response, opts, deadline)
                raise _status_error(response, raw, model)
            chunks = self._chunks(response, model, opts, deadline, progress)
            async with aclosing(chunks):
                async for chunk in chunks:
                    yield chunk
        finally:
            await response.aclose()
        if not progress.finished:
            raise NetworkError(
                "The reply stream ended before Gemini finished; nothing was saved. Try again."
            )

    async def _open_stream(
        self, url: str, content: bytes, opts: CallOptions, deadline: float
    ) -> httpx.Response:
        """Send the request and wait for the status line and headers."""
        request = self._http.build_request(
            "POST",
            url,
            params={"alt": "sse"},
            content=content,
            headers=self._headers(opts, json_body=True) | {"accept": "text/event-stream"},
            timeout=self._timeouts(opts, read=min(opts.stream_idle_timeout, opts.timeout)),
        )
        try:
            async with asyncio.timeout_at(deadline):
                return await self._http.send(request, stream=True)
        except TimeoutError:
            raise request_timeout_error(opts.timeout) from None
        except httpx.HTTPError as exc:
            raise _transport_error(exc, opts) from None

    async def _read_error_body(
        self, response: httpx.Response, opts: CallOptions, deadline: float
    ) -> bytes:
        """The body of a non-200 reply to a stream request (an ordinary JSON error body)."""
        try:
            async with asyncio.timeout_at(deadline):
                return await response.aread()
        except TimeoutError:
            raise request_timeout_error(opts.timeout) from None
        except httpx.HTTPError as exc:
            raise _transport_error(exc, opts) from None

    async def _chunks(
        self,
        response: httpx.Response,
        model: str,
        opts: CallOptions,
        deadline: float,
        progress: StreamProgress,
    ) -> AsyncGenerator[GenerateContentResponse, None]:
        """Parsed chunks; a mid-stream error event or a block raises and is never retried."""
        events = iter_event_data(
            response,
            idle_timeout=opts.stream_idle_timeout,
            deadline=deadline,
            request_timeout=opts.timeout,
        )
        async with aclosing(events):
            try:
                async for data in events:
                    chunk = parse_chunk(data, model, progress)
                    yield chunk
            except httpx.TimeoutException:
                raise idle_timeout_error(opts.stream_idle_timeout) from None
            except httpx.HTTPError as exc:
                raise NetworkError(
                    f"The connection to {_host(opts)} broke while Gemini was replying ({exc}); "
                    "nothing was saved. Try again."
                ) from None


# --- helpers ---------------------------------------------------------------------------------


def _model_id(model: str) -> str:
    """The bare model id; ids that could change the URL's meaning are refused."""
    try:
        return wire_model_id(model)
    except ValueError:
        raise BadRequestError(
            f"{model!r} is not a valid model id; use one such as gemini-2.5-flash "
            "(see gemini/models)."
        ) from None


def _status_error(response: httpx.Response, body: bytes, model: str | None) -> GeminiError:
    """The GeminiError of a non-200 reply; a Retry-After header fills in a missing delay."""
    error = error_from_response(response.status_code, body, model=model)
    if isinstance(error, RateLimitedError) and error.retry_after is None:
        header = response.headers.get("retry-after", "")
        error.retry_after = parse_duration(f"{header}s") if header else None
    error.request_id = response.headers.get("x-request-id")
    return error


def _host(opts: CallOptions) -> str:
    return urlsplit(opts.base_url.strip()).hostname or opts.base_url


def _shown_url(url: str) -> str:
    """A URL without credentials or query, safe to show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else url.split("?")[0]


def _transport_error(exc: httpx.HTTPError, opts: CallOptions) -> GeminiError:
    """Map an httpx failure: timeouts to GeminiTimeoutError, the rest to NetworkError."""
    host = _host(opts)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return GeminiTimeoutError(
            f"Could not connect to {host} within {opts.connect_timeout:g} s. Check the network "
            "connection and the gemini.baseUrl setting (requestTimeout bounds the whole call)."
        )
    if isinstance(exc, httpx.TimeoutException):
        return request_timeout_error(opts.timeout)
    detail = str(exc) or type(exc).__name__
    return NetworkError(
        f"Could not talk to Gemini at {host} ({detail}). Check the network connection and the "
        "gemini.baseUrl setting."
    )


def request_body(request: GenerateContentRequest | RequestBody) -> RequestBody:
    """The wire JSON of a request; a mapping is taken as already in wire form (trusted history)."""
    return dump(request) if isinstance(request, GenerateContentRequest) else request


def encode_body(request: GenerateContentRequest | RequestBody) -> bytes:
    """The request as the bytes sent; already-encoded bodies pass through untouched."""
    body = request_body(request)
    return body if isinstance(body, bytes) else json.dumps(body).encode()
