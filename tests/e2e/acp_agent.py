"""Drive the real `gemini-chat-server --acp` process with the official ACP SDK's client side."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import acp
from acp.connection import StreamEvent
from acp.schema import ClientCapabilities, FileSystemCapabilities, Implementation

from .daemon import SERVER


@dataclass
class Recorder:
    """The client's side: keeps every session update (as JSON) and serves fs/read_text_file
    from `buffers` (the editor's unsaved texts by path) when it offers fs reads."""

    buffers: dict[str, str] = field(default_factory=dict[str, str])
    updates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    reads: list[str] = field(default_factory=list[str])

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        """Record one update as the wire has it (camelCase)."""
        self.updates.append((session_id, update.model_dump(by_alias=True, exclude_none=True)))

    async def read_text_file(self, session_id: str, path: str, **_: Any) -> Any:
        """An unsaved buffer's text; resource-not-found for any other path (the agent then
        reads the disk)."""
        self.reads.append(path)
        if path in self.buffers:
            return acp.ReadTextFileResponse(content=self.buffers[path])
        raise acp.RequestError.resource_not_found(path)

    async def request_permission(self, *_: Any, **__: Any) -> Any:
        """Never asked: the tools are read-only."""
        raise acp.RequestError.method_not_found("session/request_permission")

    def on_connect(self, conn: Any) -> None:
        """Nothing to keep."""

    def kinds(self, session_id: str | None = None) -> list[str]:
        """The `sessionUpdate` kinds received (of one session, or all), in order."""
        return [u["sessionUpdate"] for s, u in self.updates if session_id in (None, s)]

    def texts(self, kind: str) -> list[str]:
        """The text of each chunk of one kind, in order."""
        return [u["content"]["text"] for _, u in self.updates if u["sessionUpdate"] == kind]


@dataclass
class Agent:
    """A running agent: the SDK connection, the process, what it sent, its stderr."""

    conn: acp.core.ClientSideConnection
    process: Any
    client: Recorder
    wire: list[dict[str, Any]]
    """Every message the agent sent, in order."""
    stderr: Path

    async def init(self, fs: bool = False, version: int = 1) -> Any:
        """`initialize`, offering fs/read_text_file when `fs`."""
        caps = ClientCapabilities(fs=FileSystemCapabilities(read_text_file=fs))
        info = Implementation(name="pytest", version="1")
        return await self.conn.initialize(
            protocol_version=version, client_capabilities=caps, client_info=info
        )

    async def new(self, cwd: Path) -> str:
        """`session/new` on a folder; the session id."""
        return (await self.conn.new_session(cwd=str(cwd), mcp_servers=[])).session_id

    async def ask(self, session_id: str, *blocks: Any) -> str:
        """`session/prompt` (a str is a text block); the stop reason."""
        prompt = [acp.text_block(b) if isinstance(b, str) else b for b in blocks]
        answer = await self.conn.prompt(session_id=session_id, prompt=prompt)
        return answer.stop_reason

    def stderr_text(self) -> str:
        """What the agent logged so far."""
        return self.stderr.read_text(errors="replace")

    def answered_at(self, method_id: int | str) -> int:
        """The index in `wire` of the answer to a request id."""
        return next(i for i, m in enumerate(self.wire) if m.get("id") == method_id)


@asynccontextmanager
async def start_agent(
    env: dict[str, str], args: Iterable[str] = (), buffers: dict[str, str] | None = None
) -> AsyncIterator[Agent]:
    """Start `gemini-chat-server --acp` (stderr to a file); stopped on leaving."""
    client = Recorder(buffers or {})
    wire: list[dict[str, Any]] = []

    def observe(event: StreamEvent) -> None:
        if event.direction.value == "incoming":
            wire.append(event.message)

    with tempfile.NamedTemporaryFile(prefix="acp-stderr-", delete=False) as err:
        stderr = Path(err.name)
        async with acp.spawn_agent_process(
            client,
            SERVER,
            "--acp",
            *args,
            env=env,
            transport_kwargs={"stderr": err.fileno()},
            observers=[observe],
        ) as (conn, process):
            yield Agent(conn, process, client, wire, stderr)
