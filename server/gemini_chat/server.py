"""The pygls server: lifecycle and handler registration. It imports only what answering
`initialize` needs; the handlers and the core (pydantic, httpx, the store) load right after."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage
from pygls.protocol.language_server import lsp_method

from . import __version__, logs
from . import protocol as P
from .workspaces import Workspaces

if TYPE_CHECKING:
    from .core import Core

log = logging.getLogger(__name__)
Handler = Callable[["GeminiChatServer", object], Awaitable[object]]


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
    """The daemon: workspaces now, the core (settings, store, chat service) on first use."""

    def __init__(self, cwd: Path | None = None, environ: dict[str, str] | None = None) -> None:
        super().__init__(  # pyright: ignore[reportUnknownMemberType]
            "gemini-chat-server",
            __version__,
            protocol_cls=GeminiChatProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Full,
        )
        self.workspaces = Workspaces(cwd)
        self._environ = environ
        self._options: object = None
        self._core: Core | None = None
        env = os.environ if environ is None else environ
        for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
            if env.get(name):
                logs.register_secret(env[name])

    @property
    def core(self) -> Core:
        """Settings, the Gemini client, the store and the chat service (loaded on first use)."""
        if self._core is None:
            from .core import Core

            self._core = Core(self._environ, self.warn)
            self._core.settings.update(self._options)
        return self._core

    def configure(self, options: object) -> None:
        """The client's `gemini` settings section, from initialize or a configuration change."""
        if isinstance(options, dict):
            section = cast(dict[str, object], options)
            inner = section.get("gemini", section)
            key = cast(dict[str, object], inner).get("apiKey") if isinstance(inner, dict) else None
            if isinstance(key, str):
                logs.register_secret(key)
        self._options = cast(object, options)
        if self._core is not None:
            self._core.settings.update(self._options)

    def open_text(self, uri: str) -> str | None:
        """The text of a document the client synced, else None."""
        from .workspaces import same_file

        for doc_uri, doc in self.workspace.text_documents.items():
            if doc_uri == uri or same_file(doc_uri, uri):
                return doc.source
        return None

    def send_progress(self, token: int | str, value: dict[str, object]) -> None:
        """A `$/progress` notification carrying a partial result."""
        self.protocol.notify(types.PROGRESS, types.ProgressParams(token, value))

    def work_begin(self, token: int | str, title: str) -> None:
        """Start LSP work done progress (editors show a spinner)."""
        self.work_done_progress.begin(token, types.WorkDoneProgressBegin(title, cancellable=True))

    def work_report(self, token: int | str, message: str) -> None:
        """Report on work done progress, e.g. "retrying in 4 s"."""
        self.work_done_progress.report(token, types.WorkDoneProgressReport(message=message))

    def work_end(self, token: int | str) -> None:
        """End work done progress."""
        self.work_done_progress.end(token, types.WorkDoneProgressEnd())

    def warn(self, text: str) -> None:
        """Tell the user about a problem with a setting, once."""
        log.warning("%s", text)
        self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, text))


def _register_lifecycle(server: GeminiChatServer) -> None:
    @server.feature(types.INITIALIZE)
    def on_initialize(ls: GeminiChatServer, params: types.InitializeParams) -> None:  # pyright: ignore[reportUnusedFunction]
        ls.configure(params.initialization_options)
        folders = [f.uri for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [params.root_uri]
        ls.workspaces.set_folders(folders)
        if params.process_id:
            _watch_parent(ls, params.process_id)
        # Load the core once the answer is on its way, so the first turn does not wait for it.
        asyncio.get_running_loop().call_soon(lambda: ls.core)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def on_config(ls: GeminiChatServer, params: types.DidChangeConfigurationParams) -> None:  # pyright: ignore[reportUnusedFunction]
        settings = cast(object, params.settings)
        if isinstance(settings, dict) and "gemini" in settings:
            ls.configure(cast(dict[str, object], settings)["gemini"])

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def on_folders(ls: GeminiChatServer, params: types.DidChangeWorkspaceFoldersParams) -> None:  # pyright: ignore[reportUnusedFunction]
        ls.workspaces.remove([f.uri for f in params.event.removed])
        ls.workspaces.add([f.uri for f in params.event.added])

    @server.feature(types.EXIT)
    def on_exit(ls: GeminiChatServer, *_: object) -> None:  # pyright: ignore[reportUnusedFunction]
        code = 0 if ls.protocol._shutdown else 1  # pyright: ignore[reportPrivateUsage]
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
    for method in P.METHODS:
        server.feature(method)(_lazy(method))
    return server


def _lazy(method: str) -> Handler:
    """A handler that imports the real one on first call (keeps start-up light)."""

    async def run(ls: GeminiChatServer, params: object) -> object:
        from .handlers import HANDLERS

        return await HANDLERS[method](ls, params)

    run.__name__ = method.removeprefix("gemini/")
    return run
