"""ACP sessions over our conversations: a session is a folder's stored conversation (its id is
the conversation's), and its model choice is the folder's sticky model."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from acp.schema import SessionConfigOptionSelect, SessionConfigSelectOption, SessionInfo

from ..core import Core
from ..gemini.errors import GeminiError
from ..protocol import FieldError, Json
from ..workspaces import Workspace, path_to_uri

log = logging.getLogger(__name__)
MODEL_OPTION = "model"
PAGE = 50
"""Sessions per `session/list` page."""


@dataclass
class Session:
    """One ACP session: the folder, the conversation it continues, its prompt in flight."""

    id: str
    ws: Workspace
    conversation: str
    """The stored conversation (the session's id, until compaction starts a successor)."""
    lock: asyncio.Lock
    """The folder's: one prompt at a time per folder, whichever session sends it."""
    turn: asyncio.Task[object] | None = None


def folder(cwd: str) -> Workspace:
    """The workspace of a session's `cwd` (an absolute path to a folder)."""
    path = Path(cwd)
    if not path.is_absolute():
        raise FieldError(f"cwd must be an absolute path, not {cwd!r}", "cwd")
    resolved = path.resolve()
    if not resolved.is_dir():
        raise FieldError(f"cwd {cwd} is not a folder", "cwd")
    return Workspace(str(resolved), path_to_uri(resolved))


async def model_options(core: Core, ws: Workspace) -> list[SessionConfigOptionSelect]:
    """The model picker: the key's chat models (the current one at least), current selected."""
    current = await asyncio.to_thread(core.chat.model_for, ws)
    names: dict[str, str] = {}
    if core.settings.current.key:  # with no key nothing is asked upstream
        try:
            listed = cast(list[Json], (await core.models.list())["models"])
            names = {str(m["name"]): str(m["displayName"]) for m in listed if m["kind"] == "chat"}
        except GeminiError as exc:
            log.info("Offering only the current model: %s", exc.message)
    if current not in names:
        names = {current: current, **names}
    choices = [SessionConfigSelectOption(value=v, name=n) for v, n in names.items()]
    return [
        SessionConfigOptionSelect(
            type="select",
            id=MODEL_OPTION,
            name="Model",
            category="model",
            description="The Gemini model of this folder's turns (shared with other editors)",
            current_value=current,
            options=choices,
        )
    ]


async def set_model(core: Core, ws: Workspace, config_id: str, value: object) -> None:
    """Make `value` the folder's model (checked against the key's list when it can be had)."""
    if config_id != MODEL_OPTION:
        raise FieldError(f"Unknown configuration option {config_id!r}", "configId")
    if not isinstance(value, str) or not value:
        raise FieldError("The model must be a model name", "value")
    await core.models.check(value)
    await core.chat.set_model(ws, value)


async def listed(
    core: Core, ws: Workspace, cursor: str | None
) -> tuple[list[SessionInfo], str | None]:
    """A page of the folder's conversations as sessions, most recent first, and the next cursor."""
    offset = int(cursor) if cursor and cursor.isdigit() else 0
    page = await core.library.conversations(ws, PAGE, offset)
    items = cast(list[Json], page["conversations"])
    sessions = [
        SessionInfo(
            session_id=str(c["id"]),
            cwd=ws.key,
            title=str(c["title"]),
            updated_at=str(c["updated"]),
        )
        for c in items
    ]
    more = offset + len(items) < cast(int, page["total"])
    return sessions, str(offset + len(items)) if more else None
