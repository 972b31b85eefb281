"""One prompt's `session/update` notifications: the turn's events (reply, thoughts, tool calls,
images) in the order they happen, and none once the prompt has answered."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeAlias, cast

from acp import (
    Client,
    start_tool_call,
    text_block,
    tool_content,
    update_agent_message,
    update_agent_message_text,
    update_agent_thought_text,
    update_tool_call,
)
from acp.schema import (
    AgentMessageChunk,
    AgentThoughtChunk,
    ResourceContentBlock,
    SessionInfoUpdate,
    ToolCallLocation,
    ToolCallProgress,
    ToolCallStart,
    ToolKind,
    UserMessageChunk,
)

from ..protocol import Json
from ..tools import ToolResult
from ..turn import TurnEvents

log = logging.getLogger(__name__)
Update: TypeAlias = (
    UserMessageChunk
    | AgentMessageChunk
    | AgentThoughtChunk
    | ToolCallStart
    | ToolCallProgress
    | SessionInfoUpdate
)
ReadText = Callable[[Path], Awaitable[str | None]]
THREAD_WAIT = 30.0
"""Seconds a tool thread waits for the client (a notification sent, a file read)."""
KINDS: dict[str, ToolKind] = {"read_file": "read", "list_files": "search", "search_text": "search"}


class Updates:
    """Sends one session's updates; closed once its prompt answered (nothing may follow)."""

    def __init__(self, conn: Client, session_id: str) -> None:
        self._conn = conn
        self._session = session_id
        self._loop = asyncio.get_running_loop()
        self.closed = False

    async def send(self, update: Update) -> None:
        """Send one update, unless the prompt already answered."""
        if not self.closed:
            await self._conn.session_update(session_id=self._session, update=update)

    def send_from_thread(self, update: Update) -> None:
        """`send` from a tool's thread, waiting until it is written (keeps the order)."""
        self.wait_from_thread(self.send(update), None)

    def wait_from_thread(self, work: Awaitable[object], default: object) -> object:
        """Run `work` on the loop from a worker thread and wait for it; `default` on failure."""

        async def run() -> object:
            return await work

        future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        try:
            return future.result(THREAD_WAIT)
        except Exception as exc:  # a thread boundary: the turn goes on without the client
            future.cancel()
            log.info("The client did not answer in time (%s)", type(exc).__name__)
            return default


class PromptEvents(TurnEvents):
    """A turn's events as session updates, and the editor of its tool calls (`tools.Editor`):
    each call is a `tool_call` when it starts and a `tool_call_update` when it ends; files are
    read through the client when it offers fs/read_text_file."""

    streaming = True

    def __init__(self, updates: Updates, root: Path, read_text: ReadText | None) -> None:
        self._updates = updates
        self._root = root
        self._read_text = read_text
        self._call: str | None = None
        self._reported = 0
        """Calls the editor hooks reported whose `{"tool"}` progress has not come yet."""

    async def progress(self, value: Json) -> None:
        text, thought, tool, image = (value.get(k) for k in ("text", "thought", "tool", "image"))
        if isinstance(text, str):
            await self._updates.send(update_agent_message_text(text))
        elif isinstance(thought, str):
            await self._updates.send(update_agent_thought_text(thought))
        elif isinstance(tool, dict):
            await self._tool_progress(cast(Json, tool))
        elif isinstance(image, dict):
            await self._updates.send(update_agent_message(image_link(cast(Json, image))))

    async def _tool_progress(self, tool: Json) -> None:
        """A call the hooks did not see (one skipped past the tool call limit) is shown failed."""
        if self._reported:
            self._reported -= 1
            return
        title = str(tool.get("summary", tool.get("name", "")))
        name = str(tool.get("name", ""))
        await self._updates.send(
            start_tool_call(_call_id(), title, kind=KINDS.get(name, "other"), status="failed")
        )

    def read_text(self, path: Path) -> str | None:
        """The client's text of the file (an unsaved buffer's), or None to read the disk."""
        if self._read_text is None:
            return None
        text = self._updates.wait_from_thread(self._read_text(path), None)
        return text if isinstance(text, str) else None

    def started(self, name: str, args: Json) -> None:
        self._call = _call_id()
        update = start_tool_call(
            self._call,
            _title(name, args),
            kind=KINDS.get(name, "other"),
            status="in_progress",
            locations=_arg_locations(self._root, name, args),
            raw_input=args,
        )
        self._updates.send_from_thread(update)

    def finished(self, name: str, result: ToolResult) -> None:
        if self._call is None:
            return
        update = update_tool_call(
            self._call,
            title=result.summary,
            status="failed" if result.failed else "completed",
            content=[tool_content(text_block(result.summary))],
            locations=[_location(p, line) for p, line in result.locations] or None,
        )
        self._call = None
        self._reported += 1
        self._updates.send_from_thread(update)


def image_link(image: Json) -> ResourceContentBlock:
    """A reply's image, saved as a file, as a link to that file."""
    path = Path(str(image.get("path", "")))
    mime = str(image.get("mimeType", "")) or None
    return ResourceContentBlock(
        type="resource_link", name=path.name, uri=path.as_uri(), mime_type=mime
    )


def _call_id() -> str:
    return f"tool-{uuid.uuid4().hex[:12]}"


def _title(name: str, args: Json) -> str:
    if name == "read_file":
        return f"Read {args.get('path', '')}"
    if name == "list_files":
        return f"List files matching {args.get('glob', '')}"
    if name == "search_text":
        return f"Search for {args.get('query', '')!r}"
    return name


def _arg_locations(root: Path, name: str, args: Json) -> list[ToolCallLocation] | None:
    """Where a read is about to look (the path as the model named it, under the folder)."""
    path = args.get("path")
    if name != "read_file" or not isinstance(path, str) or not path:
        return None
    line = args.get("startLine")
    return [_location(root / path.lstrip("/"), line if isinstance(line, int) else None)]


def _location(path: Path, line: int | None) -> ToolCallLocation:
    return ToolCallLocation(path=str(path), line=line if line is None or line >= 0 else None)
