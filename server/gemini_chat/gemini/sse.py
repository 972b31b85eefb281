"""Reading a ``streamGenerateContent?alt=sse`` reply: events with time limits, checked chunks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TypeVar

import httpx
from httpx_sse import EventSource, SSEError
from pydantic import BaseModel, ValidationError

from gemini_chat.gemini.errors import (
    BlockedError,
    GeminiError,
    UpstreamUnavailableError,
    blocked_error,
    error_from_response,
    has_answer,
    idle_timeout_error,
    request_timeout_error,
)
from gemini_chat.gemini.wire import GenerateContentResponse

_M = TypeVar("_M", bound=BaseModel)


@dataclass
class StreamProgress:
    """How far one stream attempt got, which decides whether it may be retried."""

    yielded: bool = False
    final: bool = False
    answered: bool = False
    finished: bool = False


def parse_chunk(data: str, model: str, progress: StreamProgress) -> GenerateContentResponse:
    """One event's chunk, or the error it carries or stands for."""
    try:
        payload: object = json.loads(data)
    except ValueError:
        progress.final = True
        raise UpstreamUnavailableError(
            "Gemini sent a stream event that is not valid JSON; nothing was saved. Try again."
        ) from None
    if isinstance(payload, dict) and "error" in payload:
        progress.final = True
        raise error_from_response(_error_code(data), data.encode(), model=model)
    try:
        chunk = parse_body(GenerateContentResponse, data.encode())
    except GeminiError:
        progress.final = True
        raise
    blocked = _stream_block(chunk, progress)
    if blocked is not None:
        progress.final = True
        raise blocked
    progress.finished = progress.finished or _finished(chunk)
    return chunk


def _stream_block(chunk: GenerateContentResponse, progress: StreamProgress) -> BlockedError | None:
    """A blocked prompt, or a blocked finish when no chunk so far carried an answer."""
    if has_answer(chunk):
        progress.answered = True
    blocked = blocked_error(chunk)
    prompt_blocked = chunk.prompt_feedback is not None and bool(chunk.prompt_feedback.block_reason)
    # A blocked finish after answer text streamed is a cut-short answer, not a block.
    return blocked if prompt_blocked or not progress.answered else None


def _error_code(data: str) -> int:
    """The HTTP code of a mid-stream ``{"error": {"code": ...}}`` event (500 when missing)."""
    try:
        code = _ErrorEvent.model_validate_json(data).error.code
    except ValidationError:
        return 500
    return code if code is not None and 400 <= code <= 599 else 500


class _ErrorCode(BaseModel):
    code: int | None = None


class _ErrorEvent(BaseModel):
    error: _ErrorCode = _ErrorCode()


def _finished(chunk: GenerateContentResponse) -> bool:
    """Whether the chunk carries a real finishReason."""
    reason = chunk.finish_reason()
    return reason is not None and reason != "FINISH_REASON_UNSPECIFIED"


def parse_body(model: type[_M], raw: bytes) -> _M:
    """Validate a 200 body; garbage is UpstreamUnavailableError."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise UpstreamUnavailableError("Gemini sent a reply that is not valid JSON") from None
        raise UpstreamUnavailableError(
            f"Gemini sent a reply this client cannot read ({exc.error_count()} problems, first: "
            f"{exc.errors()[0]['msg']})."
        ) from None


async def iter_event_data(
    response: httpx.Response, *, idle_timeout: float, deadline: float, request_timeout: float
) -> AsyncGenerator[str, None]:
    """Yield each event's ``data`` as it arrives (CRLF or LF framing; comments ignored).

    Raises GeminiTimeoutError when no event comes for ``idle_timeout`` seconds, or the loop
    clock passes ``deadline`` (the end of the whole call's ``requestTimeout``).
    """
    loop = asyncio.get_running_loop()
    events = EventSource(response).aiter_sse()
    try:
        while True:
            idle_end = loop.time() + idle_timeout
            try:
                async with asyncio.timeout_at(min(idle_end, deadline)):
                    event = await anext(events)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise (
                    idle_timeout_error(idle_timeout)
                    if idle_end <= deadline
                    else request_timeout_error(request_timeout)
                ) from None
            except SSEError as exc:
                raise UpstreamUnavailableError(
                    f"Gemini answered with something other than an event stream ({exc}). "
                    "Check the gemini.baseUrl setting.",
                    http_status=response.status_code,
                ) from None
            if event.data:
                yield event.data
    finally:
        await events.aclose()
