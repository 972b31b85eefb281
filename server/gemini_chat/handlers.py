"""The `gemini/*` handlers and the daemon's heavy half (imported after `initialize` is answered)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeAlias

from pygls.exceptions import JsonRpcException

from . import __version__, attachments, logs, protocol
from . import params as P
from .chat import Turn, TurnParamsError
from .core import Core
from .gemini.client import RetryNotice
from .gemini.errors import BlockedError, GeminiError
from .workspaces import Workspace, WorkspaceError, Workspaces

log = logging.getLogger(__name__)
Json: TypeAlias = dict[str, object]
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
    data: Json = dict(err.to_data())
    if isinstance(err, BlockedError) and err.categories:
        data["categories"] = list(err.categories)
    return JsonRpcException(logs.redact(err.message), protocol.REQUEST_FAILED, data)


Handler: TypeAlias = Callable[[Daemon, object], Awaitable[object]]


def mapped(fn: Handler) -> Handler:
    """Map our exceptions to JSON-RPC errors, once, at the edge; let cancellation through."""

    async def run(ls: Daemon, params: object) -> object:
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


def _ws(ls: Daemon, uri: str | None) -> Workspace:
    return ls.workspaces.resolve(uri)


async def chat(ls: Daemon, raw: object) -> object:
    """gemini/chat: one turn, streamed when a partialResultToken is given."""
    params = P.parse(P.ChatParams, raw)
    ws = _ws(ls, params.workspace)
    if not params.message.strip() and not params.attachments:
        raise P.ParamsError("message is empty; type a question or attach something", "message")
    prepared = attachments.prepare(params.attachments, ws, ls.open_text)
    turn = Turn(ws, params.message, prepared, params.model, params.generation_config)
    partial = params.partial_result_token
    work = params.work_done_token

    async def on_progress(value: Json) -> None:
        assert partial is not None
        ls.send_progress(partial, value)

    async def on_retry(notice: RetryNotice) -> None:
        if work is not None:
            ls.work_report(work, notice.describe())

    if work is not None:
        ls.work_begin(work, f"Gemini ({ls.core.chat.model_for(ws, params.model)})")
    try:
        return await ls.core.chat.chat(turn, on_progress if partial is not None else None, on_retry)
    finally:
        if work is not None:
            ls.work_end(work)


async def history(ls: Daemon, raw: object) -> object:
    """gemini/history: the active conversation, oldest first."""
    params = P.parse(P.WorkspaceParams, raw)
    return await ls.core.chat.history(_ws(ls, params.workspace))


async def reset(ls: Daemon, raw: object) -> object:
    """gemini/reset: archive the conversation and start afresh."""
    params = P.parse(P.WorkspaceParams, raw)
    return await ls.core.chat.reset(_ws(ls, params.workspace))


async def models(ls: Daemon, raw: object) -> object:
    """gemini/models: the models usable with generateContent."""
    P.parse(P.EmptyParams, raw)
    return await ls.core.chat.models()


async def count_tokens(ls: Daemon, raw: object) -> object:
    """gemini/countTokens: the size of the next request against the model's limit."""
    params = P.parse(P.CountTokensParams, raw)
    ws = _ws(ls, params.workspace)
    prepared = attachments.prepare(params.attachments, ws, ls.open_text)
    return await ls.core.chat.count_tokens(ws, params.message, prepared, params.model)


async def set_model(ls: Daemon, raw: object) -> object:
    """gemini/setModel: remember the model for a workspace."""
    params = P.parse(P.SetModelParams, raw)
    return await ls.core.chat.set_model(_ws(ls, params.workspace), params.model)


async def status(ls: Daemon, raw: object) -> object:
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
