"""ChatService: one turn = per-workspace lock, load history, build the request, call, commit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from pydantic import ValidationError

from .attachments import Prepared
from .gemini import wire
from .gemini.client import CallOptions, GeminiClient, RetryCallback
from .gemini.errors import BadRequestError, BlockedError, UpstreamUnavailableError, blocked_error
from .settings import Settings
from .store import ConversationStore, Entry
from .workspaces import Workspace

Json: TypeAlias = dict[str, object]
DeltaKind = Literal["text", "thought"]
DeltaCallback = Callable[[DeltaKind, str], Awaitable[None]]
MODELS_TTL = 300.0


class TurnParamsError(ValueError):
    """A per-turn override that does not validate; becomes InvalidParams naming the field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Turn:
    """One user message, ready to send."""

    ws: Workspace
    message: str
    prepared: Prepared
    model: str | None = None
    generation_config: Json | None = None


@dataclass
class _Reply:
    parts: list[Json]
    text: str
    thoughts: str
    finish_reason: str | None
    usage: wire.UsageMetadata | None
    last: wire.GenerateContentResponse | None


def call_options(s: Settings) -> CallOptions:
    """The Gemini client's per-call options from the current settings."""
    return CallOptions(
        api_key=s.key,
        base_url=s.base_url,
        timeout=s.request_timeout,
        max_retries=s.max_retries,
        max_retry_delay=s.max_retry_delay,
        stream_idle_timeout=s.stream_idle_timeout,
    )


def bare_model(model: str) -> str:
    """`models/x` -> `x`."""
    return model.removeprefix("models/")


def usage_json(usage: wire.UsageMetadata | None) -> Json:
    """PROTOCOL.md's usage object."""
    u = usage or wire.UsageMetadata()
    return {
        "promptTokens": u.prompt_token_count or 0,
        "replyTokens": u.candidates_token_count or 0,
        "thoughtsTokens": u.thoughts_token_count or 0,
        "totalTokens": u.total_token_count or 0,
    }


class ChatService:
    """Runs turns against Gemini and keeps each workspace's conversation in the store."""

    def __init__(
        self,
        client: GeminiClient,
        settings: Callable[[], Settings],
        store: Callable[[], ConversationStore],
    ) -> None:
        self._client = client
        self._settings = settings
        self._store = store
        self._locks: dict[str, asyncio.Lock] = {}
        self._models: tuple[float, tuple[str, str | None], list[wire.Model]] | None = None

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def chat(
        self,
        turn: Turn,
        on_delta: DeltaCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> Json:
        """Send a turn with the whole history; commit both contents only once the reply finished."""
        settings = self._settings()
        model = bare_model(turn.model or settings.model)
        config = self._generation_config(settings, turn.generation_config)
        user: Json = {
            "role": "user",
            "parts": [*turn.prepared.parts, *_message_parts(turn.message)],
        }
        async with self._lock(turn.ws.key):
            store = self._store()
            history = await asyncio.to_thread(store.history, turn.ws.key)
            request = self._request(settings, history, user, config)
            opts = call_options(settings)
            if on_delta is None:
                reply = await self._generate(model, request, opts, on_retry)
            else:
                reply = await self._stream(model, request, opts, on_delta, on_retry)
            usage = usage_json(reply.usage)
            user_meta: Json = {"text": turn.message, "attachments": turn.prepared.shown}
            model_meta: Json = {
                "text": reply.text,
                "thoughts": reply.thoughts,
                "usage": usage,
                "model": model,
                "finishReason": reply.finish_reason,
            }
            model_content: Json = {"role": "model", "parts": reply.parts}
            number = await asyncio.to_thread(
                store.commit_exchange, turn.ws.key, user, user_meta, model_content, model_meta
            )
        return {
            "workspace": turn.ws.uri,
            "turn": number,
            "text": reply.text,
            "thoughts": reply.thoughts,
            "finishReason": reply.finish_reason,
            "model": model,
            "usage": usage,
        }

    def _generation_config(
        self, settings: Settings, override: Json | None
    ) -> wire.GenerationConfig:
        try:
            base = wire.GenerationConfig.model_validate(settings.generation_config)
        except ValidationError as exc:
            raise BadRequestError(
                f"The gemini.generationConfig setting is invalid: {_first_error(exc)}"
            ) from None
        if not override:
            return base
        merged = {**base.model_dump(by_alias=True, exclude_none=True), **override}
        try:
            return wire.GenerationConfig.model_validate(merged)
        except ValidationError as exc:
            raise TurnParamsError(
                f"Invalid generationConfig: {_first_error(exc)}", "generationConfig"
            ) from None

    def _request(
        self, settings: Settings, history: list[Entry], user: Json, config: wire.GenerationConfig
    ) -> wire.GenerateContentRequest:
        contents = [e.content for e in history]
        contents.append(user)
        try:
            safety = [wire.SafetySetting.model_validate(s) for s in settings.safety_settings]
        except ValidationError as exc:
            raise BadRequestError(
                f"The gemini.safetySettings setting is invalid: {_first_error(exc)}"
            ) from None
        system = (
            wire.Content(role="user", parts=[wire.Part(text=settings.system_instruction)])
            if settings.system_instruction.strip()
            else None
        )
        return wire.GenerateContentRequest(
            contents=[wire.Content.model_validate(c) for c in contents],
            system_instruction=system,
            generation_config=config,
            safety_settings=safety or None,
        )

    async def _generate(
        self,
        model: str,
        request: wire.GenerateContentRequest,
        opts: CallOptions,
        on_retry: RetryCallback | None,
    ) -> _Reply:
        response = await self._client.generate_content(model, request, opts, on_retry)
        reply = _Reply([], "", "", None, response.usage_metadata, response)
        _absorb(reply, response)
        return _finish(reply)

    async def _stream(
        self,
        model: str,
        request: wire.GenerateContentRequest,
        opts: CallOptions,
        on_delta: DeltaCallback,
        on_retry: RetryCallback | None,
    ) -> _Reply:
        reply = _Reply([], "", "", None, None, None)
        stream = self._client.stream_generate_content(model, request, opts, on_retry)
        try:
            async for chunk in stream:
                for kind, piece in _absorb(reply, chunk):
                    await on_delta(kind, piece)
        finally:
            await stream.aclose()  # closes the upstream response at once on cancel
        return _finish(reply)

    async def history(self, ws: Workspace) -> Json:
        """The active conversation as clients show it."""
        entries = await asyncio.to_thread(self._store().history, ws.key)
        return {"workspace": ws.uri, "turns": [_shown(e) for e in entries]}

    async def reset(self, ws: Workspace) -> Json:
        """Archive the active conversation; the next turn starts a fresh one."""
        async with self._lock(ws.key):
            cleared = await asyncio.to_thread(self._store().reset, ws.key)
        return {"workspace": ws.uri, "cleared": cleared}

    async def models(self) -> Json:
        """The models that support generateContent (cached a few minutes)."""
        settings = self._settings()
        cache_key = (settings.base_url, settings.key)
        now = time.monotonic()
        if self._models and self._models[1] == cache_key and now - self._models[0] < MODELS_TTL:
            listed = self._models[2]
        else:
            listed = await self._client.list_models(call_options(settings))
            self._models = (now, cache_key, listed)
        return {
            "models": [
                {
                    "name": bare_model(m.name),
                    "displayName": m.display_name or bare_model(m.name),
                    "inputTokenLimit": m.input_token_limit,
                    "outputTokenLimit": m.output_token_limit,
                    "thinking": bool(m.thinking),
                }
                for m in listed
                if "generateContent" in (m.supported_generation_methods or [])
            ],
            "default": bare_model(settings.model),
        }

    async def count_tokens(
        self, ws: Workspace, message: str, prepared: Prepared, model: str | None
    ) -> Json:
        """The size of the conversation plus a draft turn, against the model's input limit."""
        settings = self._settings()
        name = bare_model(model or settings.model)
        history = await asyncio.to_thread(self._store().history, ws.key)
        contents = [wire.Content.model_validate(e.content) for e in history]
        parts = [*prepared.parts, *_message_parts(message)]
        if parts:
            contents.append(wire.Content.model_validate({"role": "user", "parts": parts}))
        opts = call_options(settings)
        total = await self._client.count_tokens(name, contents, opts) if contents else 0
        info = await self._client.get_model(name, opts)
        return {"totalTokens": total, "inputTokenLimit": info.input_token_limit, "model": name}


def _message_parts(message: str) -> list[Json]:
    return [{"text": message}] if message.strip() else []


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{loc}: {err['msg']}" if loc else err["msg"]


def _absorb(reply: _Reply, chunk: wire.GenerateContentResponse) -> list[tuple[DeltaKind, str]]:
    """Add one response (or stream chunk) to the reply; return its visible pieces."""
    pieces: list[tuple[DeltaKind, str]] = []
    reply.last = chunk
    if chunk.usage_metadata is not None:
        reply.usage = chunk.usage_metadata
    if not chunk.candidates:
        return pieces
    cand = chunk.candidates[0]
    if cand.finish_reason:
        reply.finish_reason = cand.finish_reason
    for part in cand.content.parts if cand.content and cand.content.parts else []:
        reply.parts.append(part.model_dump(by_alias=True, exclude_none=True, mode="json"))
        if part.text:
            kind: DeltaKind = "thought" if part.thought else "text"
            if kind == "thought":
                reply.thoughts += part.text
            else:
                reply.text += part.text
            pieces.append((kind, part.text))
    return pieces


def _finish(reply: _Reply) -> _Reply:
    """Insist on a finished, non-empty reply; a blocked one becomes BlockedError."""
    if reply.last is not None and not reply.text:
        blocked = blocked_error(reply.last)
        if blocked is not None:
            raise blocked
    if reply.finish_reason is None:
        raise UpstreamUnavailableError(
            "Gemini's reply did not finish; nothing was saved. Try again."
        )
    if not reply.parts:
        raise UpstreamUnavailableError(
            f"Gemini returned an empty reply (finishReason {reply.finish_reason}); "
            "nothing was saved. Try again or rephrase."
        )
    return reply


def _shown(e: Entry) -> Json:
    item: Json = {
        "role": e.role,
        "text": e.meta.get("text", ""),
        "attachments": e.meta.get("attachments", []),
        "time": e.time,
    }
    if e.role == "model":
        for name in ("usage", "thoughts", "model", "finishReason"):
            if e.meta.get(name) is not None:
                item[name] = e.meta[name]
    return item


__all__ = ["BlockedError", "ChatService", "Turn", "TurnParamsError"]
