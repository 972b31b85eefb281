"""One live conversation per folder: a turn's reply journaled as it streams, and the watcher
that turns the store's change feed into `gemini/conversationChanged` / `gemini/turnProgress`.

The watcher reads the feed through the daemon's own connection, so it sees every change,
its own daemon's included. Polling a tiny indexed table costs microseconds; it runs every
IDLE seconds, and every LIVE seconds while another daemon's turn streams on a folder.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol, cast

from .gemini.client import RetryNotice
from .gemini.errors import StorageError
from .journal import LIVE_REASONS, Change, InFlight, Journal
from .protocol import Json
from .store import ConversationStore
from .turn import TurnEvents

log = logging.getLogger(__name__)
FLUSH = 0.1
"""Seconds between journal writes of a streaming reply (pieces in between are batched)."""
IDLE = 0.1
LIVE = 0.03


class JournaledEvents(TurnEvents):
    """A turn's events passed on to its client, with the reply so far journaled for the others."""

    def __init__(self, inner: TurnEvents, journal: Journal, turn: InFlight, workspace: str):
        self.streaming = inner.streaming
        self._inner = inner
        self._journal = journal
        self._turn = turn
        self._workspace = workspace
        self._text = ""
        self._thoughts = ""
        self._written = 0.0
        self._timer: asyncio.TimerHandle | None = None

    async def begin(self, model: str) -> None:
        await self._inner.begin(model)

    async def waiting(self) -> None:
        await self._inner.waiting()

    async def retry(self, notice: RetryNotice) -> None:
        await self._inner.retry(notice)

    async def progress(self, value: Json) -> None:
        await self._inner.progress(value)
        text, thought = value.get("text"), value.get("thought")
        if not isinstance(text, str) and not isinstance(thought, str):
            return
        self._text += text if isinstance(text, str) else ""
        self._thoughts += thought if isinstance(thought, str) else ""
        wait = FLUSH - (time.monotonic() - self._written)
        if wait <= 0:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        """Write the reply so far to the journal now."""
        self.close()
        self._written = time.monotonic()
        try:
            self._journal.update(self._turn, self._workspace, self._text, self._thoughts)
        except StorageError as exc:  # mirroring is best effort; the turn goes on
            log.warning("Could not journal the reply: %s", exc)

    def close(self) -> None:
        """Stop a pending write."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class LiveSink(Protocol):
    """Where the watcher's notifications go (the daemon's client)."""

    def conversation_changed(self, params: Json) -> None:
        """Send `gemini/conversationChanged`."""
        ...

    def turn_progress(self, params: Json) -> None:
        """Send `gemini/turnProgress`."""
        ...


class Watcher:
    """Follows a store's change feed for the folders a daemon has open."""

    def __init__(
        self,
        store: Callable[[], ConversationStore],
        folders: Callable[[], Mapping[str, str]],
        sink: LiveSink,
        since: float | None = None,
    ) -> None:
        self._store = store
        self._folders = folders
        self._sink = sink
        self._seen: tuple[ConversationStore, int] | None = None
        self._since = 0.0
        self._remote: dict[str, Change] = {}
        """Folders where another daemon's turn is in flight, with its last change."""
        self._follow(store(), since)

    async def run(self) -> None:
        """Poll the feed until cancelled; a failing read is logged and retried."""
        while True:
            await asyncio.sleep(LIVE if self._remote else IDLE)
            try:
                self.poll()
            except StorageError as exc:
                log.debug("Change feed unreadable: %s", exc)
            except Exception:  # a bad poll must not end the feed for the daemon's life
                log.exception("Reading the change feed failed; trying again")

    def poll(self) -> None:
        """Read the feed once and notify the client of what changed on its folders."""
        store = self._store()
        if self._seen is None:  # the feed could not be read yet: follow from the same point
            self._follow(store, self._since)
            return
        if self._seen[0] is not store:  # a new dataDir: from its newest change
            self._follow(store)
            return
        free = {ws for ws in self._remote if not store.locks.held(ws)}
        changes = store.journal.changes_since(self._seen[1])
        folders = self._folders()
        streamed: dict[str, Change] = {}
        for change in changes:
            uri = folders.get(change.workspace)
            if uri is None:
                continue
            if change.reason == "progress":
                streamed[change.workspace] = change  # only the newest is sent
            else:
                self._apply(store, change, uri)
        for ws, change in streamed.items():
            if ws in self._remote:
                self._mirror(store, change, folders[ws])
        for ws in free & self._remote.keys():  # its daemon died mid-turn
            change = self._remote.pop(ws)
            if ws in folders:
                self._sink.turn_progress(_progress(change, folders[ws], "failed", interrupted=True))
        if changes:  # moved on only once all was told (a failed poll reads them again)
            self._seen = (store, changes[-1].seq)

    def _follow(self, store: ConversationStore, since: float | None = None) -> None:
        """Follow a store's feed from its newest change before `since` (the changes made while
        the daemon started are told too), or from now; a failed read is tried again from the
        same point, so the changes made meanwhile are told."""
        self._remote.clear()
        self._since = time.time() if since is None else since
        try:
            self._seen = (store, store.journal.last_change(self._since))
        except StorageError as exc:
            self._seen = None
            log.debug("Change feed unreadable: %s", exc)

    def _apply(self, store: ConversationStore, change: Change, uri: str) -> None:
        mine = change.origin == store.origin
        if change.reason in LIVE_REASONS:
            if mine:
                return  # the originating client does not get its own turn mirrored
            if change.reason == "started":
                self._remote[change.workspace] = change
                self._mirror(store, change, uri)
            else:
                self._remote.pop(change.workspace, None)
                self._sink.turn_progress(_progress(change, uri, change.reason))
            return
        if change.reason == "turn" and not mine and change.workspace in self._remote:
            del self._remote[change.workspace]
            self._sink.turn_progress(_finished(store, change, uri))
        self._sink.conversation_changed(
            {
                "workspace": uri,
                "conversation": None if change.conversation is None else str(change.conversation),
                "reason": change.reason,
                "turn": change.turn,
            }
        )

    def _mirror(self, store: ConversationStore, change: Change, uri: str) -> None:
        """turnProgress started/streaming from the journal row of another daemon's turn."""
        row = next(
            (t for t in store.journal.in_flight(change.workspace) if t.origin == change.origin),
            None,
        )
        state = "started" if change.reason == "started" else "streaming"
        params = _progress(change, uri, state)
        if row is not None:
            params.update(text=row.text, thoughts=row.thoughts)
        if state == "started":  # a quick turn may be stored already: its question is there
            message, image = (row.message, row.image) if row else _question(store, change)
            params["message"] = message
            if image is not None:  # an image request: clients show it as one
                params["image"] = image
        elif row is None:
            return
        self._sink.turn_progress(params)


def _progress(change: Change, uri: str, state: str, *, interrupted: bool = False) -> Json:
    params: Json = {
        "workspace": uri,
        "conversation": None if change.conversation is None else str(change.conversation),
        "turn": change.turn,
        "state": state,
    }
    if interrupted:
        params["interrupted"] = True
    return params


def _question(store: ConversationStore, change: Change) -> tuple[str, Json | None]:
    """A stored turn's question, and an image request's parameters (its `imagen` marker)."""
    entry = next(
        (e for e in store.history(change.workspace) if e.turn == change.turn and e.role == "user"),
        None,
    )
    if entry is None:
        return "", None
    imagen = entry.meta.get("imagen")
    return str(entry.meta.get("text", "")), cast(Json, imagen) if isinstance(imagen, dict) else None


def _finished(store: ConversationStore, change: Change, uri: str) -> Json:
    params = _progress(change, uri, "finished")
    reply = next((e for e in reversed(store.history(change.workspace)) if e.role == "model"), None)
    if reply is not None:
        params.update(text=reply.meta.get("text", ""), thoughts=reply.meta.get("thoughts", ""))
        if reply.meta.get("images"):
            params["images"] = reply.meta["images"]
    return params
