"""Core: what a daemon runs turns with (settings, Gemini client, stores, chat service)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from .chat import ChatService
from .gemini.client import GeminiClient
from .settings import SettingsManager
from .store import ConversationStore


class Core:
    """Settings, the Gemini client, the stores and the chat service of one daemon."""

    def __init__(
        self, environ: Mapping[str, str] | None, warn: Callable[[str], None] | None = None
    ) -> None:
        self.settings = SettingsManager(environ, warn=warn)
        self.gemini = GeminiClient()
        self._stores: dict[Path, ConversationStore] = {}
        self.chat = ChatService(self.gemini, lambda: self.settings.current, self.store)

    def store(self) -> ConversationStore:
        """The store in the current dataDir (opened on first use)."""
        data_dir = self.settings.current.data_dir
        if data_dir not in self._stores:
            self._stores[data_dir] = ConversationStore(data_dir)
        return self._stores[data_dir]
