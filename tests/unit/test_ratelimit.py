"""The rate limit last seen: which 429s count, the quota kind read from the API's error body,
and when the limit lifts (the wait asked for, else Pacific midnight for a daily quota)."""

from __future__ import annotations

import json
from datetime import datetime

from gemini_chat.gemini.errors import (
    RateLimitedError,
    UpstreamUnavailableError,
    error_from_response,
)
from gemini_chat.ratelimit import RateLimits


def body(quota_id: str | None, delay: str | None = None) -> bytes:
    """A 429 body as the API sends it: QuotaFailure naming the quota, RetryInfo with a delay."""
    details: list[dict[str, object]] = []
    if quota_id:
        violation = {"quotaId": quota_id}
        details.append(
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]}
        )
    if delay:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay})
    error = {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": details}
    return json.dumps({"error": error}).encode()


def at(stamp: str) -> RateLimits:
    """A tracker whose clock says `stamp`."""
    return RateLimits(clock=lambda: datetime.fromisoformat(stamp))


def test_the_quota_kind_and_model_come_from_the_error() -> None:
    """PerMinute and PerDay quota ids are told apart; no QuotaFailure leaves the kind unknown;
    the model of the refused call is kept; -32803's data says the quota."""
    minute = error_from_response(
        429, body("GenerateRequestsPerMinutePerProjectPerModel"), model="m"
    )
    day = error_from_response(429, body("GenerateRequestsPerDayPerProjectPerModel-FreeTier"))
    plain = error_from_response(429, body(None))
    assert isinstance(minute, RateLimitedError) and isinstance(day, RateLimitedError)
    assert isinstance(plain, RateLimitedError)
    assert (minute.quota, minute.model, day.quota, plain.quota) == ("minute", "m", "day", None)
    assert minute.to_data()["quota"] == "minute" and "quota" not in plain.to_data()


def test_a_minute_limit_lifts_after_the_wait_asked_for() -> None:
    """A per-minute 429 asking for 26.5 s, seen at 12:00:00 UTC, lifts at 12:00:26 (the
    stamps are whole seconds in UTC)."""
    limits = at("2026-03-01T12:00:00+00:00")
    limits.seen(error_from_response(429, body("X-PerMinute", "26.5s"), model="gemini-2.5-flash"))
    assert limits.status() == {
        "model": "gemini-2.5-flash",
        "quota": "minute",
        "retryAfterSeconds": 26.5,
        "at": "2026-03-01T12:00:00Z",
        "resetsAt": "2026-03-01T12:00:26Z",
    }


def test_a_daily_quota_lifts_at_the_next_pacific_midnight() -> None:
    """A per-day 429 without a wait: it lifts at the next midnight in Los Angeles: 08:00 UTC
    in winter (PST), 07:00 UTC in summer (PDT), the next day when seen after midnight there."""
    cases = [
        ("2026-01-15T20:00:00+00:00", "2026-01-16T08:00:00Z"),
        ("2026-07-15T20:00:00+00:00", "2026-07-16T07:00:00Z"),
        ("2026-07-16T06:59:00+00:00", "2026-07-16T07:00:00Z"),
        ("2026-07-16T07:00:00+00:00", "2026-07-17T07:00:00Z"),
    ]
    for seen, resets in cases:
        limits = at(seen)
        limits.seen(error_from_response(429, body("X-PerDay-FreeTier")))
        assert limits.status()["resetsAt"] == resets, seen  # type: ignore[index]


def test_only_429s_count_and_the_newest_wins() -> None:
    """Before any 429 there is nothing to show; other failures change nothing; a later 429
    replaces an earlier one; a 429 saying nothing about its quota or wait lifts at an unknown
    time."""
    limits = at("2026-03-01T12:00:00+00:00")
    assert limits.status() is None
    limits.seen(UpstreamUnavailableError("503"))
    assert limits.status() is None
    limits.seen(error_from_response(429, body("X-PerDay"), model="a"))
    limits.seen(error_from_response(429, body(None), model="b"))
    assert limits.status() == {
        "model": "b",
        "quota": None,
        "retryAfterSeconds": None,
        "at": "2026-03-01T12:00:00Z",
        "resetsAt": None,
    }
