"""Compaction: when a conversation is summarised to fit the model's context window, and how."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeAlias, cast

from .gemini import wire
from .gemini.client import GeminiClient
from .gemini.errors import BadRequestError, UpstreamUnavailableError
from .protocol import Json
from .store import Entry
from .turn import TurnContext, TurnEvents

Staged: TypeAlias = list[tuple[str, Json, Json]]
KEEP_EXCHANGES = 2
"""The most recent exchanges kept word for word when older ones are summarised."""

SUMMARY_REQUEST = (
    "Summarise our conversation so far for your own later use: the user's goals, decisions "
    "made, facts learned, file names, code that matters (verbatim where short), and open "
    "questions. Be complete but concise. Reply with the summary only."
)
ACKNOWLEDGEMENT = "Understood. I will continue from this summary."


IMAGE_TOKENS = 1_120
"""What one inline image counts, roughly: Gemini 3 counts 1,120 tokens at its default media
resolution; 2.x counts 258 per 768-pixel tile (1,032 for Imagen's 1024x1024). Its base64
(a megabyte and more) says nothing of it."""


def estimate_tokens(history: list[Entry], draft: Json) -> int:
    """The next request's size: the last chat reply's usage when known, plus what came after
    it (characters / 4, an inline image IMAGE_TOKENS), else the same estimate of everything.
    Imagen's replies carry usage too, all zero: it does not count what came before them."""
    for i in range(len(history) - 1, -1, -1):
        e = history[i]
        usage = e.meta.get("usage")
        if e.role == "model" and isinstance(usage, dict) and "images" not in usage:
            u: dict[str, object] = usage  # pyright: ignore[reportUnknownVariableType]
            counts = (u.get(k) for k in ("promptTokens", "replyTokens", "thoughtsTokens"))
            known = sum(v for v in counts if isinstance(v, int))
            return known + _guess(history[i + 1 :]) + _guess_of(draft)
    return _guess(history) + _guess_of(draft)


def _guess(entries: list[Entry]) -> int:
    return sum(_guess_of(e.content) for e in entries)


def _guess_of(content: Json) -> int:
    parts = content.get("parts")
    if not isinstance(parts, list):
        return len(json.dumps(content, separators=(",", ":"))) // 4
    listed = cast(list[object], parts)
    rest = [p for p in listed if not _is_image(p)]
    text = len(json.dumps(rest, separators=(",", ":"))) // 4
    return text + IMAGE_TOKENS * (len(listed) - len(rest))


def _is_image(part: object) -> bool:
    data = cast(Json, part).get("inlineData") if isinstance(part, dict) else None
    mime = cast(Json, data).get("mimeType") if isinstance(data, dict) else None
    return isinstance(mime, str) and mime.startswith("image/")


def too_long(message: str) -> bool:
    """Whether Gemini refused a request for passing the model's input token limit."""
    text = message.lower()
    return "token" in text and ("exceeds the maximum" in text or "too long" in text)


def exchanges(history: list[Entry]) -> list[list[Entry]]:
    """History grouped by exchange (a user turn, its tool rounds, the reply)."""
    groups: dict[int, list[Entry]] = {}
    for e in history:
        groups.setdefault(e.turn, []).append(e)
    return list(groups.values())


def split(history: list[Entry]) -> tuple[list[list[Entry]], list[list[Entry]]]:
    """The exchanges to summarise and the recent ones to keep as they are."""
    groups = exchanges(history)
    keep = KEEP_EXCHANGES if len(groups) > KEEP_EXCHANGES else 0
    return (groups[:-keep], groups[-keep:]) if keep else (groups, [])


def summary_exchange(summary: str, count: int) -> Staged:
    """The marked exchange that stands for `count` summarised ones."""
    user: Json = {
        "role": "user",
        "parts": [{"text": f"Summary of our conversation so far ({count} earlier exchanges):"
                   f"\n\n{summary}"}],
    }  # fmt: skip
    model: Json = {"role": "model", "parts": [{"text": ACKNOWLEDGEMENT}]}
    user_meta: Json = {
        "text": f"Summary of {count} earlier exchanges",
        "compacted": count,
        "attachments": [],
    }
    return [("user", user, user_meta), ("model", model, {"text": summary, "summary": True})]


def restaged(groups: list[list[Entry]]) -> list[Staged]:
    """Kept exchanges, ready to store again in the new conversation."""
    return [[(e.role, e.content, e.meta) for e in group] for group in groups]


async def over_threshold(
    ctx: TurnContext,
    history: list[Entry],
    draft: Json,
    input_limit: Callable[[], Awaitable[int | None]],
) -> bool:
    """Whether the next request would pass `compactThreshold` of the model's input limit."""
    threshold = ctx.settings.compact_threshold
    if not threshold or not history:
        return False
    limit = await input_limit()
    return limit is not None and estimate_tokens(history, draft) > threshold * limit


def retry_compacted(exc: BadRequestError, ctx: TurnContext, history: list[Entry]) -> bool:
    """Whether a refused turn should be compacted and sent once more (it was too long)."""
    return bool(history) and bool(ctx.settings.compact_threshold) and too_long(exc.message)


async def compact(
    client: GeminiClient, ctx: TurnContext, history: list[Entry], events: TurnEvents
) -> tuple[list[Entry], int]:
    """Summarise the oldest exchanges into one marked exchange; archive the originals.

    Returns the history to send and how many exchanges were summarised (0: none, e.g. because
    another daemon moved the conversation on meanwhile).
    """
    old, recent = split(history)
    if not old:
        return history, 0
    contents = [e.content for group in old for e in group]
    contents.append({"role": "user", "parts": [{"text": SUMMARY_REQUEST}]})
    request = wire.GenerateContentRequest(
        contents=[wire.Content.model_validate(c) for c in contents]
    )
    response = await client.generate_content(ctx.model, request, ctx.opts)
    summary = response.text().strip()
    if not summary:
        raise UpstreamUnavailableError(
            "The conversation is too long for the model and Gemini could not summarise it; "
            "start a new chat."
        )
    staged = [summary_exchange(summary, len(old)), *restaged(recent)]
    key = ctx.ws.key
    replaced = await asyncio.to_thread(ctx.store.replace, key, staged, history[-1].seq)
    fresh = await asyncio.to_thread(ctx.store.history, key)
    if not replaced:
        return fresh, 0
    await events.progress({"compacted": {"turns": len(old)}})
    return fresh, len(old)
