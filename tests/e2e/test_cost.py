"""What a turn costs and the rate limit last seen, through the real daemon and the emulator:
each reply's cost and the conversation's running total in results and history (prices from the
`prices` setting, so the arithmetic is checked against numbers fixed here), unpriced models,
and gemini/status's rateLimit after a 429."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator

from .conftest import StartDaemon
from .daemon import Daemon, error_data

PRICES = {"gemini-2.5-flash": {"input": 1.0, "output": 10.0}}
"""USD per 1M tokens: one prompt token costs 1e-6, one reply or thinking token 1e-5."""


def _expected(usage: dict[str, Any]) -> float:
    tokens = usage["promptTokens"] + 10 * (usage["replyTokens"] + usage["thoughtsTokens"])
    return round(tokens / 1_000_000, 8)


async def test_replies_carry_their_cost_and_the_running_total(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """Two turns priced by the `prices` setting: each reply's cost is its prompt tokens at the
    input price plus reply and thinking tokens at the output price; `conversation` adds them
    up; history's model turns carry the same usage; cachedTokens is kept (0 here)."""
    d = await daemons(init_options={"prices": PRICES})
    first = await d.chat("one")
    emulator.script({"reply": "two", "thought": "Thinking about two."})
    second = await d.chat("two")
    assert second["usage"]["thoughtsTokens"] > 0
    costs = [_expected(r["usage"]) for r in (first, second)]
    assert first["usage"]["cost"] == {
        "reply": costs[0],
        "conversation": costs[0],
        "currency": "USD",
    }
    assert second["usage"]["cost"] == {
        "reply": costs[1],
        "conversation": round(costs[0] + costs[1], 8),
        "currency": "USD",
    }
    assert first["usage"]["cachedTokens"] == 0
    turns = await d.history()
    assert [t["usage"] for t in turns if t["role"] == "model"] == [first["usage"], second["usage"]]


async def test_an_unpriced_model_shows_tokens_only(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """A model in neither the table nor the setting: usage without `cost`; the next priced
    reply's total carries on from the last priced one."""
    d = await daemons(init_options={"prices": PRICES})
    first = await d.chat("one")
    unpriced = await d.chat("two", model="gemini-robotics-er-1.5-preview")
    third = await d.chat("three")
    assert "cost" not in unpriced["usage"] and unpriced["usage"]["totalTokens"] > 0
    total = round(first["usage"]["cost"]["reply"] + third["usage"]["cost"]["reply"], 8)
    assert third["usage"]["cost"]["conversation"] == total


async def test_a_bad_prices_setting_is_refused_and_the_table_kept(
    daemons: StartDaemon,
) -> None:
    """A price entry without an output price is reported once (window/showMessage) and the
    shipped table stays in use: the default model is still priced."""
    d = await daemons(init_options={"prices": {"gemini-2.5-flash": {"input": 1.0}}})
    result = await d.chat("hi")
    assert result["usage"]["cost"]["reply"] > 0
    shown = [m.message for m in d.client.messages if "gemini.prices" in m.message]
    assert len(shown) == 1 and "output" in shown[0]


async def test_status_has_no_rate_limit_before_a_429(daemon: Daemon) -> None:
    """A daemon that met no 429 leaves `rateLimit` out of gemini/status."""
    await daemon.chat("hi")
    assert "rateLimit" not in await daemon.request("gemini/status", {})


async def test_status_shows_a_per_minute_limit_and_when_it_lifts(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """A per-minute 429 asking for 2 s, with no retries left: the turn fails rateLimited with
    quota minute; gemini/status then shows the model, the quota, the wait, when it was seen
    and when it lifts (2 s later)."""
    d = await daemons(init_options={"maxRetries": 0})
    emulator.script({"status": 429, "retryDelay": "2s", "quota": "minute"})
    before = datetime.now(UTC).replace(microsecond=0)
    with pytest.raises(JsonRpcException) as info:
        await d.chat("hi")
    assert error_data(info.value) == {
        "reason": "rateLimited",
        "httpStatus": 429,
        "status": "RESOURCE_EXHAUSTED",
        "retryAfterSeconds": 2.0,
        "quota": "minute",
    }
    limit = (await d.request("gemini/status", {}))["rateLimit"]
    at = datetime.fromisoformat(limit["at"].replace("Z", "+00:00"))
    assert before <= at <= datetime.now(UTC)
    assert limit == {
        "model": "gemini-2.5-flash",
        "quota": "minute",
        "retryAfterSeconds": 2.0,
        "at": limit["at"],
        "resetsAt": (at + timedelta(seconds=2)).isoformat().replace("+00:00", "Z"),
    }


async def test_a_retried_429_is_seen_too(daemon: Daemon, emulator: Emulator) -> None:
    """A 429 the daemon waited out and retried (the turn then succeeds) still shows in
    gemini/status."""
    emulator.script({"status": 429, "retryDelay": "1s", "quota": "minute"}, {"reply": "ok"})
    assert (await daemon.chat("hi"))["text"] == "ok"
    limit = (await daemon.request("gemini/status", {}))["rateLimit"]
    assert (limit["model"], limit["quota"], limit["retryAfterSeconds"]) == (
        "gemini-2.5-flash",
        "minute",
        1.0,
    )


async def test_a_used_up_daily_quota_resets_at_pacific_midnight(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """A per-day 429 without a retry delay on an Imagen request: rateLimited with quota day;
    status shows the Imagen model and resetsAt the next midnight Pacific time."""
    d = await daemons(init_options={"maxRetries": 0})
    emulator.script({"status": 429, "quota": "day"})
    with pytest.raises(JsonRpcException) as info:
        await d.request("gemini/generateImage", {"prompt": "x"})
    assert error_data(info.value)["quota"] == "day"
    limit = (await d.request("gemini/status", {}))["rateLimit"]
    assert (limit["model"], limit["quota"], limit["retryAfterSeconds"]) == (
        "imagen-4.0-generate-001",
        "day",
        None,
    )
    pacific = ZoneInfo("America/Los_Angeles")
    at = datetime.fromisoformat(limit["at"].replace("Z", "+00:00")).astimezone(pacific)
    resets = datetime.fromisoformat(limit["resetsAt"].replace("Z", "+00:00")).astimezone(pacific)
    assert (resets.hour, resets.minute, resets.second) == (0, 0, 0)
    assert resets.date() == at.date() + timedelta(days=1)
