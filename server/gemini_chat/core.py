"""Core: what a daemon runs with (settings, Gemini client, stores, chat, library, models)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from .chat import ChatService
from .gemini.client import GeminiClient
from .imagegen import ImageService
from .library import Library
from .live import LiveSink, Watcher
from .models import Models
from .ratelimit import RateLimits
from .settings import SettingsManager
from .store import ConversationStore

log = logging.getLogger(__name__)


class Core:
    """Settings, the Gemini client, the stores and the chat service of one daemon."""

    def __init__(
        self, environ: Mapping[str, str] | None, warn: Callable[[str], None] | None = None
    ) -> None:
        self.settings = SettingsManager(environ, warn=warn)
        self.limits = RateLimits()
        self.gemini = GeminiClient(on_error=self.limits.seen)
        self._stores: dict[Path, ConversationStore] = {}
        current = lambda: self.settings.current  # noqa: E731 - the settings of the moment
        self.chat = ChatService(self.gemini, current, self.store)
        self.library = Library(self.chat)
        self.models = Models(self.gemini, current)
        self.images = ImageService(self.gemini, self.chat, self.models, current)
        self._tasks: set[asyncio.Task[None]] = set()

    def store(self) -> ConversationStore:
        """The store in the current dataDir (opened on first use)."""
        data_dir = self.settings.current.data_dir
        if data_dir not in self._stores:
            self._stores[data_dir] = ConversationStore(data_dir)
        return self._stores[data_dir]

    def watch(self, folders: Callable[[], Mapping[str, str]], sink: LiveSink, since: float) -> None:
        """Follow the store's change feed for `folders` (key -> URI) from the time `since`,
        telling `sink`."""
        watcher = Watcher(self.store, folders, sink, since)
        task = asyncio.get_running_loop().create_task(watcher.run())
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("The change feed watcher stopped", exc_info=task.exception())


def release_memory() -> None:
    """Hand the memory that loading freed back to the OS (glibc keeps freed heap otherwise):
    the daemon then idles smaller, for the rest of its life."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        # The process's own symbols: libc is loaded already, and ctypes.util.find_library
        # would run `ldconfig -p` to find its name.
        ctypes.CDLL(None).malloc_trim(0)
