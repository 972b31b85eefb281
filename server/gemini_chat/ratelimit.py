"""The rate limit a daemon last ran into: the newest 429 from any call, as far as its error
said (which quota, how long to wait), for `gemini/status`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .gemini.errors import GeminiError, RateLimitedError
from .protocol import Json

log = logging.getLogger(__name__)
QUOTA_ZONE = "America/Los_Angeles"
"""Daily quotas reset at midnight Pacific time (the Gemini API's rate-limits page)."""


@dataclass(frozen=True)
class RateLimit:
    """One 429: for which model, which quota, the wait the API asked for, and when."""

    model: str | None
    quota: str | None
    retry_after: float | None
    at: datetime

    def resets_at(self) -> datetime | None:
        """When the limit lifts: after the wait the API asked for; for a used-up daily quota
        without one, the next midnight Pacific time; else unknown."""
        if self.retry_after is not None:
            return self.at + timedelta(seconds=self.retry_after)
        if self.quota == "day":
            return _next_midnight(self.at)
        return None

    def json(self) -> Json:
        """`gemini/status`'s `rateLimit` object."""
        resets = self.resets_at()
        return {
            "model": self.model,
            "quota": self.quota,
            "retryAfterSeconds": self.retry_after,
            "at": _stamp(self.at),
            "resetsAt": None if resets is None else _stamp(resets),
        }


class RateLimits:
    """Keeps the newest 429 the daemon's Gemini client saw (retried ones included)."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self.last: RateLimit | None = None

    def seen(self, error: GeminiError) -> None:
        """Note a failed call; only a 429 changes the state."""
        if isinstance(error, RateLimitedError):
            self.last = RateLimit(error.model, error.quota, error.retry_after, self._clock())

    def status(self) -> Json | None:
        """The newest 429 as `gemini/status` shows it, or None when there was none."""
        return None if self.last is None else self.last.json()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _next_midnight(moment: datetime) -> datetime | None:
    """The next midnight in the quota's time zone, or None without time zone data."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(QUOTA_ZONE)
    except ZoneInfoNotFoundError:
        log.info("No time zone data for %s; a daily quota's reset time is unknown", QUOTA_ZONE)
        return None
    local = moment.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    return midnight.astimezone(UTC)
