"""ChatService: the conversations of a daemon's folders, and one turn as one straight line.

A turn: read its context once (settings, store, model, request fields), take the folder's
lock, read the history, compact when it would not fit, run the exchange, commit it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

from pydantic import ValidationError

from . import compaction, exchange, jsonmode, pricing, redaction, transcript, uploads
from .context import ContextFiles, system_text
from .folderlock import InOrder
from .gemini import wire
from .gemini.client import GeminiClient
from .gemini.errors import BadRequestError, GeminiError, StorageError
from .journal import InFlight
from .live import JournaledEvents
from .protocol import FieldError, Json, objects
from .redaction import Redactions
from .settings import Settings
from .store import ConversationStore, Entry, History
from .turn import Turn, TurnContext, TurnEvents, call_options
from .workspaces import Workspace

log = logging.getLogger(__name__)
LIMITS_TTL = 300.0
"""Seconds a failure to learn a model's input limit is remembered."""


class TurnParamsError(FieldError):
    """A per-turn override that does not validate; becomes InvalidParams naming the field."""


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
        self._queues: dict[str, InOrder] = {}
        self._limits: dict[str, tuple[int | None, float]] = {}
        self.context = ContextFiles()
        self._masked: dict[str, tuple[str, list[str]]] = {}
        """Context files already scanned for secrets (a 100 kB file costs ~0.1 ms a scan)."""

    async def chat(self, turn: Turn, events: TurnEvents) -> Json:
        """Send a turn with the whole history; commit its contents only once the reply finished.

        A folder's turns in this daemon run in the order they arrived: the turn takes its
        place in the folder's queue before anything is awaited (reading the context file may
        hop to a thread for one turn and not for the next), and waits for it only when it
        needs the folder (it reports its start at once)."""
        async with self.queued(turn.ws.key) as place:
            return await self._chat(turn, events, place)

    async def _chat(self, turn: Turn, events: TurnEvents, place: Awaitable[None]) -> Json:
        ctx = await self.turn_context(turn.ws, turn.model, turn.generation_config)
        if turn.json_mode is not None:
            ctx = replace(ctx, fields=jsonmode.request_fields(ctx.fields, turn.json_mode))
        ctx.store.check_writable()
        await events.begin(ctx.model)
        prepared, uploaded = await uploads.upload_all(self._client, ctx, turn.prepared, events)
        user, meta = _user_content(replace(turn, prepared=prepared), ctx.redactions)
        if uploaded:
            meta["files"] = uploaded
        if ctx.redactions.found:
            await events.progress({"redacted": ctx.redactions.found})
        await place
        async with self.across_daemons(ctx.store, turn.ws.key, events):
            # Short SQLite work (an incremental read, a few-row insert) runs inline: a thread
            # hop per call costs more than the call.
            history = ctx.store.history(turn.ws.key)
            live = ctx.store.journal.start(turn.ws.key, str(meta["text"]), turn.prepared.shown)
            journaled = JournaledEvents(events, ctx.store.journal, live, turn.ws.key)
            try:
                ex, compacted = await self._exchange(ctx, history, (user, meta), journaled)
                ex.amend(ctx.model, await _reply_extras(ctx, history, ex, turn.json_mode))
                number = _commit(ctx, ex)
            except BaseException as exc:
                end_in_flight(ctx.store, ctx.ws.key, live, exc)
                raise
            finally:  # no journal write of the reply after its turn ended
                journaled.close()
        result: Json = {"workspace": turn.ws.uri, "turn": number, **ex.reply_fields(ctx.model)}
        if compacted:
            result["compacted"] = {"turns": compacted}
        if ctx.redactions.found:
            result["redacted"] = ctx.redactions.found
        return result

    @asynccontextmanager
    async def hold(
        self, store: ConversationStore, key: str, events: TurnEvents
    ) -> AsyncGenerator[None]:
        """The folder, for a turn or a change of its conversation: first in this daemon, then
        across daemons. A store that cannot be written refuses at once (its lock files could
        not be made either)."""
        async with self.queued(key) as place:
            await place
            async with self.across_daemons(store, key, events):
                yield

    @asynccontextmanager
    async def queued(self, key: str) -> AsyncGenerator[Awaitable[None]]:
        """The folder's place in this daemon's queue, taken on entering (nothing is awaited
        before): await it when the folder is needed, then hold it `across_daemons`."""
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = InOrder()
        async with queue.queued() as place:
            yield place

    @asynccontextmanager
    async def across_daemons(
        self, store: ConversationStore, key: str, events: TurnEvents
    ) -> AsyncGenerator[None]:
        store.check_writable()
        async with store.locks.hold(key, events.waiting):
            yield

    async def _exchange(
        self, ctx: TurnContext, history: list[Entry], user: tuple[Json, Json], events: TurnEvents
    ) -> tuple[exchange.Exchange, int]:
        """The exchange, compacting the history first when it would not fit (or, once, when
        Gemini refused it as too long); returns how many exchanges were summarised."""
        compacted = 0
        limit = lambda: self._input_limit(ctx)  # noqa: E731 - asked only when needed
        if await compaction.over_threshold(ctx, history, user[0], limit):
            history, compacted = await compaction.compact(self._client, ctx, history, events)
        try:
            return await exchange.run(self._client, ctx, _joined(history), user, events), compacted
        except BadRequestError as exc:
            if compacted or not compaction.retry_compacted(exc, ctx, history):
                raise
        history, compacted = await compaction.compact(self._client, ctx, history, events)
        return await exchange.run(self._client, ctx, _joined(history), user, events), compacted

    async def turn_context(
        self, ws: Workspace, model: str | None, generation_config: Json | None
    ) -> TurnContext:
        """Everything a turn reads before it starts, read once."""
        settings = self._settings()
        store = self._store()
        name = model or store.model(ws.key) or settings.model
        redactions = Redactions(settings.redact_secrets)
        known, context = self.context.recent(ws.root, settings.context_file)
        if not known:
            context = await asyncio.to_thread(self.context.read, ws.root, settings.context_file)
        if context is not None:
            masked = redactions.mask(context[1], redaction.CONTEXT_FILE, cache=self._masked)
            context = (context[0], masked)
        system = system_text(settings.system_instruction, context)
        fields: Json = {}
        if system.strip():
            fields["systemInstruction"] = {"role": "user", "parts": [{"text": system}]}
        fields["generationConfig"] = _generation_config(settings, generation_config)
        if settings.safety_settings:
            fields["safetySettings"] = settings.safety_settings
        if settings.tools:
            fields["tools"] = [exchange.TOOL_DECLARATIONS]
        return TurnContext(
            ws=ws,
            settings=settings,
            store=store,
            model=name,
            opts=call_options(settings),
            fields=fields,
            redactions=redactions,
            context_file=context[0] if context else None,
        )

    def store(self) -> ConversationStore:
        """The store of the current dataDir."""
        return self._store()

    def model_for(self, ws: Workspace) -> str:
        """The model the folder's next turn uses: its sticky choice, else the setting."""
        return self._store().model(ws.key) or self._settings().model

    async def _input_limit(self, ctx: TurnContext) -> int | None:
        """The model's input token limit, asked once; a failure is remembered for a while too."""
        now = time.monotonic()
        known = self._limits.get(ctx.model)
        if known is not None and (known[0] is not None or now - known[1] < LIMITS_TTL):
            return known[0]
        try:  # no retries: this only informs compaction, and a refusal is caught anyway
            info = await self._client.get_model(ctx.model, replace(ctx.opts, max_retries=0))
            limit = info.input_token_limit or None
        except GeminiError:
            limit = None
        self._limits[ctx.model] = (limit, now)
        return limit

    async def history(self, ws: Workspace) -> Json:
        """The active conversation as clients show it, the model the next turn will use, and
        the turn a daemon that died mid-turn left (`interrupted`)."""
        store = self._store()
        entries, interrupted = await asyncio.to_thread(_shown_history, store, ws.key)
        turns = [transcript.shown(e) for e in entries if not e.meta.get("hidden")]
        active = entries.conversation
        result: Json = {
            "workspace": ws.uri,
            "conversation": None if active is None else str(active),
            "turns": turns,
            "model": self.model_for(ws),
        }
        if interrupted is not None:
            result["interrupted"] = interrupted.interrupted()
        return result

    async def reset(self, ws: Workspace) -> Json:
        """Archive the active conversation; the next turn starts a fresh one."""
        store = self._store()
        async with self.hold(store, ws.key, TurnEvents()):
            entries = await asyncio.to_thread(store.history, ws.key)
            await asyncio.to_thread(store.reset, ws.key)
        cleared = len([e for e in entries if not e.meta.get("hidden")])
        return {"workspace": ws.uri, "cleared": cleared}

    async def set_model(self, ws: Workspace, model: str | None) -> Json:
        """Remember the model for a workspace (None: back to the setting)."""
        await asyncio.to_thread(self._store().set_model, ws.key, model)
        return {"workspace": ws.uri, "model": self.model_for(ws)}

    async def count_tokens(self, turn: Turn) -> Json:
        """The size of the next request (conversation, draft turn, system instruction, tools)
        against the model's input limit."""
        ctx = await self.turn_context(turn.ws, turn.model, None)
        history = await asyncio.to_thread(ctx.store.history, turn.ws.key)
        # As a turn sends it: an expired upload is a note; media still to upload is left out
        # (its part is a placeholder until the turn uploads it, which the API would refuse).
        contents: list[object] = [json.loads(uploads.sendable(e)) for e in history]
        user, _ = _user_content(turn, ctx.redactions)
        parts = [part for part in objects(user["parts"]) if part]
        if parts:
            contents.append({**user, "parts": parts})
        total = 0
        if contents:
            request: Json = {"model": f"models/{ctx.model}", "contents": contents, **ctx.fields}
            total = await self._client.count_tokens(ctx.model, request, ctx.opts)
        info = await self._client.get_model(ctx.model, ctx.opts)
        return {"totalTokens": total, "inputTokenLimit": info.input_token_limit, "model": ctx.model}


def _user_content(turn: Turn, redactions: Redactions) -> tuple[Json, Json]:
    """The user content sent upstream and what history shows of it, secrets masked in both."""
    parts = redaction.mask_parts(redactions, turn.prepared.parts, turn.prepared.sources)
    message = redactions.mask(turn.message, redaction.MESSAGE)
    if message.strip():
        parts.append({"text": message})
    return {"role": "user", "parts": parts}, {"text": message, "attachments": turn.prepared.shown}


def _generation_config(settings: Settings, override: Json | None) -> Json:
    """The setting's generationConfig (validated when it was set), with this turn's keys over it."""
    if not override:
        return settings.generation_config
    try:
        merged = wire.GenerationConfig.model_validate({**settings.generation_config, **override})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        message = f"{loc}: {err['msg']}" if loc else err["msg"]
        raise TurnParamsError(f"Invalid generationConfig: {message}", "generationConfig") from None
    return dict(wire.dump(merged))


async def _reply_extras(
    ctx: TurnContext, history: list[Entry], ex: exchange.Exchange, mode: jsonmode.JsonMode | None
) -> Json:
    """What a finished reply adds: its usage with the cost, and in JSON mode the check (in a
    thread: a long reply takes a while to parse and validate)."""
    cost = pricing.reply_cost(ctx.model, ctx.settings.prices, ex.metered)
    extras: Json = {"usage": pricing.priced(ex.usage, cost, history)}
    if mode is not None:
        extras["json"] = await asyncio.to_thread(jsonmode.check, ex.text, mode)
    return extras


def _joined(history: list[Entry]) -> tuple[bytes, ...]:
    """The history as sent: the store's joined JSON texts (kept and extended per commit), or,
    when it names uploads (an expired one becomes a note) or was not read from the store,
    rebuilt from the entries."""
    if isinstance(history, History) and not history.files:
        return history.joined
    return (",".join(uploads.sendable(e) for e in history).encode(),)


def end_in_flight(
    store: ConversationStore, key: str, live: InFlight, exc: BaseException, what: str = "turn"
) -> None:
    """A turn (or image request) that failed or was cancelled leaves nothing in the journal."""
    reason = "cancelled" if isinstance(exc, asyncio.CancelledError) else "failed"
    try:
        store.journal.end(live, key, reason)
    except StorageError as err:
        log.warning("Could not clear the journal of a %s %s: %s", reason, what, err)


def _shown_history(store: ConversationStore, key: str) -> tuple[History, InFlight | None]:
    """The active conversation (its id from the same read) and its interrupted turn."""
    return store.history(key), _interrupted(store, key)


def _interrupted(store: ConversationStore, key: str) -> InFlight | None:
    """The most recent journaled turn whose daemon is gone (its folder lock is free, or a newer
    turn holds it)."""
    rows = store.journal.in_flight(key)
    if not rows:
        return None
    if store.locks.held(key):
        rows = rows[:-1]  # the newest is the turn holding the folder now
    return rows[-1] if rows else None


def _commit(ctx: TurnContext, ex: exchange.Exchange) -> int:
    """Store the exchange; a store that refuses it still hands the finished reply back."""
    try:
        return ctx.store.commit(ctx.ws.key, ex.staged)
    except StorageError as exc:
        raise StorageError(exc.message, text=ex.text) from None
