"""A model answer as it arrives: parts kept verbatim, text and thoughts apart, usage summed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from .gemini import wire
from .gemini.errors import UpstreamUnavailableError, blocked_error

Json: TypeAlias = dict[str, object]


USAGE_KEYS = ("promptTokens", "replyTokens", "thoughtsTokens", "totalTokens")


@dataclass
class Round:
    """One model answer (a whole response, or a stream's chunks)."""

    parts: list[Json] = field(default_factory=list[Json])
    text: str = ""
    thoughts: str = ""
    finish_reason: str | None = None
    usage: wire.UsageMetadata | None = None
    last: wire.GenerateContentResponse | None = None


@dataclass
class Exchange:
    """Everything one turn produced, across its tool rounds."""

    staged: list[tuple[str, Json, Json]]
    text: str = ""
    thoughts: str = ""
    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(USAGE_KEYS, 0))
    tool_calls: list[Json] = field(default_factory=list[Json])
    images: list[Json] = field(default_factory=list[Json])
    last_parts: list[Json] = field(default_factory=list[Json])


def usage_json(usage: wire.UsageMetadata | None) -> dict[str, int]:
    """PROTOCOL.md's usage object."""
    u = usage or wire.UsageMetadata()
    return {
        "promptTokens": u.prompt_token_count or 0,
        "replyTokens": u.candidates_token_count or 0,
        "thoughtsTokens": u.thoughts_token_count or 0,
        "totalTokens": u.total_token_count or 0,
    }


def absorb(rnd: Round, chunk: wire.GenerateContentResponse) -> list[tuple[str, str]]:
    """Add one response (or stream chunk) to the round; return its visible pieces."""
    pieces: list[tuple[str, str]] = []
    rnd.last = chunk
    if chunk.usage_metadata is not None:
        rnd.usage = chunk.usage_metadata
    if not chunk.candidates:
        return pieces
    cand = chunk.candidates[0]
    if cand.finish_reason:
        rnd.finish_reason = cand.finish_reason
    for part in cand.content.parts if cand.content and cand.content.parts else []:
        rnd.parts.append(part.model_dump(by_alias=True, exclude_none=True, mode="json"))
        if part.text:
            if part.thought:
                rnd.thoughts += part.text
                pieces.append(("thought", part.text))
            else:
                rnd.text += part.text
                pieces.append(("text", part.text))
    return pieces


def finish(rnd: Round) -> Round:
    """Insist on a finished, non-empty answer; a blocked one becomes BlockedError."""
    if rnd.last is not None and not rnd.text:
        blocked = blocked_error(rnd.last)
        if blocked is not None:
            raise blocked
    if rnd.finish_reason is None:
        raise UpstreamUnavailableError(
            "Gemini's reply did not finish; nothing was saved. Try again."
        )
    if not rnd.parts:
        raise UpstreamUnavailableError(
            f"Gemini returned an empty reply (finishReason {rnd.finish_reason}); "
            "nothing was saved. Try again or rephrase."
        )
    return rnd


def add_round(ex: Exchange, rnd: Round) -> None:
    """Fold one round into the exchange; thoughts of separate rounds stay separate paragraphs."""
    ex.text += rnd.text
    if ex.thoughts and rnd.thoughts:
        ex.thoughts += "\n\n"
    ex.thoughts += rnd.thoughts
    ex.finish_reason = rnd.finish_reason
    ex.last_parts = rnd.parts
    for key, value in usage_json(rnd.usage).items():
        ex.usage[key] += value
