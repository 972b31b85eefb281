"""A small asyncio JSON-RPC 2.0 client over a child's stdio, with LSP base-protocol framing.

    client = await RpcClient.spawn(["gemini-chat-server"], env=env)
    await client.initialize(Path("/abs/workspace"))
    client.on_notification("$/progress", on_progress)
    result = await client.request("gemini/chat", {"message": "hi", "partialResultToken": "p"})
    await client.close()  # shutdown, exit, wait (kill if it lingers)

Errors come back as `RpcError` (code, message, data); a server that died as `ServerExited`
with the tail of its stderr. `LoopThread` runs the client for synchronous code.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TypeAlias, TypeVar, cast

from gemini_chat.protocol import (
    INTERNAL_ERROR,
    METHOD_NOT_FOUND,
    REQUEST_CANCELLED,
)

__all__ = [
    "INTERNAL_ERROR",
    "METHOD_NOT_FOUND",
    "REQUEST_CANCELLED",
    "JsonObject",
    "JsonValue",
    "LoopThread",
    "RpcClient",
    "RpcError",
    "ServerExited",
    "as_list",
    "as_object",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = "dict[str, JsonValue]"
NotificationHandler: TypeAlias = "Callable[[JsonObject], None]"
RequestHandler: TypeAlias = "Callable[[JsonObject], JsonValue]"

STDERR_TAIL_LINES = 30


class RpcError(Exception):
    """A JSON-RPC error response: code, message and optional data."""

    def __init__(self, code: int, message: str, data: JsonValue = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    @property
    def reason(self) -> str | None:
        """The gemini-chat `data.reason`, when the server gave one."""
        if isinstance(self.data, dict):
            reason = self.data.get("reason")
            return reason if isinstance(reason, str) else None
        return None


class ServerExited(Exception):
    """The server process ended (or never started) while a request was outstanding."""

    def __init__(self, message: str, returncode: int | None, stderr_tail: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr_tail = stderr_tail


def as_object(value: JsonValue) -> JsonObject:
    """`value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: JsonValue) -> list[JsonValue]:
    """`value` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def encode_frame(message: JsonObject) -> bytes:
    """One LSP-framed JSON-RPC message."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


async def read_frame(reader: asyncio.StreamReader) -> JsonObject | None:
    """The next framed message, or None at end of stream."""
    length: int | None = None
    while True:
        line = await reader.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length is None:
        raise ValueError("frame without Content-Length")
    body = await reader.readexactly(length)
    decoded: JsonValue = json.loads(body)
    return as_object(decoded)


class RpcClient:
    """A JSON-RPC client talking to one child process over its stdin/stdout."""

    def __init__(self, process: asyncio.subprocess.Process, *, redact: Sequence[str] = ()) -> None:
        self.process = process
        self._ids = itertools.count(1)
        self._pending: dict[int | str, asyncio.Future[JsonValue]] = {}
        self._notification_handlers: dict[str, list[NotificationHandler]] = {}
        self._request_handlers: dict[str, RequestHandler] = {
            # Editors must accept these; answering null keeps the daemon's progress flowing.
            "window/workDoneProgress/create": lambda _params: None,
            "client/registerCapability": lambda _params: None,
            "client/unregisterCapability": lambda _params: None,
            "workspace/configuration": _configuration_nulls,
        }
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._redact = [s for s in redact if s]
        self._write_lock = asyncio.Lock()
        self._closed_error: ServerExited | None = None
        self._tasks = [
            asyncio.create_task(self._read_stdout()),
            asyncio.create_task(self._read_stderr()),
        ]

    @classmethod
    async def spawn(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        redact: Sequence[str] = (),
    ) -> RpcClient:
        """Start `argv` with piped stdio and return a client for it (OSError if it cannot start)."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            # Own process group: a Ctrl-C in the terminal reaches us, not the daemon mid-turn.
            start_new_session=True,
        )
        return cls(process, redact=redact)

    def new_id(self) -> int:
        """A fresh request id (to cancel a request later, pass it to `request`)."""
        return next(self._ids)

    def on_notification(self, method: str, handler: NotificationHandler) -> None:
        """Call `handler(params)` for every `method` notification from the server."""
        self._notification_handlers.setdefault(method, []).append(handler)

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr, secrets redacted."""
        return "\n".join(self._stderr)

    @property
    def returncode(self) -> int | None:
        """The server's exit status, None while it runs."""
        return self.process.returncode

    async def request(
        self, method: str, params: JsonValue = None, *, msg_id: int | None = None
    ) -> JsonValue:
        """Send a request and return its result; raise RpcError or ServerExited."""
        if self._closed_error is not None:
            raise self._closed_error
        ident = msg_id if msg_id is not None else self.new_id()
        future: asyncio.Future[JsonValue] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        message: JsonObject = {"jsonrpc": "2.0", "id": ident, "method": method}
        if params is not None:
            message["params"] = params
        try:
            await self._send(message)
            return await future
        finally:
            self._pending.pop(ident, None)

    async def notify(self, method: str, params: JsonValue = None) -> None:
        """Send a notification."""
        message: JsonObject = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._send(message)

    async def cancel(self, msg_id: int) -> None:
        """Ask the server to cancel request `msg_id` (`$/cancelRequest`)."""
        await self.notify("$/cancelRequest", {"id": msg_id})

    async def initialize(
        self, root: Path, *, options: JsonObject | None = None, client_name: str = "gemini-chat"
    ) -> JsonObject:
        """Run the LSP handshake for one (absolute) workspace folder; the `initialize` result."""
        uri = root.as_uri()
        params: JsonObject = {
            "processId": os.getpid(),
            "clientInfo": {"name": client_name},
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": root.name or uri}],
            "capabilities": {"window": {"workDoneProgress": True}},
        }
        if options:
            params["initializationOptions"] = options
        result = as_object(await self.request("initialize", params))
        await self.notify("initialized", {})
        return result

    async def close(self, grace: float = 5.0) -> int | None:
        """Shut the server down politely (shutdown, exit), kill it if it lingers; its status."""
        if self.process.returncode is None:
            with contextlib.suppress(RpcError, ServerExited, OSError, TimeoutError):
                await asyncio.wait_for(self.request("shutdown"), grace)
                await self.notify("exit")
            with contextlib.suppress(OSError):
                if self.process.stdin is not None:
                    self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return self.process.returncode

    async def _send(self, message: JsonObject) -> None:
        stdin = self.process.stdin
        if stdin is None or stdin.is_closing():
            raise self._exited_error()
        async with self._write_lock:
            try:
                stdin.write(encode_frame(message))
                await stdin.drain()
            except (BrokenPipeError, ConnectionResetError) as exc:
                raise self._exited_error() from exc

    async def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                message = await read_frame(self.process.stdout)
                if message is None:
                    break
                await self._dispatch(message)
        except (ValueError, asyncio.IncompleteReadError) as exc:
            log.warning("bad frame from the server: %s", exc)
        finally:
            # stderr may still hold the reason it died: let it drain before failing requests.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._tasks[1]), 2.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 2.0)
            self._fail_pending(self._exited_error())

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace").rstrip()
            for secret in self._redact:
                line = line.replace(secret, "***")
            self._stderr.append(line)

    def _exited_error(self) -> ServerExited:
        if self._closed_error is not None:
            return self._closed_error
        code = self.process.returncode
        status = "is still running" if code is None else f"exited with status {code}"
        return ServerExited(f"the server {status}", code, self.stderr_tail())

    def _fail_pending(self, error: ServerExited) -> None:
        self._closed_error = error
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    async def _dispatch(self, message: JsonObject) -> None:
        method = message.get("method")
        ident = message.get("id")
        if isinstance(method, str):
            params = as_object(message.get("params"))
            if ident is None:
                self._notify_handlers(method, params)
            elif isinstance(ident, int | str):
                await self._answer(ident, method, params)
            return
        if isinstance(ident, int | str):
            self._resolve(ident, message)

    def _notify_handlers(self, method: str, params: JsonObject) -> None:
        for handler in self._notification_handlers.get(method, []):
            try:
                handler(params)
            except Exception:
                log.exception("handler for %s failed", method)

    async def _answer(self, ident: int | str, method: str, params: JsonObject) -> None:
        handler = self._request_handlers.get(method)
        reply: JsonObject = {"jsonrpc": "2.0", "id": ident}
        if handler is None:
            reply["error"] = {"code": METHOD_NOT_FOUND, "message": f"unsupported: {method}"}
        else:
            try:
                reply["result"] = handler(params)
            except Exception as exc:  # a task boundary: answer, and keep reading
                log.exception("handler for %s failed", method)
                reply["error"] = {"code": INTERNAL_ERROR, "message": str(exc)}
        with contextlib.suppress(ServerExited):
            await self._send(reply)

    def _resolve(self, ident: int | str, message: JsonObject) -> None:
        future = self._pending.get(ident)
        if future is None or future.done():
            return
        error = message.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            text = error.get("message")
            future.set_exception(
                RpcError(
                    code if isinstance(code, int) else 0,
                    text if isinstance(text, str) else "unknown error",
                    error.get("data"),
                )
            )
        else:
            future.set_result(message.get("result"))


def _configuration_nulls(params: JsonObject) -> JsonValue:
    """Answer `workspace/configuration` with null per item: we have no settings of our own."""
    items = params.get("items")
    count = len(items) if isinstance(items, list) else 1
    return cast("JsonValue", [None] * count)


WAKE = 0.1
"""Seconds between the main thread's looks at a pending Ctrl-C while it waits on the loop."""


class LoopThread:
    """An asyncio loop on a daemon thread for synchronous callers (a REPL keeps input(), Ctrl-C)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def submit(self, coro: Coroutine[object, object, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the loop."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[object, object, T], timeout: float | None = None) -> T:
        """Run `coro` on the loop and wait for its result."""
        return self.wait(self.submit(coro), timeout)

    @staticmethod
    def wait(future: concurrent.futures.Future[T], timeout: float | None = None) -> T:
        """Wait for `future` in slices of WAKE seconds (TimeoutError after `timeout`).

        The OS may hand Ctrl-C's SIGINT to any thread, and Python raises KeyboardInterrupt
        only in the main thread when it runs: a wait without end would hold it back until the
        reply finished. In slices it is raised here within WAKE seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = WAKE if deadline is None else min(WAKE, deadline - time.monotonic())
            try:
                return future.result(max(0.0, left))
            except TimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    def stop(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()
