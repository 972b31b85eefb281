"""The conversations of a folder as the protocol offers them: list, open, rename, delete,
export (the store's side is conversations.py)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from . import conversations, transcript
from .chat import ChatService
from .protocol import FieldError, Json
from .turn import TurnEvents
from .workspaces import Workspace

log = logging.getLogger(__name__)


class Library:
    """A daemon's conversations, changed through the store (and so told to every editor)."""

    def __init__(self, chat: ChatService) -> None:
        self._chat = chat

    async def conversations(self, ws: Workspace, limit: int, offset: int) -> Json:
        """A page of the folder's conversations, most recently updated first."""
        store = self._chat.store()
        items, total = await asyncio.to_thread(conversations.listed, store, ws.key, limit, offset)
        active = next((str(c.id) for c in items if c.active), None)
        if active is None:  # not on this page (an opened old one sorts by its own update time)
            found = await asyncio.to_thread(store.active, ws.key)
            active = None if found is None else str(found)
        return {
            "workspace": ws.uri,
            "active": active,
            "conversations": [c.json() for c in items],
            "total": total,
        }

    async def new_conversation(self, ws: Workspace) -> str:
        """An empty conversation as the folder's active one (after a turn in flight)."""
        store = self._chat.store()
        async with self._chat.hold(store, ws.key, TurnEvents()):
            number = await asyncio.to_thread(store.new_conversation, ws.key)
        return str(number)

    async def open_conversation(self, ws: Workspace, conv: str) -> Json:
        """Make a conversation the folder's active one (after a turn in flight)."""
        store = self._chat.store()
        number = conversations.conversation_id(conv)
        async with self._chat.hold(store, ws.key, TurnEvents()):
            await asyncio.to_thread(conversations.open_conversation, store, ws.key, number)
        return {"workspace": ws.uri, "id": conv}

    async def rename_conversation(self, ws: Workspace, conv: str, title: str) -> Json:
        """Give a conversation a title."""
        number = conversations.conversation_id(conv)
        shown = await asyncio.to_thread(
            conversations.rename, self._chat.store(), ws.key, number, title
        )
        return {"workspace": ws.uri, "id": conv, "title": shown}

    async def delete_conversation(self, ws: Workspace, conv: str) -> Json:
        """Remove a conversation and its image files for good."""
        store = self._chat.store()
        number = conversations.conversation_id(conv)
        async with self._chat.hold(store, ws.key, TurnEvents()):
            images = await asyncio.to_thread(conversations.delete, store, ws.key, number)
        await asyncio.to_thread(_remove, images)
        return {"workspace": ws.uri, "id": conv, "deleted": True}

    async def export(self, ws: Workspace, conv: str | None) -> Json:
        """One conversation (the active one by default) as Markdown."""
        store = self._chat.store()
        if conv is None:
            active = await asyncio.to_thread(store.active, ws.key)
            if active is None:
                raise FieldError("This folder has no conversation yet; nothing to export", "id")
            conv = str(active)
        number = conversations.conversation_id(conv)
        info, exchanges = await asyncio.to_thread(conversations.whole, store, ws.key, number)
        text = transcript.markdown(info.title, (info.created, info.updated), exchanges)
        return {"workspace": ws.uri, "id": conv, "title": info.title, "markdown": text}


def _remove(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("Could not delete %s: %s", path, exc.strerror)
