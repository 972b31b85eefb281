"""The retry decision: what is retried, after how long, and when to give up."""

from __future__ import annotations

import pytest

from gemini_chat.gemini.errors import (
    ApiKeyInvalidError,
    BadRequestError,
    BlockedError,
    GeminiError,
    GeminiTimeoutError,
    ModelNotFoundError,
    NetworkError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from gemini_chat.gemini.retry import retry_delay


def delay(
    error: GeminiError, attempt: int = 0, *, cap: float = 60.0, jitter: float = 0.0
) -> float | None:
    """retry_delay with 4 retries allowed and a fixed jitter draw."""
    return retry_delay(error, attempt, max_retries=4, max_retry_delay=cap, rng=lambda: jitter)


def test_429_waits_the_servers_retry_delay() -> None:
    """RetryInfo.retryDelay is honoured exactly."""
    assert delay(RateLimitedError("slow down", http_status=429, retry_after=26.0)) == 26.0


def test_429_longer_than_the_cap_is_not_retried() -> None:
    """A retryDelay over maxRetryDelay means give up at once."""
    assert delay(RateLimitedError("slow", retry_after=61.0), cap=60.0) is None


def test_429_without_delay_backs_off() -> None:
    """No RetryInfo: exponential backoff like a 5xx."""
    assert delay(RateLimitedError("slow"), 2) == 4.0


@pytest.mark.parametrize(
    "error", [UpstreamUnavailableError("503", http_status=503), NetworkError("refused")]
)
def test_backoff_doubles_with_jitter_and_cap(error: GeminiError) -> None:
    """1, 2, 4, 8 s plus jitter, never above the cap."""
    assert [delay(error, a) for a in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert delay(error, 1, jitter=0.5) == 2.5
    assert delay(error, 3, cap=5.0, jitter=0.9) == 5.0


@pytest.mark.parametrize(
    "error",
    [
        BadRequestError("400", http_status=400),
        ApiKeyInvalidError("401", http_status=401),
        ApiKeyInvalidError("403", http_status=403),
        ModelNotFoundError("404", http_status=404),
        BlockedError("blocked", block_reason="SAFETY"),
        GeminiTimeoutError("slow"),
    ],
)
def test_never_retried(error: GeminiError) -> None:
    """4xx other than 429, blocks and timeouts are never retried."""
    assert delay(error) is None


def test_gives_up_after_max_retries() -> None:
    """attempt counts retries made; at max_retries it stops."""
    error = UpstreamUnavailableError("503", http_status=503)
    assert retry_delay(error, 2, max_retries=3, max_retry_delay=60, rng=lambda: 0) == 4.0
    assert retry_delay(error, 3, max_retries=3, max_retry_delay=60, rng=lambda: 0) is None
    assert retry_delay(error, 0, max_retries=0, max_retry_delay=60, rng=lambda: 0) is None
    assert (
        retry_delay(RateLimitedError("x", retry_after=1.0), 3, max_retries=3, max_retry_delay=60)
        is None
    )


def test_a_used_up_daily_quota_is_not_retried() -> None:
    """A 429 naming the per-day quota, without a retry delay, is given up at once; a per-minute
    one without a delay backs off as usual."""
    day = RateLimitedError("quota")
    day.quota = "day"
    assert retry_delay(day, 0, max_retries=4, max_retry_delay=60, rng=lambda: 0.0) is None
    minute = RateLimitedError("quota")
    minute.quota = "minute"
    assert retry_delay(minute, 0, max_retries=4, max_retry_delay=60, rng=lambda: 0.0) == 1.0
