"""One error tree for every way a Gemini call can fail, and parsing of Gemini's error bodies.

Each class carries PROTOCOL.md's ``data.reason``; messages are plain words saying what
happened and what to do, and never contain an API key.
"""

from __future__ import annotations

import re
from typing import ClassVar

from gemini_chat.gemini.error_body import ErrorBody, parse_error_body
from gemini_chat.gemini.error_body import parse_duration as parse_duration
from gemini_chat.gemini.wire import GenerateContentResponse, SafetyRating

_MAX_UPSTREAM_MESSAGE = 500
# Google API keys, and a `key=` query parameter, in case an upstream or a proxy echoes one.
_KEY_PATTERNS = (
    re.compile(r"AIza[0-9A-Za-z_\-]{20,}"),
    re.compile(r"(?i)(\bkey=)[^&\s\"']+"),
)
_FILE_GONE = re.compile(r"permission to access the File|File \S+ (?:is not found|does not exist)")
_KEY_HELP = "set GEMINI_API_KEY or the gemini.apiKey setting"


class GeminiError(Exception):
    """A Gemini call that failed; ``reason`` is PROTOCOL.md's ``data.reason``."""

    reason: ClassVar[str] = "upstreamUnavailable"

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        status: str | None = None,
        retry_after: float | None = None,
        block_reason: str | None = None,
        request_id: str | None = None,
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.status = status
        self.retry_after = retry_after
        self.block_reason = block_reason
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message

    def redact_secret(self, secret: str | None) -> None:
        """Remove ``secret`` (the API key) from the message, whatever echoed it."""
        if secret and secret in self.message:
            self.message = self.message.replace(secret, "[redacted]")
            self.args = (self.message,)

    def to_data(self) -> dict[str, object]:
        """PROTOCOL.md's ``data`` of a -32803 RequestFailed error."""
        data: dict[str, object] = {"reason": self.reason}
        if self.http_status is not None:
            data["httpStatus"] = self.http_status
        if self.status is not None:
            data["status"] = self.status
        if self.retry_after is not None:
            data["retryAfterSeconds"] = self.retry_after
        if self.block_reason is not None:
            data["blockReason"] = self.block_reason
        return data


class ApiKeyMissingError(GeminiError):
    """No API key is configured."""

    reason: ClassVar[str] = "apiKeyMissing"


class ApiKeyInvalidError(GeminiError):
    """Gemini did not accept the API key (401/403, or API_KEY_INVALID)."""

    reason: ClassVar[str] = "apiKeyInvalid"


class RateLimitedError(GeminiError):
    """429: a rate limit or quota was hit."""

    reason: ClassVar[str] = "rateLimited"
    quota: str | None = None
    """``minute`` or ``day``: the quota the API's QuotaFailure named, when it named one."""
    model: str | None = None
    """The model of the refused call, when it had one."""

    def to_data(self) -> dict[str, object]:
        """The common data, plus which ``quota`` ran out when the API said."""
        data = super().to_data()
        if self.quota is not None:
            data["quota"] = self.quota
        return data


class BlockedError(GeminiError):
    """The prompt or the reply was blocked (safety, recitation, prohibited content...)."""

    reason: ClassVar[str] = "blocked"
    categories: tuple[str, ...] = ()
    """The harm categories Gemini flagged (HARM_CATEGORY_...), when it said."""

    def to_data(self) -> dict[str, object]:
        """The common data, plus the flagged `categories` when Gemini named any."""
        data = super().to_data()
        if self.categories:
            data["categories"] = list(self.categories)
        return data


class ModelNotFoundError(GeminiError):
    """404: no such model (or no such endpoint)."""

    reason: ClassVar[str] = "modelNotFound"


class BadRequestError(GeminiError):
    """Gemini rejected the request (other 4xx), or we refused to send it."""

    reason: ClassVar[str] = "badRequest"


class FileUnavailableError(BadRequestError):
    """An uploaded file the request names is gone (expired after 48 h, deleted) or not ours."""


class UpstreamUnavailableError(GeminiError):
    """5xx, or a reply we cannot read."""

    reason: ClassVar[str] = "upstreamUnavailable"


class GeminiTimeoutError(GeminiError):
    """The call took longer than allowed."""

    reason: ClassVar[str] = "timeout"


class NetworkError(GeminiError):
    """The connection failed, or a reply stream ended before Gemini finished."""

    reason: ClassVar[str] = "network"


class StorageError(GeminiError):
    """The conversation store could not be read or written (read-only, full, corrupt).

    Not Gemini's failure, but a turn's: it is answered like the others (-32803), and a reply
    that finished but could not be kept travels in ``text`` so the client can still show it.
    """

    reason: ClassVar[str] = "storage"

    def __init__(self, message: str, *, text: str | None = None) -> None:
        super().__init__(message)
        self.text = text

    def to_data(self) -> dict[str, object]:
        """The common data, plus the unsaved reply's ``text`` when there is one."""
        data = super().to_data()
        if self.text is not None:
            data["text"] = self.text
        return data


def redact(text: str) -> str:
    """``text`` without anything that looks like a Google API key."""
    text = _KEY_PATTERNS[0].sub("[redacted]", text)
    return _KEY_PATTERNS[1].sub(r"\1[redacted]", text)


def request_timeout_error(timeout: float) -> GeminiTimeoutError:
    """The error for a call that outran the requestTimeout setting."""
    return GeminiTimeoutError(
        f"Gemini did not finish answering within {timeout:g} s (the requestTimeout setting); "
        "nothing was saved. Try again, or raise requestTimeout."
    )


def idle_timeout_error(idle_timeout: float) -> GeminiTimeoutError:
    """The error for a reply stream that went silent."""
    return GeminiTimeoutError(
        f"Gemini sent nothing for {idle_timeout:g} s while replying, so the reply was abandoned "
        "and nothing was saved. Try again."
    )


# --- error bodies ----------------------------------------------------------------------------


def error_from_response(http_status: int, body: bytes, *, model: str | None = None) -> GeminiError:
    """The GeminiError for a non-200 reply (or a mid-stream ``{"error": ...}`` event)."""
    parsed = parse_error_body(body)
    status = parsed.status
    said = _said(http_status, parsed)
    if http_status == 403 and _FILE_GONE.search(parsed.message):
        # The API answers 403 for a file it does not have: not a key problem.
        return FileUnavailableError(
            f"An uploaded file is no longer available ({said}). Gemini keeps uploads for 48 "
            "hours; attach the file again.",
            http_status=http_status,
            status=status,
        )
    if parsed.reason == "API_KEY_INVALID" or http_status in (401, 403):
        what = (
            "Gemini did not accept the API key"
            if http_status != 403
            else "Gemini refused the request: the API key is not accepted or lacks permission"
        )
        return ApiKeyInvalidError(
            f"{what} ({said}). Check the key: {_KEY_HELP}.", http_status=http_status, status=status
        )
    if http_status == 404:
        target = f"Model {model} was not found" if model else "Gemini found nothing at that address"
        return ModelNotFoundError(
            f"{target}; pick one from gemini/models (Gemini said: {said}).",
            http_status=http_status,
            status=status,
        )
    if http_status == 429:
        limited = RateLimitedError(
            _rate_limit_message(parsed, said),
            retry_after=parsed.retry_after,
            http_status=http_status,
            status=status,
        )
        limited.quota, limited.model = quota_kind(parsed), model
        return limited
    if http_status >= 500:
        return UpstreamUnavailableError(
            f"Gemini is unavailable right now ({said}). Try again in a moment.",
            http_status=http_status,
            status=status,
        )
    return BadRequestError(
        f"Gemini rejected the request ({said}).", http_status=http_status, status=status
    )


def _said(http_status: int, parsed: ErrorBody) -> str:
    """``503 UNAVAILABLE: The model is overloaded.``, trimmed and redacted."""
    head = f"{http_status} {parsed.status}" if parsed.status else str(http_status)
    message = " ".join(parsed.message.split())
    if len(message) > _MAX_UPSTREAM_MESSAGE:
        message = message[:_MAX_UPSTREAM_MESSAGE] + "..."
    return redact(f"{head}: {message}" if message else head)


def quota_kind(parsed: ErrorBody) -> str | None:
    """``day`` when a per-day quota ran out, ``minute`` for a per-minute one, else None."""
    ids = " ".join(parsed.quota_ids)
    if "PerDay" in ids:
        return "day"
    return "minute" if "PerMinute" in ids else None


def _rate_limit_message(parsed: ErrorBody, said: str) -> str:
    """Tell a used-up daily quota apart from a per-minute rate limit."""
    kind = quota_kind(parsed)
    if kind == "day":
        return (
            f"Gemini's daily quota for this model is used up ({said}). Wait until it resets "
            "(midnight Pacific time), use another model, or enable billing for the key's project."
        )
    wait = f"Try again in {_seconds(parsed.retry_after)}." if parsed.retry_after else None
    if kind == "minute":
        return (
            f"Gemini's per-minute rate limit for this model was hit ({said}). "
            f"{wait or 'Wait a minute and try again.'}"
        )
    return f"Gemini is rate limiting requests ({said}). {wait or 'Try again later.'}"


def _seconds(value: float | None) -> str:
    """``26 s`` or ``1.5 s``."""
    return f"{value:g} s" if value is not None else ""


# --- blocked replies -------------------------------------------------------------------------

_BLOCKING_FINISH = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)
_WHAT_TO_DO = {
    "SAFETY": "Rephrase the message, or relax the gemini.safetySettings setting for {cats}",
    "IMAGE_SAFETY": "Change the image or the message, or relax the gemini.safetySettings setting",
    "RECITATION": "The reply repeated protected text; rephrase or ask for a summary in your words",
}
_DEFAULT_WHAT_TO_DO = "Rephrase the message"


def blocked_error(response: GenerateContentResponse) -> BlockedError | None:
    """A BlockedError if the prompt was blocked or the reply stopped blocked with no answer."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        cats = _flagged(feedback.safety_ratings)
        err = BlockedError(
            _blocked_message("the message", feedback.block_reason, cats),
            block_reason=feedback.block_reason,
        )
        err.categories = tuple(_flagged_ids(feedback.safety_ratings))
        return err
    candidate = response.first_candidate()
    if candidate is None or candidate.finish_reason not in _BLOCKING_FINISH:
        return None
    if has_answer(response):
        return None
    reason = candidate.finish_reason
    cats = _flagged(candidate.safety_ratings)
    err = BlockedError(_blocked_message("the reply", reason, cats), block_reason=reason)
    err.categories = tuple(_flagged_ids(candidate.safety_ratings))
    return err


def has_answer(response: GenerateContentResponse) -> bool:
    """Whether the first candidate holds an answer: a non-thought part with text or a payload."""
    candidate = response.first_candidate()
    parts = candidate.parts() if candidate is not None else []
    return any(not part.is_thought() and _has_data(part.model_dump()) for part in parts)


def _has_data(part: dict[str, object]) -> bool:
    """Whether a dumped part holds data (non-empty text or any other payload)."""
    flags = {"thought", "thought_signature", "text"}
    return bool(part.get("text")) or any(v is not None for k, v in part.items() if k not in flags)


def _flagged_ids(ratings: list[SafetyRating] | None) -> list[str]:
    """The category ids whose ratings say blocked or HIGH."""
    return [
        r.category for r in ratings or [] if r.category and (r.blocked or r.probability == "HIGH")
    ]


def _flagged(ratings: list[SafetyRating] | None) -> list[str]:
    """Readable names of the categories whose ratings say blocked or HIGH."""
    names: list[str] = []
    for rating in ratings or []:
        if (rating.blocked or rating.probability == "HIGH") and rating.category:
            name = rating.category.removeprefix("HARM_CATEGORY_").replace("_", " ").lower()
            names.append(f"{name} ({rating.probability or 'blocked'})")
    return names


def _blocked_message(what: str, reason: str, cats: list[str]) -> str:
    """``Gemini blocked the reply (SAFETY: harassment (HIGH)). Rephrase ...``."""
    detail = f"{reason}: {', '.join(cats)}" if cats else reason
    advice = _WHAT_TO_DO.get(reason, _DEFAULT_WHAT_TO_DO)
    advice = advice.format(cats=", ".join(c.split(" (")[0] for c in cats) or "those categories")
    return f"Gemini blocked {what} ({detail}). {advice}."
