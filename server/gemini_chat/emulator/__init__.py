"""The Gemini API emulator: a local stand-in for the API (`gemini-chat-emulator`)."""

from .app import Emulator, main
from .state import DEFAULT_API_KEY, EmulatorState, RecordedRequest

__all__ = ["DEFAULT_API_KEY", "Emulator", "EmulatorState", "RecordedRequest", "main"]
