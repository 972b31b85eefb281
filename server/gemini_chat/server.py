"""The pygls server: lifecycle, handler registration, mapping exceptions to JSON-RPC errors."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import Any, TypeAlias, cast

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage
from pygls.protocol.language_server import lsp_method

from . import __version__, attachments, logs
from . import protocol as P
from .chat import ChatService, Turn, TurnParamsError
from .gemini.client import GeminiClient, RetryNotice
from .gemini.errors import BlockedError, GeminiError
from .settings import SettingsManager
from .store import ConversationStore
from .workspaces import Workspace, WorkspaceError, Workspaces

log = logging.getLogger(__name__)
Json: TypeAlias = dict[str, object]


class GeminiChatProtocol(LanguageServerProtocol):
    """LSP protocol that hands `gemini/*` params over raw and refuses requests before initialize."""

    initialized = False

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Keep `gemini/*` params as raw JSON; pydantic validates them in the handlers."""
        method = data.get("method")
        if isinstance(method, str) and method.startswith("gemini/") and "jsonrpc" in data:
            params = data.get("params")
            if "id" in data:
                return JsonRPCRequestMessage(
                    id=data["id"], method=method, jsonrpc=data["jsonrpc"], params=params
                )
            return JsonRPCNotification(method=method, jsonrpc=data["jsonrpc"], params=params)
        return super().structure_message(data)

    def handle_message(self, message: Any) -> None:
        """Answer requests that come before `initialize` with ServerNotInitialized."""
        method = getattr(message, "method", None)
        if (
            not self.initialized
            and method not in (types.INITIALIZE, types.EXIT)
            and getattr(message, "id", None) is not None
            and method is not None
        ):
            self._send_response(
                message.id,
                error=types.ResponseError(
                    code=P.SERVER_NOT_INITIALIZED, message="The server is not initialized yet"
                ),
            )
            return
        super().handle_message(message)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """Answer `initialize` with the geminiChat experimental capability."""
        result = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {
            "geminiChat": {
                "protocolVersion": P.PROTOCOL_VERSION,
                "methods": P.METHODS,
                "streaming": True,
            }
        }
        self.initialized = True
        return result


class GeminiChatServer(LanguageServer):
    """The daemon: settings, workspaces, the store and the chat service."""

    def __init__(self, cwd: Path | None = None, environ: dict[str, str] | None = None) -> None:
        super().__init__(  # pyright: ignore[reportUnknownMemberType]
            "gemini-chat-server",
            __version__,
            protocol_cls=GeminiChatProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Full,
        )
        self.settings = SettingsManager(environ)
        self.workspaces = Workspaces(cwd)
        self.gemini = GeminiClient()
        self._stores: dict[Path, ConversationStore] = {}
        self.chat = ChatService(self.gemini, lambda: self.settings.current, self.store)
        self.exit_code: int | None = None

    def store(self) -> ConversationStore:
        """The store in the current dataDir (opened on first use)."""
        data_dir = self.settings.current.data_dir
        if data_dir not in self._stores:
            self._stores[data_dir] = ConversationStore(data_dir)
        return self._stores[data_dir]

    def warn(self, text: str) -> None:
        """Tell the user about a problem with a setting, once."""
        log.warning("%s", text)
        self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, text))

    def open_text(self, uri: str) -> str | None:
        """The text of a document the client synced, else None."""
        for doc_uri, doc in self.workspace.text_documents.items():
            if doc_uri == uri or _same_file(doc_uri, uri):
                return doc.source
        return None


def _same_file(a: str, b: str) -> bool:
    try:
        from .workspaces import uri_to_path

        return uri_to_path(a).resolve() == uri_to_path(b).resolve()
    except WorkspaceError:
        return False


def invalid_params(message: str, field: str) -> JsonRpcException:
    """InvalidParams naming the field."""
    return JsonRpcException(message, P.INVALID_PARAMS, P.invalid_params_data(field))


def request_failed(err: GeminiError) -> JsonRpcException:
    """RequestFailed with PROTOCOL.md's data.reason."""
    data: Json = dict(err.to_data())
    if isinstance(err, BlockedError) and err.categories:
        data["categories"] = list(err.categories)
    return JsonRpcException(logs.redact(err.message), P.REQUEST_FAILED, data)


Handler: TypeAlias = Callable[[GeminiChatServer, object], Awaitable[object]]


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
    prepared = attachments.prepare(params.attachments, ws, ls.open_text)
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
        model = params.model or (await ls.chat.history(ws))["model"]
        begin = types.WorkDoneProgressBegin(title=f"Gemini ({model})", cancellable=True)
        ls.work_done_progress.begin(work, begin)
    try:
        return await ls.chat.chat(turn, on_progress if partial is not None else None, on_retry)
    finally:
        if work is not None:
            ls.work_done_progress.end(work, types.WorkDoneProgressEnd())


async def history(ls: GeminiChatServer, raw: object) -> object:
    """gemini/history: the active conversation, oldest first."""
    params = P.parse(P.WorkspaceParams, raw)
    return await ls.chat.history(_ws(ls, params.workspace))


async def reset(ls: GeminiChatServer, raw: object) -> object:
    """gemini/reset: archive the conversation and start afresh."""
    params = P.parse(P.WorkspaceParams, raw)
    return await ls.chat.reset(_ws(ls, params.workspace))


async def models(ls: GeminiChatServer, raw: object) -> object:
    """gemini/models: the models usable with generateContent."""
    P.parse(P.EmptyParams, raw)
    return await ls.chat.models()


async def count_tokens(ls: GeminiChatServer, raw: object) -> object:
    """gemini/countTokens: the size of the next request against the model's limit."""
    params = P.parse(P.CountTokensParams, raw)
    ws = _ws(ls, params.workspace)
    prepared = attachments.prepare(params.attachments, ws, ls.open_text)
    return await ls.chat.count_tokens(ws, params.message, prepared, params.model)


async def set_model(ls: GeminiChatServer, raw: object) -> object:
    """gemini/setModel: remember the model for a workspace."""
    params = P.parse(P.SetModelParams, raw)
    return await ls.chat.set_model(_ws(ls, params.workspace), params.model)


async def status(ls: GeminiChatServer, raw: object) -> object:
    """gemini/status: what the daemon runs with; never the key."""
    params = P.parse(P.WorkspaceParams, raw)
    s = ls.settings.current
    ws = _ws(ls, params.workspace)
    context = ls.chat.context.read(ws.root, s.context_file)
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
    P.CHAT: chat,
    P.HISTORY: history,
    P.RESET: reset,
    P.MODELS: models,
    P.COUNT_TOKENS: count_tokens,
    P.STATUS: status,
    P.SET_MODEL: set_model,
}


def _register_lifecycle(server: GeminiChatServer) -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: GeminiChatServer, params: types.InitializeParams) -> None:  # pyright: ignore[reportUnusedFunction]
        ls.settings.set_warn(ls.warn)
        ls.settings.update(params.initialization_options)
        folders = [f.uri for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [params.root_uri]
        ls.workspaces.set_folders(folders)
        if params.process_id:
            _watch_parent(ls, params.process_id)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_config(ls: GeminiChatServer, params: types.DidChangeConfigurationParams) -> None:  # pyright: ignore[reportUnusedFunction]
        settings = cast(object, params.settings)
        if isinstance(settings, dict) and "gemini" in settings:
            ls.settings.update(cast(dict[str, object], settings)["gemini"])

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def on_folders(ls: GeminiChatServer, params: types.DidChangeWorkspaceFoldersParams) -> None:  # pyright: ignore[reportUnusedFunction]
        ls.workspaces.remove([f.uri for f in params.event.removed])
        ls.workspaces.add([f.uri for f in params.event.added])

    @server.feature(types.EXIT)
    def on_exit(ls: GeminiChatServer, *_: object) -> None:  # pyright: ignore[reportUnusedFunction]
        code = 0 if ls.protocol._shutdown else 1  # pyright: ignore[reportPrivateUsage]
        ls.exit_code = code
        logging.shutdown()
        os._exit(code)  # the stdin reader thread would otherwise keep the process alive


def _watch_parent(ls: GeminiChatServer, pid: int) -> None:
    async def watch() -> None:
        while True:
            await asyncio.sleep(2)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                log.info("The editor (pid %d) is gone; exiting", pid)
                os._exit(1)
            except PermissionError:
                continue

    ls.background = asyncio.get_running_loop().create_task(watch())  # pyright: ignore[reportAttributeAccessIssue]


def create_server(
    cwd: Path | None = None, environ: dict[str, str] | None = None
) -> GeminiChatServer:
    """Build a fresh daemon with every handler registered."""
    server = GeminiChatServer(cwd, environ)
    _register_lifecycle(server)
    for method, handler in HANDLERS.items():
        server.feature(method)(mapped(handler))
    return server
