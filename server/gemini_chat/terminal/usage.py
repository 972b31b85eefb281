"""What a turn used and cost, and the rate limit last met: the usage line and `/status`.

The daemon prices each reply (`usage.cost`: this reply and the conversation so far, from its
dated price table) and keeps the newest 429 (`gemini/status` `rateLimit`); this only words them.
"""

from __future__ import annotations

import datetime
import math

from .rpc import JsonObject, JsonValue, as_object

TOKENS = (("promptTokens", "in"), ("thoughtsTokens", "thinking"), ("replyTokens", "out"))
QUOTAS = {"minute": "the per-minute quota", "day": "the daily quota"}


def usage_line(result: JsonObject) -> str:
    """`gemini-2.5-flash · 41 in · 9 out · $0.00014 reply, $0.0021 conversation · turn 3` from
    a `gemini/chat` or `gemini/generateImage` result (or a history model turn)."""
    usage = as_object(result.get("usage"))
    parts = [str(result.get("model") or "?")]
    images = usage.get("images")
    if isinstance(images, int):  # Imagen: no tokens, a count of images
        parts.append(f"{images} image" + ("" if images == 1 else "s"))
    else:
        parts += _tokens(usage)
    if cost := cost_text(usage):
        parts.append(cost)
    if result.get("turn") is not None:
        parts.append(f"turn {result.get('turn')}")
    reason = result.get("finishReason")
    if reason not in (None, "STOP"):
        parts.append(f"finish {reason}")
    return "  " + " · ".join(parts)


def _tokens(usage: JsonObject) -> list[str]:
    parts: list[str] = []
    for key, label in TOKENS:
        value = usage.get(key)
        if isinstance(value, int) and (value or key != "thoughtsTokens"):
            parts.append(f"{value:,} {label}")
    cached = usage.get("cachedTokens")
    if isinstance(cached, int) and cached and parts:
        parts[0] += f" ({cached:,} cached)"  # part of the prompt, at the cheaper cache price
    return parts


def cost_text(usage: JsonObject) -> str:
    """`$0.0012 reply, $0.0345 conversation` (as aider shows it), or "" for an unpriced model."""
    cost = as_object(usage.get("cost"))
    reply, total = cost.get("reply"), cost.get("conversation")
    if not _number(reply) or not _number(total):
        return ""
    currency = str(cost.get("currency") or "USD")
    return f"{money(reply, currency)} reply, {money(total, currency)} conversation"


def _number(value: JsonValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def money(value: JsonValue, currency: str = "USD") -> str:
    """`$0.0012`: two decimals from a cent up, else two significant digits (aider's rule)."""
    amount = float(value) if isinstance(value, int | float) else 0.0
    digits = 2 if amount == 0 or abs(amount) >= 0.01 else 2 - int(math.log10(abs(amount)))
    number = f"{amount:.{digits}f}"
    return f"${number}" if currency == "USD" else f"{number} {currency}"


def rate_limit_text(limit: JsonObject, now: datetime.datetime) -> str:
    """`gemini/status`'s `rateLimit` in words: which quota of which model ran out when, and
    when it lifts (or lifted), in local time."""
    model = str(limit.get("model") or "?")
    quota = QUOTAS.get(str(limit.get("quota")))
    at = _time(limit.get("at"))
    when = f" at {_clock(at, now)}" if at else ""
    what = f"{quota} of {model} ran out{when}" if quota else f"{model} was rate limited{when}"
    resets = _time(limit.get("resetsAt"))
    if resets is None:
        return f"{what}; the API did not say when it lifts"
    if resets <= now:
        return f"{what}; lifted at {_clock(resets, now)}"
    return f"{what}; lifts at {_clock(resets, now)} (in {_span(resets - now)})"


def _time(value: JsonValue) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _clock(moment: datetime.datetime, now: datetime.datetime) -> str:
    """`14:03:27` today (local time), else with the date."""
    local, today = moment.astimezone(), now.astimezone().date()
    return local.strftime("%H:%M:%S" if local.date() == today else "%Y-%m-%d %H:%M")


def _span(delta: datetime.timedelta) -> str:
    """`12 s`, `4 min 10 s`, `7 h 3 min`."""
    seconds = math.ceil(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
