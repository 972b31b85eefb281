"""The retry decision: whether a failed Gemini call is tried again, and after how long. Pure."""

from __future__ import annotations

import random
from collections.abc import Callable

from gemini_chat.gemini.errors import (
    GeminiError,
    NetworkError,
    RateLimitedError,
    UpstreamUnavailableError,
)

_FIRST_DELAY = 1.0
_JITTER = 1.0


def retry_delay(
    error: GeminiError,
    attempt: int,
    *,
    max_retries: int,
    max_retry_delay: float,
    rng: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``, or None to give up and raise.

    ``attempt`` counts the retries already made (0 after the first failure). 429 waits the
    server's RetryInfo delay when it gives one (and gives up at once if that is longer than
    ``max_retry_delay``; a per-day quota without it is not retried); 429 without it, 5xx and
    connection failures back off 1, 2, 4, 8 s...
    capped at ``max_retry_delay``, plus up to 1 s of jitter so clients do not retry in step.
    """
    if attempt >= max_retries or not is_retryable(error):
        return None
    if isinstance(error, RateLimitedError) and error.quota == "day" and error.retry_after is None:
        return None  # a day's quota used up does not come back within a retry's wait
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        return error.retry_after if error.retry_after <= max_retry_delay else None
    return backoff(attempt, max_retry_delay=max_retry_delay, rng=rng)


RETRY_STATUSES = frozenset({500, 503, 504})
"""The 5xx answers PROTOCOL.md retries (with 429 and connection errors)."""


def is_retryable(error: GeminiError) -> bool:
    """429, 500/503/504 and connection failures are worth another try; nothing else is."""
    if isinstance(error, UpstreamUnavailableError):
        # No status: a 200 whose body could not be read, as good as a dropped connection.
        return error.http_status is None or error.http_status in RETRY_STATUSES
    return isinstance(error, RateLimitedError | NetworkError)


def backoff(attempt: int, *, max_retry_delay: float, rng: Callable[[], float]) -> float:
    """Capped exponential backoff with jitter: 1, 2, 4, 8 s... plus up to 1 s, at most the cap."""
    base = _FIRST_DELAY * 2.0 ** min(attempt, 32)
    return max(0.0, min(base + _JITTER * rng(), max_retry_delay))
