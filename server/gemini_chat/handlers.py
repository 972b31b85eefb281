"""The `gemini/*` handlers and the daemon's heavy half (imported after `initialize` is answered)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeAlias

from pygls.exceptions import JsonRpcException

from . import __version__, attachments, jsonmode, logs, params, protocol
from .attachments import Prepared
from .core import Core
from .gemini.client import RetryNotice
from .gemini.errors import GeminiError
from .imagegen import ImageRequest
from .protocol import Json
from .turn import Turn, TurnEvents
from .workspaces import Workspace, Workspaces

log = logging.getLogger(__name__)
ProgressToken: TypeAlias = int | str


class Daemon(Protocol):
    """What the handlers need of the JSON-RPC edge (the pygls server implements it)."""

    @property
    def core(self) -> Core:
        """The daemon's core, loaded on first use."""
        ...

    @property
    def workspaces(self) -> Workspaces:
        """The folders the client opened."""
        ...

    def open_text(self, uri: str) -> str | None:
        """The text of a document the client synced, else None."""
        ...

    def send_progress(self, token: ProgressToken, value: Json) -> None:
        """A `$/progress` notification (partial results)."""
        ...

    def work_begin(self, token: ProgressToken, title: str) -> None:
        """Start LSP work done progress."""
        ...

    def work_report(self, token: ProgressToken, message: str) -> None:
        """Report on LSP work done progress."""
        ...

    def work_end(self, token: ProgressToken) -> None:
        """End LSP work done progress."""
        ...


def invalid_params(message: str, field: str) -> JsonRpcException:
    """InvalidParams naming the field."""
    return JsonRpcException(message, protocol.INVALID_PARAMS, protocol.invalid_params_data(field))


def request_failed(err: GeminiError) -> JsonRpcException:
    """RequestFailed with PROTOCOL.md's data.reason."""
    return JsonRpcException(logs.redact(err.message), protocol.REQUEST_FAILED, err.to_data())


Handler: TypeAlias = Callable[[Daemon, object], Awaitable[object]]


def mapped(fn: Handler) -> Handler:
    """Map our exceptions to JSON-RPC errors, once, at the edge; let cancellation through."""

    async def run(ls: Daemon, raw: object) -> object:
        try:
            return await fn(ls, raw)
        except protocol.FieldError as exc:
            raise invalid_params(str(exc), exc.field) from None
        except GeminiError as exc:
            log.info("%s failed: %s (%s)", fn.__name__, exc.reason, exc.message)
            raise request_failed(exc) from None
        except JsonRpcException:
            raise
        except asyncio.CancelledError:
            log.info("%s cancelled", fn.__name__)
            raise
        except Exception:
            log.exception("%s failed unexpectedly", fn.__name__)
            raise JsonRpcException(
                "Internal error in gemini-chat-server; see its log", protocol.INTERNAL_ERROR
            ) from None

    run.__name__ = fn.__name__
    return run


class _ClientEvents(TurnEvents):
    """A turn's events as LSP progress: `$/progress` pieces and work done progress."""

    def __init__(self, ls: Daemon, partial: ProgressToken | None, work: ProgressToken | None):
        self.streaming = partial is not None
        self._ls = ls
        self._partial = partial
        self._work = work
        self._countdown: asyncio.Task[None] | None = None

    async def begin(self, model: str) -> None:
        if self._work is not None:
            self._ls.work_begin(self._work, f"Gemini ({model})")

    async def waiting(self) -> None:
        if self._work is not None:
            self._ls.work_report(self._work, "waiting for another editor's turn")

    async def progress(self, value: Json) -> None:
        self._stop_countdown()
        if self._partial is not None:
            self._ls.send_progress(self._partial, value)

    async def retry(self, notice: RetryNotice) -> None:
        self._stop_countdown()
        if self._work is not None:
            self._ls.work_report(self._work, notice.describe())
            self._countdown = asyncio.create_task(self._count_down(self._work, notice))

    async def _count_down(self, work: ProgressToken, notice: RetryNotice) -> None:
        """After "rate limited: retrying in 12 s": 11 s, 10 s... while the wait lasts."""
        end = asyncio.get_running_loop().time() + notice.delay
        left = notice.seconds
        while left > 1:
            left -= 1
            await asyncio.sleep(max(0.0, end - left - asyncio.get_running_loop().time()))
            self._ls.work_report(work, notice.describe(left))

    def _stop_countdown(self) -> None:
        if self._countdown is not None:
            self._countdown.cancel()
            self._countdown = None

    def end(self) -> None:
        self._stop_countdown()
        if self._work is not None:
            self._ls.work_end(self._work)


async def _prepare(ls: Daemon, atts: list[params.Attachment], ws: Workspace) -> Prepared:
    """Attachments as parts: the editor's unsaved texts taken here, files read off the loop."""
    if not atts:
        return Prepared()
    texts: dict[str, str] = {}
    for att in atts:
        if isinstance(att, params.UriAttachment) and (text := ls.open_text(att.uri)) is not None:
            texts[att.uri] = text
    return await asyncio.to_thread(attachments.prepare, atts, ws, texts.get)


async def chat(ls: Daemon, raw: object) -> object:
    """gemini/chat: one turn, streamed when a partialResultToken is given."""
    p = params.parse(params.ChatParams, raw)
    ws = ls.workspaces.resolve(p.workspace)
    if not p.message.strip() and not p.attachments:
        raise params.ParamsError("message is empty; type a question or attach something", "message")
    mode = None
    if p.json_mode is not None:  # checked before anything is read or sent (imports jsonschema)
        mode = await asyncio.to_thread(jsonmode.prepare, p.json_mode.schema_)
    prepared = await _prepare(ls, p.attachments, ws)
    turn = Turn(ws, p.message, prepared, p.model, p.generation_config, mode)
    events = _ClientEvents(ls, p.partial_result_token, p.work_done_token)
    try:
        return await ls.core.chat.chat(turn, events)
    finally:
        events.end()


async def generate_image(ls: Daemon, raw: object) -> object:
    """gemini/generateImage: Imagen images of a prompt, as an exchange of the conversation."""
    p = params.parse(params.GenerateImageParams, raw)
    ws = ls.workspaces.resolve(p.workspace)
    if not p.prompt.strip():
        raise params.ParamsError("prompt is empty; say what to draw", "prompt")
    req = ImageRequest(ws, p.prompt, p.model, p.number_of_images, p.aspect_ratio)
    events = _ClientEvents(ls, p.partial_result_token, p.work_done_token)
    try:
        return await ls.core.images.generate(req, events)
    finally:
        events.end()


async def history(ls: Daemon, raw: object) -> object:
    """gemini/history: the active conversation, oldest first."""
    p = params.parse(params.WorkspaceParams, raw)
    return await ls.core.chat.history(ls.workspaces.resolve(p.workspace))


async def reset(ls: Daemon, raw: object) -> object:
    """gemini/reset: archive the conversation and start afresh."""
    p = params.parse(params.WorkspaceParams, raw)
    return await ls.core.chat.reset(ls.workspaces.resolve(p.workspace))


async def models(ls: Daemon, raw: object) -> object:
    """gemini/models: the models usable with generateContent."""
    params.parse(params.EmptyParams, raw)
    return await ls.core.models.list()


async def count_tokens(ls: Daemon, raw: object) -> object:
    """gemini/countTokens: the size of the next request against the model's limit."""
    p = params.parse(params.CountTokensParams, raw)
    ws = ls.workspaces.resolve(p.workspace)
    prepared = await _prepare(ls, p.attachments, ws)
    return await ls.core.chat.count_tokens(Turn(ws, p.message, prepared, p.model))


async def set_model(ls: Daemon, raw: object) -> object:
    """gemini/setModel: remember the model for a workspace."""
    p = params.parse(params.SetModelParams, raw)
    ws = ls.workspaces.resolve(p.workspace)
    if p.model is not None:
        await ls.core.models.check(p.model)
    return await ls.core.chat.set_model(ws, p.model)


async def status(ls: Daemon, raw: object) -> object:
    """gemini/status: what the daemon runs with; never the key."""
    p = params.parse(params.WorkspaceParams, raw)
    s = ls.core.settings.current
    ws = ls.workspaces.resolve(p.workspace)
    context = await asyncio.to_thread(ls.core.chat.context.read, ws.root, s.context_file)
    result: Json = {
        "version": __version__,
        "model": s.model,
        "baseUrl": s.base_url,
        "apiKeySet": bool(s.key),
        "dataDir": str(s.data_dir),
        "workspaces": ls.workspaces.uris(),
        "contextFiles": [str(context[0])] if context else [],
    }
    limited = ls.core.limits.status()
    if limited is not None:
        result["rateLimit"] = limited
    return result


async def list_conversations(ls: Daemon, raw: object) -> object:
    """gemini/conversations: the folder's conversations, most recently updated first."""
    p = params.parse(params.ConversationsParams, raw)
    return await ls.core.library.conversations(
        ls.workspaces.resolve(p.workspace), p.limit, p.offset
    )


async def open_conversation(ls: Daemon, raw: object) -> object:
    """gemini/openConversation: make a conversation the folder's active one."""
    p = params.parse(params.ConversationParams, raw)
    return await ls.core.library.open_conversation(ls.workspaces.resolve(p.workspace), p.id)


async def rename_conversation(ls: Daemon, raw: object) -> object:
    """gemini/renameConversation: give a conversation a title."""
    p = params.parse(params.RenameParams, raw)
    ws = ls.workspaces.resolve(p.workspace)
    return await ls.core.library.rename_conversation(ws, p.id, p.title)


async def delete_conversation(ls: Daemon, raw: object) -> object:
    """gemini/deleteConversation: remove a conversation for good."""
    p = params.parse(params.ConversationParams, raw)
    return await ls.core.library.delete_conversation(ls.workspaces.resolve(p.workspace), p.id)


async def export(ls: Daemon, raw: object) -> object:
    """gemini/export: a conversation as Markdown."""
    p = params.parse(params.ExportParams, raw)
    return await ls.core.library.export(ls.workspaces.resolve(p.workspace), p.id)


HANDLERS: dict[str, Handler] = {
    protocol.CHAT: mapped(chat),
    protocol.HISTORY: mapped(history),
    protocol.RESET: mapped(reset),
    protocol.MODELS: mapped(models),
    protocol.COUNT_TOKENS: mapped(count_tokens),
    protocol.STATUS: mapped(status),
    protocol.SET_MODEL: mapped(set_model),
    protocol.CONVERSATIONS: mapped(list_conversations),
    protocol.OPEN_CONVERSATION: mapped(open_conversation),
    protocol.RENAME_CONVERSATION: mapped(rename_conversation),
    protocol.DELETE_CONVERSATION: mapped(delete_conversation),
    protocol.EXPORT: mapped(export),
    protocol.GENERATE_IMAGE: mapped(generate_image),
}
