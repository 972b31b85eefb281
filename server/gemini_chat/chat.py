"""ChatService: one turn = per-workspace lock, load history, build the request, call, commit."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeAlias, cast

from pydantic import ValidationError

from . import compaction, tools
from .attachments import Prepared
from .context import ContextFiles, system_text
from .gemini import wire
from .gemini.client import CallOptions, GeminiClient, RetryCallback
from .gemini.errors import (
    BadRequestError,
    GeminiError,
    UpstreamUnavailableError,
)
from .images import save_image
from .replies import Exchange, Round, absorb, add_round, finish
from .settings import Settings
from .store import ConversationStore, Entry
from .workspaces import Workspace

Json: TypeAlias = dict[str, object]
ProgressCallback = Callable[[Json], Awaitable[None]]
"""Receives `$/progress` values: {"text"}, {"thought"}, {"tool"}, {"compacted"}, {"image"}."""
MODELS_TTL = 300.0
TOOL_DECLARATIONS = wire.dump(
    wire.Tool.model_validate({"functionDeclarations": tools.DECLARATIONS})
)
"""The workspace tools as the API expects them (validated once, at import)."""


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
        self._limits: dict[str, tuple[int | None, float]] = {}
        self.context = ContextFiles()

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    async def chat(
        self,
        turn: Turn,
        on_progress: ProgressCallback | None = None,
        on_retry: RetryCallback | None = None,
    ) -> Json:
        """Send a turn with the whole history; commit its contents only once the reply finished."""
        settings = self._settings()
        config = self._generation_config(settings, turn.generation_config)
        user: Json = {
            "role": "user",
            "parts": [*turn.prepared.parts, *_message_parts(turn.message)],
        }
        user_meta: Json = {"text": turn.message, "attachments": turn.prepared.shown}
        store = self._store()
        async with self._lock(turn.ws.key):
            model = self.model_for(turn.ws, turn.model)
            # Short SQLite work (an incremental read, a few-row insert) runs inline: a thread hop
            # per call costs more than the call.
            history = store.history(turn.ws.key)
            base = self._base_request(settings, turn.ws, config)
            opts = call_options(settings)
            compacted = 0
            if await self._over_threshold(settings, model, history, user, opts):
                history, compacted = await self._compact(turn.ws, model, history, opts, on_progress)
            try:
                ex = await self._exchange(turn.ws, model, base, history, user, user_meta, opts,
                                          on_progress, on_retry)  # fmt: skip
            except BadRequestError as exc:
                if compacted or not history or not settings.compact_threshold:
                    raise
                if not compaction.too_long(exc.message):
                    raise
                history, compacted = await self._compact(turn.ws, model, history, opts, on_progress)
                ex = await self._exchange(turn.ws, model, base, history, user, user_meta, opts,
                                          on_progress, on_retry)  # fmt: skip
            await self._keep_images(ex, settings.data_dir, on_progress)
            self._stage_reply(ex, model)
            number = store.commit(turn.ws.key, ex.staged)
        return self._result(turn.ws, number, model, ex, compacted)

    def model_for(self, ws: Workspace, override: str | None) -> str:
        """The model a turn uses: its own override, else the folder's choice, else the setting."""
        if override:
            return bare_model(override)
        sticky = self._store().model(ws.key)
        return bare_model(sticky or self._settings().model)

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

    def system_instruction(self, settings: Settings, ws: Workspace) -> str:
        """The settings' instruction plus the workspace's context file."""
        context = self.context.read(ws.root, settings.context_file)
        return system_text(settings.system_instruction, context)

    def _base_request(
        self, settings: Settings, ws: Workspace, config: wire.GenerationConfig
    ) -> Json:
        """Everything of a request but its contents, as wire JSON (validated, then dumped once)."""
        try:
            safety = [wire.SafetySetting.model_validate(s) for s in settings.safety_settings]
        except ValidationError as exc:
            raise BadRequestError(
                f"The gemini.safetySettings setting is invalid: {_first_error(exc)}"
            ) from None
        system = self.system_instruction(settings, ws)
        body: Json = dict(
            wire.dump(
                wire.GenerateContentRequest(
                    contents=[],
                    system_instruction=(
                        wire.Content(role="user", parts=[wire.Part(text=system)])
                        if system.strip()
                        else None
                    ),
                    generation_config=config,
                    safety_settings=safety or None,
                )
            )
        )
        del body["contents"]  # spliced in per request
        if settings.tools:
            body["tools"] = [TOOL_DECLARATIONS]
        return body

    async def _exchange(
        self,
        ws: Workspace,
        model: str,
        base: Json,
        history: list[Entry],
        user: Json,
        user_meta: Json,
        opts: CallOptions,
        on_progress: ProgressCallback | None,
        on_retry: RetryCallback | None,
    ) -> Exchange:
        """Call Gemini, running the tool calls it asks for, until it answers."""
        ex = Exchange(staged=[("user", user, user_meta)])
        raw = [e.raw or _dumps(e.content) for e in history]
        raw.append(_dumps(user))
        settings = self._settings()
        calls = 0
        while True:
            # Stored contents are sent as they were kept: their JSON text, parts verbatim.
            extra: Json = dict(base)
            if calls >= settings.max_tool_calls and "tools" in base:
                extra["toolConfig"] = {"functionCallingConfig": {"mode": "NONE"}}
            request = _encode(extra, raw)
            if on_progress is None:
                rnd = await self._generate(model, request, opts, on_retry)
            else:
                rnd = await self._stream(model, request, opts, on_progress, on_retry)
            add_round(ex, rnd)
            asked = [p for p in rnd.parts if "functionCall" in p]
            if not asked or "tools" not in base:
                return ex
            answers = await self._run_tools(ws, asked, calls, settings, ex, on_progress)
            calls += len(asked)
            model_content: Json = {"role": "model", "parts": rnd.parts}
            reply_content: Json = {"role": "user", "parts": answers}
            raw += [_dumps(model_content), _dumps(reply_content)]
            hidden: Json = {"hidden": True}
            ex.staged += [("model", model_content, hidden), ("user", reply_content, hidden)]

    async def _run_tools(
        self,
        ws: Workspace,
        asked: list[Json],
        done: int,
        settings: Settings,
        ex: Exchange,
        on_progress: ProgressCallback | None,
    ) -> list[Json]:
        """Run the calls of one model answer; past the cap, tell the model to answer instead."""
        answers: list[Json] = []
        for i, part in enumerate(asked):
            name, args = tools.call_args(part)
            if done + i >= settings.max_tool_calls:
                result = tools.ToolResult(
                    {"error": "Tool call limit reached for this turn; answer with what you have."},
                    f"{name} skipped: tool call limit reached",
                )
            else:
                result = await asyncio.to_thread(tools.run, ws, name, args)
            call = cast(Json, part["functionCall"])
            response: Json = {"name": name, "response": result.response}
            if call.get("id"):
                response["id"] = call["id"]
            answers.append({"functionResponse": response})
            shown: Json = {"name": name, "summary": result.summary}
            ex.tool_calls.append(shown)
            if on_progress is not None:
                await on_progress({"tool": shown})
        return answers

    async def _generate(
        self,
        model: str,
        request: bytes,
        opts: CallOptions,
        on_retry: RetryCallback | None,
    ) -> Round:
        response = await self._client.generate_content(model, request, opts, on_retry)
        rnd = Round()
        absorb(rnd, response)
        return finish(rnd)

    async def _stream(
        self,
        model: str,
        request: bytes,
        opts: CallOptions,
        on_progress: ProgressCallback,
        on_retry: RetryCallback | None,
    ) -> Round:
        rnd = Round()
        stream = self._client.stream_generate_content(model, request, opts, on_retry)
        try:
            async for chunk in stream:
                for kind, piece in absorb(rnd, chunk):
                    await on_progress({kind: piece})
        finally:
            await stream.aclose()  # closes the upstream response at once on cancel
        return finish(rnd)

    async def _keep_images(
        self, ex: Exchange, data_dir: Path, on_progress: ProgressCallback | None
    ) -> None:
        """Save the reply's image parts as files; tell the client where."""
        for part in ex.last_parts:
            blob = part.get("inlineData")
            if not isinstance(blob, dict):
                continue
            b = cast(Json, blob)
            mime, data = str(b.get("mimeType", "")), str(b.get("data", ""))
            if not mime.startswith("image/"):
                continue
            path = await asyncio.to_thread(save_image, data_dir, mime, data)
            image: Json = {"mimeType": mime, "path": str(path)}
            ex.images.append(image)
            if on_progress is not None:
                await on_progress({"image": image})

    def _stage_reply(self, ex: Exchange, model: str) -> None:
        meta = _reply_fields(ex, model)
        ex.staged.append(("model", {"role": "model", "parts": ex.last_parts}, meta))

    def _result(self, ws: Workspace, number: int, model: str, ex: Exchange, compacted: int) -> Json:
        result: Json = {"workspace": ws.uri, "turn": number, **_reply_fields(ex, model)}
        if compacted:
            result["compacted"] = {"turns": compacted}
        return result

    async def _over_threshold(
        self, settings: Settings, model: str, history: list[Entry], user: Json, opts: CallOptions
    ) -> bool:
        if not settings.compact_threshold or not history:
            return False
        limit = await self._input_limit(model, opts)
        if limit is None:
            return False
        return compaction.estimate_tokens(history, user) > settings.compact_threshold * limit

    async def _input_limit(self, model: str, opts: CallOptions) -> int | None:
        """The model's input token limit, asked once; a failure is remembered for a while too."""
        now = time.monotonic()
        known = self._limits.get(model)
        if known is not None and (known[0] is not None or now - known[1] < MODELS_TTL):
            return known[0]
        try:  # no retries: this only informs compaction, and a refusal is caught anyway
            info = await self._client.get_model(model, replace(opts, max_retries=0))
            limit = info.input_token_limit or None
        except GeminiError:
            limit = None
        self._limits[model] = (limit, now)
        return limit

    async def _compact(
        self,
        ws: Workspace,
        model: str,
        history: list[Entry],
        opts: CallOptions,
        on_progress: ProgressCallback | None,
    ) -> tuple[list[Entry], int]:
        """Summarise the oldest exchanges into one marked exchange; archive the originals."""
        old, recent = compaction.split(history)
        if not old:
            return history, 0
        contents = [e.content for group in old for e in group]
        contents.append({"role": "user", "parts": [{"text": compaction.SUMMARY_REQUEST}]})
        request = wire.GenerateContentRequest(
            contents=[wire.Content.model_validate(c) for c in contents]
        )
        response = await self._client.generate_content(model, request, opts)
        summary = response.text().strip()
        if not summary:
            raise UpstreamUnavailableError(
                "The conversation is too long for the model and Gemini could not summarise it; "
                "start a new chat."
            )
        staged = [compaction.summary_exchange(summary, len(old)), *compaction.restaged(recent)]
        store = self._store()
        replaced = await asyncio.to_thread(store.replace, ws.key, staged, history[-1].seq)
        fresh = await asyncio.to_thread(store.history, ws.key)
        if not replaced:  # another daemon moved the conversation on; go on without compacting
            return fresh, 0
        if on_progress is not None:
            await on_progress({"compacted": {"turns": len(old)}})
        return fresh, len(old)

    async def history(self, ws: Workspace) -> Json:
        """The active conversation as clients show it, and the model the next turn will use."""
        entries = await asyncio.to_thread(self._store().history, ws.key)
        model = self.model_for(ws, None)
        shown = [_shown(e) for e in entries if not e.meta.get("hidden")]
        return {"workspace": ws.uri, "turns": shown, "model": model}

    async def reset(self, ws: Workspace) -> Json:
        """Archive the active conversation; the next turn starts a fresh one."""
        async with self._lock(ws.key):
            entries = await asyncio.to_thread(self._store().history, ws.key)
            await asyncio.to_thread(self._store().reset, ws.key)
        cleared = len([e for e in entries if not e.meta.get("hidden")])
        return {"workspace": ws.uri, "cleared": cleared}

    async def set_model(self, ws: Workspace, model: str | None) -> Json:
        """Remember the model for a workspace (None: back to the setting)."""
        await asyncio.to_thread(
            self._store().set_model, ws.key, bare_model(model) if model else None
        )
        return {"workspace": ws.uri, "model": self.model_for(ws, None)}

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
        name = self.model_for(ws, model)
        history = await asyncio.to_thread(self._store().history, ws.key)
        contents = [wire.Content.model_validate(e.content) for e in history]
        parts = [*prepared.parts, *_message_parts(message)]
        if parts:
            contents.append(wire.Content.model_validate({"role": "user", "parts": parts}))
        opts = call_options(settings)
        total = await self._client.count_tokens(name, contents, opts) if contents else 0
        info = await self._client.get_model(name, opts)
        return {"totalTokens": total, "inputTokenLimit": info.input_token_limit, "model": name}


def _reply_fields(ex: Exchange, model: str) -> Json:
    """What the result and the stored reply both say; toolCalls and images only when any."""
    fields: Json = {
        "text": ex.text,
        "thoughts": ex.thoughts,
        "finishReason": ex.finish_reason,
        "model": model,
        "usage": ex.usage,
    }
    if ex.tool_calls:
        fields["toolCalls"] = ex.tool_calls
    if ex.images:
        fields["images"] = ex.images
    return fields


def _dumps(content: Json) -> str:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


def _encode(fields: Json, contents: list[str]) -> bytes:
    """A request body: the contents' JSON texts spliced in, then the other fields.

    `fields` must not hold "contents" (JSON's last duplicate key would win).
    """
    rest = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    tail = "," + rest[1:] if fields else "}"
    return f'{{"contents":[{",".join(contents)}]{tail}'.encode()


def _message_parts(message: str) -> list[Json]:
    return [{"text": message}] if message.strip() else []


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{loc}: {err['msg']}" if loc else err["msg"]


def _shown(e: Entry) -> Json:
    item: Json = {
        "role": e.role,
        "text": e.meta.get("text", ""),
        "attachments": e.meta.get("attachments", []),
        "time": e.time,
    }
    names = ("usage", "thoughts", "model", "finishReason", "toolCalls", "images")
    for name in ("compacted",) if e.role == "user" else names:
        if e.meta.get(name) is not None:
            item[name] = e.meta[name]
    return item
