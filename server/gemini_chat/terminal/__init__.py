"""The terminal client (`gemini-chat`): starts the daemon, talks to it over stdio like an editor."""

from .app import main

__all__ = ["main"]
