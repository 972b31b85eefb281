"""The HTTP plumbing every Gemini call shares: options, URLs, headers, one request, retries.

GeminiClient (client.py) and the media calls (files.py, imagen.py) sit on one ``ApiCore``. The
API key travels only in the ``x-goog-api-key`` header. Retries happen here and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
import math
import platform
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
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
    error_from_response,
    parse_duration,
    request_timeout_error,
)
from gemini_chat.gemini.retry import retry_delay
from gemini_chat.gemini.wire import GenerateContentRequest, dump
from gemini_chat.gemini.wire import model_id as wire_model_id

API_VERSION = "v1beta"
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

    @property
    def seconds(self) -> int:
        """The wait in whole seconds, as shown (at least 1)."""
        return max(1, math.ceil(self.delay - 1e-9))

    def describe(self, seconds: int | None = None) -> str:
        """A short status line, e.g. ``rate limited: retrying in 12 s`` (with `seconds` left:
        a count-down's later line)."""
        if isinstance(self.error, RateLimitedError):
            what = "rate limited"
        elif self.error.http_status is not None:
            what = f"Gemini answered {self.error.http_status}"
        elif isinstance(self.error, NetworkError):
            what = "connection failed"
        else:
            what = "Gemini's reply was unusable"
        return f"{what}: retrying in {self.seconds if seconds is None else seconds} s"


class Spliced(tuple[bytes | bytearray, ...]):
    """One request body in pieces, sent one after another without joining them (the daemon's
    long history is one piece: joining would copy it for every turn)."""

    def size(self) -> int:
        """The body's length in bytes."""
        return sum(len(piece) for piece in self)


SEND_AT_ONCE = 1 << 20
"""Bytes of a spliced body joined into one socket write."""
RequestBody = Mapping[str, object] | bytes | Spliced
"""A request already in wire JSON, as a mapping or encoded (the daemon splices stored history)."""
RetryCallback = Callable[[RetryNotice], Awaitable[None]]


class ApiCore:
    """One reused ``httpx.AsyncClient`` and the rules for talking to the API through it."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None,
        sleep: Callable[[float], Awaitable[None]],
        rng: Callable[[], float],
        on_error: Callable[[GeminiError], None] | None = None,
    ) -> None:
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._making = asyncio.Lock()
        self.sleep = sleep
        self.rng = rng
        self.on_error = on_error
        self.agent = f"gemini-chat/{__version__} gl-python/{platform.python_version()}"

    async def http(self) -> httpx.AsyncClient:
        """The one reused client, made at the first call that needs it, on a thread: its TLS
        context reads the CA bundle (about 16 ms and 3 MB), which a daemon that is never asked
        to talk to Gemini does not pay, and the event loop never waits for."""
        if self._http is None:
            async with self._making:
                if self._http is None:
                    self._http = await asyncio.to_thread(self._new_client)
        return self._http

    def _new_client(self) -> httpx.AsyncClient:
        # Keep a connection per concurrent turn alive (httpx keeps 20): a TLS handshake each
        # otherwise when many workspaces talk at once.
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
        return httpx.AsyncClient(transport=self._transport, follow_redirects=False, limits=limits)

    async def aclose(self) -> None:
        """Close the connection pool (nothing to close when no call was made)."""
        if self._http is not None:
            await self._http.aclose()

    def url(self, opts: CallOptions, path: str, *, prefix: str = "") -> str:
        """``{base_url}{prefix}/v1beta/{path}``; checks the key and the base URL before any I/O."""
        if not opts.api_key:
            raise ApiKeyMissingError(_NO_KEY)
        base = opts.base_url.strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadRequestError(
                "The gemini.baseUrl setting must be an http:// or https:// URL "
                f"(it is {shown_url(base)!r})."
            )
        return f"{base}{prefix}/{API_VERSION}/{path}"

    def headers(self, opts: CallOptions | None, *, json_body: bool) -> dict[str, str]:
        """Identification headers, plus the key when ``opts`` is given: here and nowhere else."""
        headers = {"user-agent": self.agent, "x-goog-api-client": self.agent}
        if opts is not None:
            headers["x-goog-api-key"] = opts.api_key or ""
        if json_body:
            headers["content-type"] = "application/json"
        return headers

    def timeouts(self, opts: CallOptions, *, read: float) -> httpx.Timeout:
        """httpx's per-phase limits for one call."""
        return httpx.Timeout(
            connect=opts.connect_timeout, read=read, write=opts.timeout, pool=opts.connect_timeout
        )

    async def request(
        self,
        opts: CallOptions,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        content: bytes | Spliced | AsyncIterable[bytes] | None = None,
        params: Mapping[str, str] | None = None,
        model: str | None = None,
    ) -> httpx.Response:
        """One request, read whole within ``opts.timeout``; a non-200 answer raises."""
        content, headers = sendable(content, headers)
        try:
            async with asyncio.timeout(opts.timeout):
                http = await self.http()
                response = await http.request(
                    method,
                    url,
                    params=params,
                    content=content,
                    headers=headers,
                    timeout=self.timeouts(opts, read=opts.timeout),
                )
        except TimeoutError:
            raise request_timeout_error(opts.timeout) from None
        except httpx.HTTPError as exc:
            raise transport_error(exc, opts) from None
        if response.status_code != 200:
            raise status_error(response, response.content, model)
        return response

    async def call(
        self,
        opts: CallOptions,
        method: str,
        url: str,
        body: RequestBody | None,
        model: str | None,
        *,
        params: dict[str, str] | None = None,
    ) -> bytes:
        """One keyed JSON request and its whole body, within ``opts.timeout``; non-200 raises."""
        content = encode_body(body) if body is not None else None
        headers = self.headers(opts, json_body=content is not None)
        response = await self.request(
            opts, method, url, headers=headers, content=content, params=params, model=model
        )
        return response.content

    async def with_retries(
        self, call: Callable[[], Awaitable[_T]], opts: CallOptions, on_retry: RetryCallback | None
    ) -> _T:
        """Run ``call`` until it succeeds or retry.py says stop; the key is scrubbed from errors."""
        attempt = 0
        while True:
            try:
                return await call()
            except GeminiError as error:
                attempt = await self.backoff(error, attempt, opts, on_retry)

    async def backoff(
        self,
        error: GeminiError,
        attempt: int,
        opts: CallOptions,
        on_retry: RetryCallback | None,
        *,
        retryable: bool = True,
    ) -> int:
        """After failed attempt ``attempt`` (0 for the first): scrub the key from ``error``,
        then wait retry.py's delay (``on_retry`` told first) and return the next attempt's
        number; raise ``error`` when retry.py says stop or it is not ``retryable``.

        Every failed attempt of every call comes here, so ``on_error`` hears of each, retried
        or not (the daemon keeps the newest 429 for gemini/status, a stream's too).
        """
        error.redact_secret(opts.api_key)
        if self.on_error is not None:
            self.on_error(error)
        delay = self.delay(error, attempt, opts) if retryable else None
        if delay is None:
            raise error
        await self.pause(RetryNotice(attempt + 1, delay, error), on_retry)
        return attempt + 1

    def delay(self, error: GeminiError, attempt: int, opts: CallOptions) -> float | None:
        """retry.py's wait before retry ``attempt + 1``, or None to give up."""
        return retry_delay(
            error,
            attempt,
            max_retries=opts.max_retries,
            max_retry_delay=opts.max_retry_delay,
            rng=self.rng,
        )

    async def pause(self, notice: RetryNotice, on_retry: RetryCallback | None) -> None:
        """Tell the caller, then wait before the next attempt."""
        if on_retry is not None:
            await on_retry(notice)
        await self.sleep(notice.delay)


# --- helpers ---------------------------------------------------------------------------------


def model_id(model: str) -> str:
    """The bare model id; ids that could change the URL's meaning are refused."""
    try:
        return wire_model_id(model)
    except ValueError:
        raise BadRequestError(
            f"{model!r} is not a valid model id; use one such as gemini-2.5-flash "
            "(see gemini/models)."
        ) from None


def status_error(response: httpx.Response, body: bytes, model: str | None) -> GeminiError:
    """The GeminiError of a non-200 reply; a Retry-After header fills in a missing delay."""
    error = error_from_response(response.status_code, body, model=model)
    if isinstance(error, RateLimitedError) and error.retry_after is None:
        header = response.headers.get("retry-after", "")
        error.retry_after = parse_duration(f"{header}s") if header else None
    error.request_id = response.headers.get("x-request-id")
    return error


def host(opts: CallOptions) -> str:
    """The host of the base URL, for messages."""
    return urlsplit(opts.base_url.strip()).hostname or opts.base_url


def shown_url(url: str) -> str:
    """A URL without credentials or query, safe to show."""
    parts = urlsplit(url)
    name = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{name}{port}{parts.path}" if parts.scheme else url.split("?")[0]


def transport_error(exc: httpx.HTTPError, opts: CallOptions) -> GeminiError:
    """Map an httpx failure: timeouts to GeminiTimeoutError, the rest to NetworkError."""
    where = host(opts)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return GeminiTimeoutError(
            f"Could not connect to {where} within {opts.connect_timeout:g} s. Check the network "
            "connection and the gemini.baseUrl setting (requestTimeout bounds the whole call)."
        )
    if isinstance(exc, httpx.TimeoutException):
        return request_timeout_error(opts.timeout)
    detail = str(exc) or type(exc).__name__
    return NetworkError(
        f"Could not talk to Gemini at {where} ({detail}). Check the network connection and the "
        "gemini.baseUrl setting."
    )


def request_body(request: GenerateContentRequest | RequestBody) -> RequestBody:
    """The wire JSON of a request; a mapping is taken as already in wire form (trusted history)."""
    return dump(request) if isinstance(request, GenerateContentRequest) else request


def encode_body(request: GenerateContentRequest | RequestBody) -> bytes | Spliced:
    """The request as the bytes sent; already-encoded bodies pass through untouched."""
    body = request_body(request)
    return body if isinstance(body, bytes | Spliced) else json.dumps(body).encode()


def sendable(
    content: bytes | Spliced | AsyncIterable[bytes] | None, headers: Mapping[str, str]
) -> tuple[bytes | AsyncIterable[bytes] | None, Mapping[str, str]]:
    """What httpx takes for one attempt: pieces become a fresh stream of known length, joined
    into writes of up to SEND_AT_ONCE bytes (one write of a small body, not one per piece: a
    write to the socket costs more than copying a few hundred kB)."""
    if not isinstance(content, Spliced):
        return content, headers

    async def pieces() -> AsyncIterator[bytes]:
        batch: list[bytes | bytearray] = []
        size = 0
        for piece in content:
            if batch and size + len(piece) > SEND_AT_ONCE:
                yield b"".join(batch)
                batch, size = [], 0
            batch.append(piece)
            size += len(piece)
        if batch:
            yield b"".join(batch)

    return pieces(), {**headers, "content-length": str(content.size())}
