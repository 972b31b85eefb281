"""Drive the real gemini-chat-server process over stdio with pytest-lsp's client."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient as BaseLanguageClient
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCResponseMessage
from pytest_lsp.client import LanguageClient, register_lsp_features
from pytest_lsp.protocol import LanguageClientProtocol

from gemini_chat.emulator import Emulator

SERVER = str(Path(sys.executable).parent / "gemini-chat-server")
LIVE = ("gemini/conversationChanged", "gemini/turnProgress")
RAW_NOTIFICATIONS = (types.PROGRESS, *LIVE)


class RawProtocol(LanguageClientProtocol):
    """Keeps untyped results and `$/progress` values as plain JSON (pygls makes namedtuples)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Plain JSON for results of untyped requests and for `$/progress`."""
        is_result = "jsonrpc" in data and "result" in data and "method" not in data
        if is_result and self._result_types.get(data["id"]) is None:
            self._result_types.pop(data["id"], None)
            return JsonRPCResponseMessage(
                id=data["id"], jsonrpc=data["jsonrpc"], result=data["result"]
            )
        if data.get("method") in RAW_NOTIFICATIONS and "jsonrpc" in data:
            return JsonRPCNotification(
                method=data["method"], jsonrpc=data["jsonrpc"], params=data.get("params")
            )
        return super().structure_message(data)


class Client(LanguageClient):
    """pytest-lsp's client, keeping the server's stderr and every `$/progress` value."""

    def __init__(self) -> None:
        super().__init__(protocol_cls=RawProtocol)
        self.stderr = bytearray()
        self.progress: dict[str | int, list[dict[str, Any]]] = {}
        self.live: list[tuple[str, dict[str, Any]]] = []
        """The daemon's gemini/conversationChanged and gemini/turnProgress, in order."""

    async def start_io(self, cmd: str, *args: str, **kwargs: Any) -> None:
        """Start the server; collect its stderr instead of forwarding it."""
        await BaseLanguageClient.start_io(self, cmd, *args, **kwargs)
        server = self._server
        assert server is not None and server.stderr is not None
        self._stderr_forwarder = asyncio.create_task(self._collect(server.stderr))

    async def _collect(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            self.stderr += chunk


def make_client() -> Client:
    """A test client with pytest-lsp's features, but our own `$/progress` handler."""
    client = Client()
    register_lsp_features(client)
    client.protocol.fm.features.pop(types.PROGRESS, None)

    @client.feature(types.PROGRESS)
    def on_progress(ls: Client, params: dict[str, Any]) -> None:  # pyright: ignore[reportUnusedFunction]
        ls.progress.setdefault(params["token"], []).append(params["value"])

    for method in LIVE:

        @client.feature(method)
        def on_live(ls: Client, params: dict[str, Any], method: str = method) -> None:  # pyright: ignore[reportUnusedFunction]
            ls.live.append((method, params))

    return client


@dataclass
class Daemon:
    """One running daemon and its client."""

    client: Client
    folders: list[str]
    _ids: int = field(default=1000)

    @property
    def process(self) -> asyncio.subprocess.Process:
        """The daemon's OS process."""
        assert self.client._server is not None  # pyright: ignore[reportPrivateUsage]
        return self.client._server  # pyright: ignore[reportPrivateUsage]

    async def request(self, method: str, params: object = None, msg_id: int | None = None) -> Any:
        """Send a request and await its result (raises JsonRpcException on an error answer)."""
        return await self.client.protocol.send_request_async(method, params, msg_id=msg_id)

    def send(self, method: str, params: object = None) -> tuple[int, asyncio.Future[Any]]:
        """Send a request with a known id, returning the id and a future for its answer."""
        self._ids += 1
        fut = self.client.protocol.send_request(method, params, msg_id=self._ids)
        return self._ids, asyncio.wrap_future(fut)

    def cancel(self, msg_id: int) -> None:
        """Send `$/cancelRequest`."""
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    async def chat(self, message: str, **params: object) -> dict[str, Any]:
        """`gemini/chat` with the given params."""
        return await self.request("gemini/chat", {"message": message, **params})

    async def history(self, workspace: str | None = None) -> list[dict[str, Any]]:
        """The `turns` of `gemini/history`."""
        params = {} if workspace is None else {"workspace": workspace}
        return (await self.request("gemini/history", params))["turns"]

    def changes(self) -> list[dict[str, Any]]:
        """The gemini/conversationChanged notifications received so far."""
        return [p for m, p in self.client.live if m == "gemini/conversationChanged"]

    def mirrored(self) -> list[dict[str, Any]]:
        """The gemini/turnProgress notifications received so far."""
        return [p for m, p in self.client.live if m == "gemini/turnProgress"]

    def stderr_text(self) -> str:
        """Everything the daemon wrote to stderr so far."""
        return self.client.stderr.decode(errors="replace")

    async def stop(self) -> None:
        """shutdown + exit, then wait for the process."""
        if self.process.returncode is None:
            try:
                await asyncio.wait_for(self.client.shutdown_session(), 30)
            except (TimeoutError, RuntimeError, ConnectionError):
                if self.process.returncode is None:
                    self.process.kill()
        await self.client.stop()


async def start_daemon(
    env: dict[str, str],
    folders: Iterable[Path] = (),
    init_options: object = None,
    args: Iterable[str] = (),
    cwd: Path | None = None,
    wrapper: Iterable[str] = (),
) -> Daemon:
    """Start gemini-chat-server (under `wrapper`, a command prefix, when given) and initialize
    it with the given workspace folders."""
    client = make_client()
    cmd = [*wrapper, SERVER, *args]
    await client.start_io(cmd[0], *cmd[1:], env=env, cwd=str(cwd or os.getcwd()))
    uris = [p.as_uri() for p in folders]
    await client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[
                types.WorkspaceFolder(uri=u, name=u.rsplit("/", 1)[-1]) for u in uris
            ],
            initialization_options=init_options,
        )
    )
    return Daemon(client, uris)


def error_data(err: JsonRpcException) -> dict[str, Any]:
    """The `data` of a JSON-RPC error answer, as a dict."""
    data = err.data
    return data if isinstance(data, dict) else data._asdict()  # type: ignore[union-attr]


def last_body(emulator: Emulator, kind: str = "enerateContent") -> dict[str, Any]:
    """The JSON body of the emulator's last request whose path holds `kind` (by default a
    generateContent or streamGenerateContent call)."""
    return emulator.requests(kind)[-1].body  # type: ignore[return-value]
