"""One exchange with Gemini: the calls of a turn, its tool rounds, and the reply as it arrives.

A round is one model answer (a response, or a stream's chunks), its parts kept verbatim; an
exchange folds the rounds of a turn together and stages every content to commit.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TypeAlias, cast

from . import redaction, tools
from .gemini import wire
from .gemini.api import Spliced
from .gemini.client import GeminiClient
from .gemini.errors import UpstreamUnavailableError, blocked_error
from .images import save_image
from .protocol import Json
from .redaction import Redactions
from .turn import TurnContext, TurnEvents, dumps, encode

Staged: TypeAlias = list[tuple[str, Json, Json]]
"""Contents to commit as (role, content, what clients are shown of it)."""
USAGE_KEYS = ("promptTokens", "replyTokens", "thoughtsTokens", "totalTokens", "cachedTokens")
TOOL_DECLARATIONS = wire.dump(
    wire.Tool.model_validate({"functionDeclarations": tools.DECLARATIONS})
)
"""The workspace tools as the API expects them (validated once, at import)."""
NO_MORE_TOOLS: Json = {"functionCallingConfig": {"mode": "NONE"}}


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

    staged: Staged
    text: str = ""
    thoughts: str = ""
    finish_reason: str | None = None
    usage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(USAGE_KEYS, 0))
    tool_calls: list[Json] = field(default_factory=list[Json])
    images: list[Json] = field(default_factory=list[Json])
    last_parts: list[Json] = field(default_factory=list[Json])
    metered: list[wire.UsageMetadata] = field(default_factory=list[wire.UsageMetadata])
    """Each call's usage as the API gave it (a turn is priced call by call)."""
    extra: Json = field(default_factory=dict[str, object])
    """Fields the turn adds once the exchange is over (`json`, the usage with its cost)."""

    def reply_fields(self, model: str) -> Json:
        """What the result and the stored reply both say; toolCalls and images only when any."""
        fields: Json = {
            "text": self.text,
            "thoughts": self.thoughts,
            "finishReason": self.finish_reason,
            "model": model,
            "usage": self.usage,
        }
        if self.tool_calls:
            fields["toolCalls"] = self.tool_calls
        if self.images:
            fields["images"] = self.images
        fields.update(self.extra)
        return fields

    def amend(self, model: str, fields: Json) -> None:
        """Add fields to the reply (or replace some): the result and the stored model turn."""
        self.extra.update(fields)
        role, content, _ = self.staged[-1]
        self.staged[-1] = (role, content, self.reply_fields(model))


def usage_json(usage: wire.UsageMetadata | None) -> dict[str, int]:
    """PROTOCOL.md's usage object."""
    u = usage or wire.UsageMetadata()
    return {
        "promptTokens": u.prompt_token_count or 0,
        "replyTokens": u.candidates_token_count or 0,
        "thoughtsTokens": u.thoughts_token_count or 0,
        "totalTokens": u.total_token_count or 0,
        "cachedTokens": u.cached_content_token_count or 0,
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
    ex.metered.append(rnd.usage or wire.UsageMetadata())
    for key, value in usage_json(rnd.usage).items():
        ex.usage[key] += value


async def run(
    client: GeminiClient,
    ctx: TurnContext,
    history: tuple[bytes, ...],
    user: tuple[Json, Json],
    events: TurnEvents,
) -> Exchange:
    """Call Gemini with the history (its stored JSON texts, joined) and the user content,
    running the tool calls it asks for, until it answers; the reply's images are saved."""
    ex = Exchange(staged=[("user", *user)])
    raw = [dumps(user[0])]
    calls = 0
    while True:
        fields = ctx.fields
        if calls >= ctx.settings.max_tool_calls and "tools" in fields:
            fields = {**fields, "toolConfig": NO_MORE_TOOLS}
        rnd = await _call(client, ctx, encode(fields, history, raw), events)
        add_round(ex, rnd)
        asked = [p for p in rnd.parts if "functionCall" in p]
        if not asked or "tools" not in ctx.fields:
            break
        answers = await _run_tools(ctx, asked, calls, ex, events)
        calls += len(asked)
        model_content: Json = {"role": "model", "parts": rnd.parts}
        reply_content: Json = {"role": "user", "parts": answers}
        raw += [dumps(model_content), dumps(reply_content)]
        hidden: Json = {"hidden": True}
        ex.staged += [("model", model_content, hidden), ("user", reply_content, hidden)]
    await _keep_images(ex, ctx, events)
    ex.staged.append(
        ("model", {"role": "model", "parts": ex.last_parts}, ex.reply_fields(ctx.model))
    )
    return ex


async def _call(
    client: GeminiClient, ctx: TurnContext, request: Spliced, events: TurnEvents
) -> Round:
    rnd = Round()
    if not events.streaming:
        absorb(rnd, await client.generate_content(ctx.model, request, ctx.opts, events.retry))
        return finish(rnd)
    stream = client.stream_generate_content(ctx.model, request, ctx.opts, events.retry)
    try:
        async for chunk in stream:
            for kind, piece in absorb(rnd, chunk):
                await events.progress({kind: piece})
    finally:
        await stream.aclose()  # closes the upstream response at once on cancel
    return finish(rnd)


async def _run_tools(
    ctx: TurnContext,
    asked: list[Json],
    done: int,
    ex: Exchange,
    events: TurnEvents,
) -> list[Json]:
    """Run the calls of one model answer; past the cap, tell the model to answer instead."""
    answers: list[Json] = []
    for i, part in enumerate(asked):
        name, args = tools.call_args(part)
        if done + i >= ctx.settings.max_tool_calls:
            result = tools.ToolResult(
                {"error": "Tool call limit reached for this turn; answer with what you have."},
                f"{name} skipped: tool call limit reached",
            )
        else:
            result = await asyncio.to_thread(tools.run, ctx.ws, name, args)
        call = cast(Json, part["functionCall"])
        response: Json = {"name": name, "response": _masked(result.response, name, ctx.redactions)}
        if call.get("id"):
            response["id"] = call["id"]
        answers.append({"functionResponse": response})
        shown: Json = {"name": name, "summary": result.summary}
        ex.tool_calls.append(shown)
        await events.progress({"tool": shown})
    return answers


def _masked(response: Json, name: str, redactions: Redactions) -> Json:
    """A tool's answer with secrets in its text fields masked."""
    where = redaction.tool(name)
    return {k: redactions.mask(v, where) if isinstance(v, str) else v for k, v in response.items()}


async def _keep_images(ex: Exchange, ctx: TurnContext, events: TurnEvents) -> None:
    """Save the reply's image parts as files; tell the client where."""
    for part in ex.last_parts:
        blob = part.get("inlineData")
        if not isinstance(blob, dict):
            continue
        b = cast(Json, blob)
        mime, data = str(b.get("mimeType", "")), str(b.get("data", ""))
        if not mime.startswith("image/"):
            continue
        path = await asyncio.to_thread(save_image, ctx.settings.data_dir, mime, data)
        image: Json = {"mimeType": mime, "path": str(path)}
        ex.images.append(image)
        await events.progress({"image": image})
