"""`gemini-chat-server --acp`: the settings layer, the core (loaded once `initialize` is
answered), and the agent served over stdio until the client closes it."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import BinaryIO, cast

from .. import __version__
from ..core import Core
from ..exiting import exit_now
from ..protocol import Json
from .options import OptionsError, layer

log = logging.getLogger(__name__)


class _LazyCore:
    """The core, built on first use with the settings layer (environment below it)."""

    def __init__(self, section: Json) -> None:
        self._section = section
        self._core: Core | None = None

    def __call__(self) -> Core:
        if self._core is None:
            core = Core(None, lambda text: log.warning("%s", text))
            core.settings.update(self._section)
            self._core = core
        return self._core


def serve(
    stdin: BinaryIO, stdout: BinaryIO, settings: Path | None, model: str | None, pairs: list[str]
) -> int:
    """Serve ACP on the given streams; the exit status (2: unusable settings)."""
    try:
        section = layer(settings, model, pairs)
    except OptionsError as exc:
        log.error("%s", exc)
        return 2
    log.info("gemini-chat-server %s speaking ACP on stdio (pid %d)", __version__, os.getpid())
    asyncio.run(_run(stdin, stdout, _LazyCore(section)))
    return 0


async def _run(stdin: BinaryIO, stdout: BinaryIO, core: _LazyCore) -> None:
    from acp import Agent, run_agent

    from .agent import GeminiAgent
    from .transport import StdioTransport

    # The SDK routes by method name and answers "method not found" for what GeminiAgent
    # leaves out (modes, fork, resume): it is an Agent in every method it has.
    agent = cast("Agent", GeminiAgent(core))
    await run_agent(agent, StdioTransport(stdin, stdout))
    log.info("The client closed the connection")
    # End now: a turn cut short by its editor going away stays journaled (interrupted for the
    # other editors) instead of being cleaned up as a cancel when asyncio.run cancels it.
    exit_now(0)
