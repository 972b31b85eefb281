"""The `gemini/*` handlers and the daemon's heavy half (imported after `initialize` is answered)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from . import __version__, attachments, logs, protocol
from . import params as P
from .chat import ChatService, Turn, TurnParamsError
from .gemini.client import GeminiClient, RetryNotice
from .gemini.errors import BlockedError, GeminiError
from .settings import SettingsManager
from .store import ConversationStore
from .workspaces import Workspace, WorkspaceError, uri_to_path

if TYPE_CHECKING:
    from .server import GeminiChatServer

log = logging.getLogger(__name__)
Json: TypeAlias = dict[str, object]


class Core:
    """Settings, the Gemini client, the stores and the chat service of one daemon."""

    def __init__(self, server: GeminiChatServer, environ: dict[str, str] | None) -> None:
        self.settings = SettingsManager(environ, warn=server.warn)
        self.gemini = GeminiClient()
        self._stores: dict[Path, ConversationStore] = {}
        self.chat = ChatService(self.gemini, lambda: self.settings.current, self.store)

    def store(self) -> ConversationStore:
        """The store in the current dataDir (opened on first use)."""
        data_dir = self.settings.current.data_dir
        if data_dir not in self._stores:
            self._stores[data_dir] = ConversationStore(data_dir)
        return self._stores[data_dir]


def open_text(ls: GeminiChatServer, uri: str) -> str | None:
    """The text of a document the client synced, else None."""
    for doc_uri, doc in ls.workspace.text_documents.items():
        if doc_uri == uri or _same_file(doc_uri, uri):
            return doc.source
    return None


def _same_file(a: str, b: str) -> bool:
    try:
        return uri_to_path(a).resolve() == uri_to_path(b).resolve()
    except WorkspaceError:
        return False


def invalid_params(message: str, field: str) -> JsonRpcException:
    """InvalidParams naming the field."""
    return JsonRpcException(message, protocol.INVALID_PARAMS, protocol.invalid_params_data(field))


def request_failed(err: GeminiError) -> JsonRpcException:
    """RequestFailed with PROTOCOL.md's data.reason."""
    data: Json = dict(err.to_data())
    if isinstance(err, BlockedError) and err.categories:
        data["categories"] = list(err.categories)
    return JsonRpcException(logs.redact(err.message), protocol.REQUEST_FAILED, data)


Handler: TypeAlias = Callable[["GeminiChatServer", object], Awaitable[object]]


def mapped(fn: Handler) -> Handler:
    """Map our exceptions to JSON-RPC errors, once, at the edge; let cancellation through."""

    async def run(ls: GeminiChatServer, params: object) -> object:
        try:
            return await fn(ls, params)
        except (P.ParamsError, WorkspaceError, attachments.AttachmentError, TurnParamsError) as exc:
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
                "Internal error in gemini-chat-server; see its log", -32603
            ) from None

    run.__name__ = fn.__name__
    return run


def _ws(ls: GeminiChatServer, uri: str | None) -> Workspace:
    return ls.workspaces.resolve(uri)


async def chat(ls: GeminiChatServer, raw: object) -> object:
    """gemini/chat: one turn, streamed when a partialResultToken is given."""
    params = P.parse(P.ChatParams, raw)
    ws = _ws(ls, params.workspace)
    if not params.message.strip() and not params.attachments:
        raise P.ParamsError("message is empty; type a question or attach something", "message")
    prepared = attachments.prepare(params.attachments, ws, lambda uri: open_text(ls, uri))
    turn = Turn(ws, params.message, prepared, params.model, params.generation_config)
    partial = params.partial_result_token
    work = params.work_done_token

    async def on_progress(value: Json) -> None:
        assert partial is not None
        ls.protocol.notify(types.PROGRESS, types.ProgressParams(partial, value))

    async def on_retry(notice: RetryNotice) -> None:
        if work is not None:
            report = types.WorkDoneProgressReport(message=notice.describe())
            ls.work_done_progress.report(work, report)

    if work is not None:
        model = ls.core.chat.model_for(ws, params.model)
        begin = types.WorkDoneProgressBegin(title=f"Gemini ({model})", cancellable=True)
        ls.work_done_progress.begin(work, begin)
    try:
        return await ls.core.chat.chat(turn, on_progress if partial is not None else None, on_retry)
    finally:
        if work is not None:
            ls.work_done_progress.end(work, types.WorkDoneProgressEnd())


async def history(ls: GeminiChatServer, raw: object) -> object:
    """gemini/history: the active conversation, oldest first."""
    params = P.parse(P.WorkspaceParams, raw)
    return await ls.core.chat.history(_ws(ls, params.workspace))


async def reset(ls: GeminiChatServer, raw: object) -> object:
    """gemini/reset: archive the conversation and start afresh."""
    params = P.parse(P.WorkspaceParams, raw)
    return await ls.core.chat.reset(_ws(ls, params.workspace))


async def models(ls: GeminiChatServer, raw: object) -> object:
    """gemini/models: the models usable with generateContent."""
    P.parse(P.EmptyParams, raw)
    return await ls.core.chat.models()


async def count_tokens(ls: GeminiChatServer, raw: object) -> object:
    """gemini/countTokens: the size of the next request against the model's limit."""
    params = P.parse(P.CountTokensParams, raw)
    ws = _ws(ls, params.workspace)
    prepared = attachments.prepare(params.attachments, ws, lambda uri: open_text(ls, uri))
    return await ls.core.chat.count_tokens(ws, params.message, prepared, params.model)


async def set_model(ls: GeminiChatServer, raw: object) -> object:
    """gemini/setModel: remember the model for a workspace."""
    params = P.parse(P.SetModelParams, raw)
    return await ls.core.chat.set_model(_ws(ls, params.workspace), params.model)


async def status(ls: GeminiChatServer, raw: object) -> object:
    """gemini/status: what the daemon runs with; never the key."""
    params = P.parse(P.WorkspaceParams, raw)
    s = ls.core.settings.current
    ws = _ws(ls, params.workspace)
    context = ls.core.chat.context.read(ws.root, s.context_file)
    return {
        "version": __version__,
        "model": s.model,
        "baseUrl": s.base_url,
        "apiKeySet": bool(s.key),
        "dataDir": str(s.data_dir),
        "workspaces": ls.workspaces.uris(),
        "contextFiles": [str(context[0])] if context else [],
    }


HANDLERS: dict[str, Handler] = {
    protocol.CHAT: mapped(chat),
    protocol.HISTORY: mapped(history),
    protocol.RESET: mapped(reset),
    protocol.MODELS: mapped(models),
    protocol.COUNT_TOKENS: mapped(count_tokens),
    protocol.STATUS: mapped(status),
    protocol.SET_MODEL: mapped(set_model),
}
