"""The Agent Client Protocol front end (`gemini-chat-server --acp`): ACP v1 over stdio on the
same core as the native protocol (settings, store, Gemini client, tools, redaction, change feed).

Imported only in --acp mode: the native daemon never loads the ACP SDK.
"""

from .main import serve

__all__ = ["serve"]
