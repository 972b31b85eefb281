"""GeminiClient: the one place that talks HTTP to the Gemini API.

Generate (whole or streamed), count tokens, models, and the media calls: uploads through the
Files API (files.py) and Imagen (imagen.py). The plumbing they share (options, headers,
retries) is api.py's ``ApiCore``; the API key travels only in the ``x-goog-api-key`` header.
Retries happen there and nowhere else, and for a stream only before its first chunk reached
the caller.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from gemini_chat.gemini.api import (
    ApiCore,
    CallOptions,
    RequestBody,
    RetryCallback,
    RetryNotice,
    Spliced,
    encode_body,
    host,
    request_body,
    sendable,
    status_error,
    transport_error,
)
from gemini_chat.gemini.api import model_id as _model_id
from gemini_chat.gemini.errors import (
    GeminiError,
    NetworkError,
    blocked_error,
    idle_timeout_error,
    request_timeout_error,
)
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

if TYPE_CHECKING:  # the Files API and Imagen load on first use (a daemon may never need them)
    from gemini_chat.gemini.files import ProgressCallback
    from gemini_chat.gemini.imagen import GeneratedImages
    from gemini_chat.gemini.media_wire import File

__all__ = [
    "CallOptions",
    "GeminiClient",
    "RequestBody",
    "RetryCallback",
    "RetryNotice",
    "encode_body",
    "request_body",
]

_PAGE_SIZE = 1000
_MAX_PAGES = 100


class GeminiClient:
    """An async Gemini API client over one reused ``httpx.AsyncClient``."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        on_error: Callable[[GeminiError], None] | None = None,
    ) -> None:
        """``on_error`` hears of every failed attempt of every call (retried ones too)."""
        self._api = ApiCore(transport, sleep, rng, on_error)

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
        await self._api.aclose()

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
        url = self._api.url(opts, f"models/{model_id}:generateContent")
        body = request_body(request)

        async def once() -> GenerateContentResponse:
            raw = await self._api.call(opts, "POST", url, body, model_id)
            return parse_body(GenerateContentResponse, raw)

        response = await self._api.with_retries(once, opts, on_retry)
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
        url = self._api.url(opts, f"models/{model_id}:countTokens")
        if isinstance(request, list):
            body: Mapping[str, object] = dump(CountTokensRequest(contents=request))
        else:
            body = {"generateContentRequest": request}

        async def once() -> CountTokensResponse:
            return parse_body(
                CountTokensResponse, await self._api.call(opts, "POST", url, body, model_id)
            )

        return (await self._api.with_retries(once, opts, None)).total_tokens

    async def list_models(self, opts: CallOptions) -> list[Model]:
        """Every model the key can see, across all pages."""
        url = self._api.url(opts, "models")
        models: list[Model] = []
        token: str | None = None
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            params = {"pageSize": str(_PAGE_SIZE)} | ({"pageToken": token} if token else {})

            async def once(params: dict[str, str] = params) -> ListModelsResponse:
                raw = await self._api.call(opts, "GET", url, None, None, params=params)
                return parse_body(ListModelsResponse, raw)

            page = await self._api.with_retries(once, opts, None)
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
        url = self._api.url(opts, f"models/{model_id}")

        async def once() -> Model:
            return parse_body(Model, await self._api.call(opts, "GET", url, None, model_id))

        return await self._api.with_retries(once, opts, None)

    # --- media --------------------------------------------------------------------------------

    async def upload_file(
        self,
        source: Path | bytes,
        mime_type: str,
        display_name: str | None,
        opts: CallOptions,
        on_progress: ProgressCallback | None = None,
        *,
        on_retry: RetryCallback | None = None,
        chunk_size: int | None = None,
        poll_interval: float = 1.0,
        processing_timeout: float = 600.0,
    ) -> File:
        """Upload through the Files API and return the File once it is ``ACTIVE``.

        A path is streamed a chunk at a time (never read whole). ``on_progress`` hears the
        bytes acknowledged after each chunk, then ``processing`` before each poll of
        ``files.get`` (every ``poll_interval`` s, for at most ``processing_timeout`` s, then
        GeminiTimeoutError). Start and chunks are retried like any call (a failed chunk resumes
        where the server says it stopped). A FAILED file raises BadRequestError. Cancel the task
        to stop at once. Use ``file.part()`` in a turn.
        """
        from gemini_chat.gemini import files

        chunk_size = chunk_size or files.UPLOAD_CHUNK
        return await files.upload_file(
            self._api,
            source,
            mime_type,
            display_name,
            opts,
            on_progress,
            on_retry=on_retry,
            chunk_size=chunk_size,
            poll_interval=poll_interval,
            processing_timeout=processing_timeout,
        )

    async def get_file(self, name: str, opts: CallOptions) -> File:
        """An uploaded file (``files/abc``); FileUnavailableError once Gemini dropped it."""
        from gemini_chat.gemini import files

        return await files.get_file(self._api, name, opts)

    async def delete_file(self, name: str, opts: CallOptions) -> None:
        """Delete an uploaded file before its 48 hours are up."""
        from gemini_chat.gemini import files

        await files.delete_file(self._api, name, opts)

    async def generate_images(
        self,
        model: str,
        prompt: str,
        count: int,
        aspect_ratio: str | None,
        opts: CallOptions,
        on_retry: RetryCallback | None = None,
    ) -> GeneratedImages:
        """``count`` (1-4) Imagen images of ``prompt``; ``aspect_ratio`` None is Imagen's 1:1.

        BadRequestError for a count or ratio Imagen does not take (before any I/O); BlockedError
        when the prompt is refused or every image was filtered out.
        """
        from gemini_chat.gemini import imagen

        return await imagen.generate_images(
            self._api, model, prompt, count, aspect_ratio, opts, on_retry
        )

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
        url = self._api.url(opts, f"models/{model_id}:streamGenerateContent")
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
                retryable = not (progress.yielded or progress.final)
                attempt = await self._api.backoff(
                    error, attempt, opts, on_retry, retryable=retryable
                )

    async def _stream_once(
        self,
        url: str,
        content: bytes | Spliced,
        model: str,
        opts: CallOptions,
        progress: StreamProgress,
    ) -> AsyncGenerator[GenerateContentResponse, None]:
        """One streamed request: open it, then parse and check each event."""
        deadline = asyncio.get_running_loop().time() + opts.timeout
        response = await self._open_stream(url, content, opts, deadline)
        try:
            if response.status_code != 200:
                raw = await self._read_error_body(response, opts, deadline)
                raise status_error(response, raw, model)
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
        self, url: str, content: bytes | Spliced, opts: CallOptions, deadline: float
    ) -> httpx.Response:
        """Send the request and wait for the status line and headers."""
        headers = self._api.headers(opts, json_body=True) | {"accept": "text/event-stream"}
        body, headers = sendable(content, headers)
        http = await self._api.http()
        request = http.build_request(
            "POST",
            url,
            params={"alt": "sse"},
            content=body,
            headers=headers,
            timeout=self._api.timeouts(opts, read=min(opts.stream_idle_timeout, opts.timeout)),
        )
        try:
            async with asyncio.timeout_at(deadline):
                return await http.send(request, stream=True)
        except TimeoutError:
            raise request_timeout_error(opts.timeout) from None
        except httpx.HTTPError as exc:
            raise transport_error(exc, opts) from None

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
            raise transport_error(exc, opts) from None

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
                    f"The connection to {host(opts)} broke while Gemini was replying ({exc}); "
                    "nothing was saved. Try again."
                ) from None
