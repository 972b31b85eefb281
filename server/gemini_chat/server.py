"""The pygls server: lifecycle and handler registration. It imports only what answering
`initialize` needs; the handlers and the core (pydantic, httpx, the store) load right after."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage
from pygls.protocol.language_server import lsp_method

from . import __version__, early, envelope, logs, protocol
from .exiting import exit_now
from .framing import Refusal
from .workspaces import Workspaces

if TYPE_CHECKING:
    from .core import Core

log = logging.getLogger(__name__)
Handler = Callable[["GeminiChatServer", object], Awaitable[object]]


OWN_METHODS = frozenset(protocol.METHODS)
"""Requests run by the daemon's own dispatch: create_server registers each as a coroutine."""


@dataclass(frozen=True, slots=True)
class GeminiRequest:
    """A `gemini/*` request with its params as raw JSON, run without pygls' dispatch."""

    id: int | str
    method: str
    params: object


class GeminiChatProtocol(LanguageServerProtocol):
    """LSP protocol that hands `gemini/*` params over raw and answers every request exactly
    once: ServerNotInitialized before `initialize`, InvalidRequest after `shutdown` or for a
    notification sent with an id, never with a traceback. Notifications of request methods
    (and, as LSP says, any but `exit` before `initialize`) are dropped."""

    initialized = False
    _writes: ClassVar[set[asyncio.Future[Any]]] = set()

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        self._answered: set[int | str] = set()
        """Requests already answered (early.py): pygls' answer to them is dropped."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        """A Refusal to answer, None to drop, or the pygls message (`gemini/*` params stay raw
        JSON; pydantic validates them in the handlers)."""
        if "jsonrpc" not in data:
            return data  # a nested object: pygls' TCP reader calls this for every object
        refusal = envelope.check(data) or self._refusal(data)
        if refusal is not None:
            return refusal
        if self._dropped(data):
            return None
        method = data.get("method")
        try:
            if isinstance(method, str) and method.startswith("gemini/"):
                if "id" in data:
                    if method in OWN_METHODS:
                        return GeminiRequest(data["id"], method, data.get("params"))
                    return JsonRPCRequestMessage(
                        id=data["id"],
                        method=method,
                        jsonrpc=data["jsonrpc"],
                        params=data.get("params"),
                    )
                return JsonRPCNotification(
                    method=method, jsonrpc=data["jsonrpc"], params=data.get("params")
                )
            return super().structure_message(data)
        except JsonRpcException as exc:
            log.warning("Could not read a %s message: %s", method or "response", exc)
            if "id" in data and method is not None:
                return Refusal(protocol.INVALID_PARAMS, f"Invalid params for {method}", data["id"])
            return None

    def _refusal(self, data: dict[str, Any]) -> Refusal | None:
        """The error answer to a request that must not run now, if any."""
        method, msg_id = data.get("method"), data.get("id")
        if not isinstance(method, str) or msg_id is None:
            return None
        if envelope.method_kind(method) == "notification":
            message = f"Invalid request: {method} is a notification; send it without an id"
            return Refusal(protocol.INVALID_REQUEST, message, msg_id)
        if self._shutdown:
            return Refusal(
                protocol.INVALID_REQUEST, "Invalid request: the server is shutting down", msg_id
            )
        if not self.initialized and method != types.INITIALIZE:
            return Refusal(
                protocol.SERVER_NOT_INITIALIZED, "The server is not initialized yet", msg_id
            )
        return None

    def _dropped(self, data: dict[str, Any]) -> bool:
        """Whether a notification is ignored: one of a request method runs nothing (no billed
        turn without an id), and before `initialize` only `exit` counts."""
        method = data.get("method")
        if "id" in data or not isinstance(method, str):
            return False
        if envelope.method_kind(method) == "request":
            log.warning(
                "Ignoring %s sent as a notification: it is a request and needs an id", method
            )
            return True
        if not self.initialized and method != types.EXIT:
            log.warning("Ignoring the %s notification: the server is not initialized yet", method)
            return True
        return False

    @property
    def shut_down(self) -> bool:
        """Whether `shutdown` was answered (the exit status is then 0)."""
        return self._shutdown

    def handle_message(self, message: Any) -> None:
        """Answer a Refusal, drop None, run a `gemini/*` request, hand anything else to pygls."""
        if isinstance(message, GeminiRequest):
            self._run(message)
        elif isinstance(message, Refusal):
            self.refuse(message)
        elif message is not None:
            super().handle_message(message)

    def _run(self, request: GeminiRequest) -> None:
        """Start a `gemini/*` handler as a task, answered when it ends.

        What pygls would do, without its per-message costs (runtime Protocol checks, handler
        introspection, the response's cattrs round trip): the task is kept in pygls'
        `_request_futures`, so `$/cancelRequest` and `shutdown` cancel it as they would.
        """
        handler = self._features()[request.method]
        context = contextvars.copy_context()
        context.run(self._ctx_msg_id.set, request.id)
        task = asyncio.get_running_loop().create_task(handler(request.params), context=context)
        self._request_futures[request.id] = cast(Any, task)
        task.add_done_callback(partial(self._answer, request.id))

    def _features(self) -> dict[str, Callable[[object], Coroutine[Any, Any, object]]]:
        """The registered handlers, the server bound (every `gemini/*` one is a coroutine)."""
        return cast(dict[str, Callable[[object], Coroutine[Any, Any, object]]], self.fm.features)

    def _answer(self, msg_id: int | str, task: asyncio.Task[object]) -> None:
        """The one answer of a `gemini/*` request: its result, or its error."""
        self._request_futures.pop(msg_id, None)
        if task.cancelled():
            message = f'Request with id "{msg_id}" is canceled'
            error: dict[str, object] = {"code": protocol.REQUEST_CANCELLED, "message": message}
        elif (exc := task.exception()) is None:
            self._send_data({"jsonrpc": "2.0", "id": msg_id, "result": task.result()})
            return
        elif isinstance(exc, JsonRpcException):
            error = {"code": exc.code, "message": exc.message}
            if exc.data is not None:
                error["data"] = exc.data
        else:
            log.error("A %s request failed", type(exc).__name__, exc_info=exc)
            error = {"code": protocol.INTERNAL_ERROR, "message": logs.redact(str(exc))}
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": error})

    def send_notification(self, method: str, params: object) -> None:
        """A notification whose params are plain JSON, written as it is (no cattrs)."""
        self._send_data({"jsonrpc": "2.0", "method": method, "params": params})

    def refuse(self, refusal: Refusal) -> None:
        """Send the error answer for a frame or message that is not handled."""
        error = {"code": refusal.code, "message": refusal.message}
        self._send_data({"jsonrpc": "2.0", "id": refusal.msg_id, "error": error})

    def _send_response(
        self, msg_id: Any, result: Any = None, error: types.ResponseError | None = None
    ) -> None:
        """pygls' answer, without the traceback it puts in an InternalError (the log has it)."""
        if msg_id in self._answered:
            self._answered.discard(msg_id)
            if error is not None:
                log.error("An early-answered request failed in pygls: %s", error.message)
            return
        data = cast(object, error.data) if error is not None else None
        if error is not None and isinstance(data, dict) and "traceback" in data:
            error = types.ResponseError(code=error.code, message=logs.redact(error.message))
        super()._send_response(msg_id, result, error)

    def _send_data(self, data: Any) -> None:
        """Send one frame. Unlike pygls, an answer that cannot be serialised (too deep, not
        JSON) becomes an InternalError answer, so the request still gets its one response."""
        if not data or self.writer is None:
            return
        try:
            body = json.dumps(data, default=self._serialize_message)
        except Exception:
            log.exception("Could not serialise an outgoing message")
            msg_id = envelope.answer_id(data)
            if msg_id is None:
                return
            error = {
                "code": protocol.INTERNAL_ERROR,
                "message": "Internal error: unserialisable answer",
            }
            body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "error": error})
        raw = body.encode(self.CHARSET)
        if self._include_headers:
            header = f"Content-Length: {len(raw)}\r\nContent-Type: {self.CONTENT_TYPE}; "
            raw = f"{header}charset={self.CHARSET}\r\n\r\n".encode() + raw
        written = self.writer.write(raw)
        if inspect.isawaitable(written):  # the TCP writer: keep the write alive until done
            task = asyncio.ensure_future(written)
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """Answer `initialize` with the geminiChat experimental capability."""
        result = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {"geminiChat": early.capability()}
        self.initialized = True
        return result

    def run_answered(self, message: dict[str, Any]) -> None:
        """Run a request whose answer was already written (`initialize`, answered by early.py
        before pygls loaded): pygls' state becomes what it would be, its answer is dropped.
        Params pygls cannot read are cut down to what the daemon reads of them."""
        structured = self.structure_message(message)
        if isinstance(structured, Refusal):
            log.warning("initialize: %s; keeping the folders and options only", structured.message)
            structured = self.structure_message(
                {**message, "params": early.essentials(message.get("params"))}
            )
        self._answered.add(message["id"])
        self.handle_message(structured)


class GeminiChatServer(LanguageServer):
    """The daemon: workspaces now, the core (settings, store, chat service) on first use."""

    def __init__(self, cwd: Path | None = None, environ: dict[str, str] | None = None) -> None:
        super().__init__(  # pyright: ignore[reportUnknownMemberType]
            early.SERVER_NAME,
            __version__,
            protocol_cls=GeminiChatProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Full,
        )
        self.workspaces = Workspaces(cwd)
        self._environ = environ
        self._options: object = None
        self._core: Core | None = None
        self.started = time.time()
        """When the daemon started: the change feed is told from then on."""

    @property
    def core(self) -> Core:
        """Settings, the Gemini client, the store and the chat service (loaded on first use)."""
        if self._core is None:
            from .core import Core, release_memory

            self._core = Core(self._environ, self.warn)
            self._core.settings.update(self._options)
            self._core.watch(self.workspaces.known, self, self.started)
            release_memory()
        return self._core

    def configure(self, options: object) -> None:
        """The client's `gemini` settings section, from initialize or a configuration change."""
        self._options = options
        if self._core is not None:
            self._core.settings.update(self._options)

    def open_text(self, uri: str) -> str | None:
        """The text of a document the client synced, else None."""
        from .workspaces import same_file

        for doc_uri, doc in self.workspace.text_documents.items():
            if doc_uri == uri or same_file(doc_uri, uri):
                return doc.source
        return None

    @property
    def edge(self) -> GeminiChatProtocol:
        """The JSON-RPC protocol, as the daemon's own class."""
        return cast(GeminiChatProtocol, self.protocol)

    def send_progress(self, token: int | str, value: dict[str, object]) -> None:
        """A `$/progress` notification carrying a partial result."""
        self.edge.send_notification(types.PROGRESS, {"token": token, "value": value})

    def conversation_changed(self, params: dict[str, object]) -> None:
        """`gemini/conversationChanged`: a conversation of one of the client's folders changed."""
        self.edge.send_notification(protocol.CONVERSATION_CHANGED, params)

    def turn_progress(self, params: dict[str, object]) -> None:
        """`gemini/turnProgress`: another editor's turn on one of the client's folders."""
        self.edge.send_notification(protocol.TURN_PROGRESS, params)

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
        """Tell the user about a problem with a setting, once; redacted as the log is."""
        text = logs.redact(text)
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
        if isinstance(settings, dict) and protocol.SETTINGS_SECTION in settings:
            ls.configure(cast(object, settings))

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def on_folders(ls: GeminiChatServer, params: types.DidChangeWorkspaceFoldersParams) -> None:  # pyright: ignore[reportUnusedFunction]
        ls.workspaces.remove([f.uri for f in params.event.removed])
        ls.workspaces.add([f.uri for f in params.event.added])

    @server.feature(types.EXIT)
    def on_exit(ls: GeminiChatServer, *_: object) -> None:  # pyright: ignore[reportUnusedFunction]
        exit_now(0 if ls.edge.shut_down else 1)


def _watch_parent(ls: GeminiChatServer, pid: int) -> None:
    async def watch() -> None:
        while True:
            await asyncio.sleep(2)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                log.info("The editor (pid %d) is gone; exiting", pid)
                exit_now(1)
            except PermissionError:
                continue

    ls.background = asyncio.get_running_loop().create_task(watch())  # pyright: ignore[reportAttributeAccessIssue]


def create_server(
    cwd: Path | None = None, environ: dict[str, str] | None = None
) -> GeminiChatServer:
    """Build a fresh daemon with every handler registered."""
    server = GeminiChatServer(cwd, environ)
    _register_lifecycle(server)
    for method in protocol.METHODS:
        server.feature(method)(_lazy(method))
    return server


def _lazy(method: str) -> Handler:
    """A handler that imports the real one on first call (keeps start-up light)."""

    async def run(ls: GeminiChatServer, params: object) -> object:
        from .handlers import HANDLERS

        return await HANDLERS[method](ls, params)

    run.__name__ = method.removeprefix("gemini/")
    return run
