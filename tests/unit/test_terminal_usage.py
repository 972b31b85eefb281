"""The terminal client's usage line (tokens, cost as aider shows it), its fitting to the
screen's width, and the rate limit `/status` words."""

from __future__ import annotations

import datetime

import pytest

from gemini_chat.terminal.screen import fit_parts
from gemini_chat.terminal.usage import money, rate_limit_text, usage_line

NOW = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)


def test_usage_line_names_model_tokens_and_turn():
    """The usage line: model, prompt/thinking/reply tokens, turn, and an unusual finish reason;
    no cost for an unpriced model."""
    line = usage_line(
        {
            "model": "gemini-2.5-pro",
            "turn": 3,
            "finishReason": "MAX_TOKENS",
            "usage": {"promptTokens": 1200, "replyTokens": 9, "thoughtsTokens": 0},
        }
    )
    assert line.strip() == "gemini-2.5-pro · 1,200 in · 9 out · turn 3 · finish MAX_TOKENS"


def test_a_priced_reply_adds_its_cost_and_the_conversations():
    """With `usage.cost` the line adds `$reply reply, $total conversation` after the tokens;
    cached prompt tokens are named beside the prompt's; thinking tokens show when there are."""
    line = usage_line(
        {
            "model": "gemini-2.5-flash",
            "turn": 12,
            "usage": {
                "promptTokens": 1632,
                "cachedTokens": 1024,
                "thoughtsTokens": 40,
                "replyTokens": 230,
                "cost": {"reply": 0.0012, "conversation": 0.0345, "currency": "USD"},
            },
        }
    )
    assert line == (
        "  gemini-2.5-flash · 1,632 in (1,024 cached) · 40 thinking · 230 out"
        " · $0.0012 reply, $0.03 conversation · turn 12"
    )


def test_an_imagen_request_counts_images_not_tokens():
    """Imagen's usage (token counts 0, `images`, a per-image cost): `2 images · $0.08 reply,
    ...`; one image is singular."""
    usage = {"promptTokens": 0, "replyTokens": 0, "images": 2}
    usage["cost"] = {"reply": 0.08, "conversation": 0.1, "currency": "USD"}  # type: ignore[assignment]
    line = usage_line({"model": "imagen-4.0-generate-001", "turn": 2, "usage": usage})
    assert line.strip() == (
        "imagen-4.0-generate-001 · 2 images · $0.08 reply, $0.10 conversation · turn 2"
    )
    one = usage_line({"model": "imagen-4.0-fast-generate-001", "usage": {"images": 1}})
    assert one.strip() == "imagen-4.0-fast-generate-001 · 1 image"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, "$0.00"),
        (0.0345, "$0.03"),
        (1.5, "$1.50"),
        (0.01, "$0.01"),
        (0.0012, "$0.0012"),
        (0.00014125, "$0.00014"),
        (0.0000071, "$0.0000071"),
    ],
)
def test_money_is_printed_as_aider_prints_it(amount: float, shown: str):
    """Two decimals from a cent up; below, two significant digits (aider's format_cost)."""
    assert money(amount) == shown


def test_another_currency_is_named():
    """A cost in a currency other than USD carries its code instead of `$`."""
    assert money(0.5, "EUR") == "0.50 EUR"


def test_a_long_usage_line_breaks_between_its_parts():
    """Wider than the screen, the line breaks at ` · ` (never inside a number), the rest
    indented like the first line; a short line stays whole."""
    line = "  gemini-2.5-flash · 1,632 in · 230 out · $0.0012 reply, $0.0345 conversation · turn 12"
    lines = fit_parts(line, 80)
    assert lines == [
        "  gemini-2.5-flash · 1,632 in · 230 out · $0.0012 reply, $0.0345 conversation",
        "  turn 12",
    ]
    assert all(len(part) < 80 for part in lines)
    assert fit_parts("  a · b", 80) == ["  a · b"]


def _limit(**fields: object) -> dict[str, object]:
    return {"model": "gemini-2.5-flash", "quota": "minute", "retryAfterSeconds": 30.0, **fields}


def _clock(moment: datetime.datetime) -> str:
    return moment.astimezone().strftime("%H:%M:%S")


def test_a_per_minute_limit_says_when_it_lifts():
    """A per-minute 429 seen 5 s ago asking for 30 s: the quota, the model, when (local time),
    when it lifts and how long is left."""
    at = NOW - datetime.timedelta(seconds=5)
    resets = at + datetime.timedelta(seconds=30)
    text = rate_limit_text(_limit(at="2026-03-01T11:59:55Z", resetsAt="2026-03-01T12:00:25Z"), NOW)
    assert text == (
        f"the per-minute quota of gemini-2.5-flash ran out at {_clock(at)}; "
        f"lifts at {_clock(resets)} (in 25 s)"
    )


def test_a_daily_quota_counts_hours_and_a_past_one_says_lifted():
    """A daily quota resetting in 7 h 3 min says so; one whose reset has passed says lifted;
    no quota named and no reset known are said plainly."""
    daily = rate_limit_text(
        _limit(quota="day", at="2026-03-01T11:00:00Z", resetsAt="2026-03-01T19:03:00Z"), NOW
    )
    assert daily.startswith("the daily quota of gemini-2.5-flash ran out at ")
    assert daily.endswith("(in 7 h 3 min)")
    past = rate_limit_text(_limit(at="2026-03-01T11:00:00Z", resetsAt="2026-03-01T11:00:30Z"), NOW)
    assert "; lifted at " in past
    vague = rate_limit_text(_limit(quota=None, at="2026-03-01T11:00:00Z", resetsAt=None), NOW)
    assert vague.startswith("gemini-2.5-flash was rate limited at ")
    assert vague.endswith("the API did not say when it lifts")
