"""One `session/prompt`: the session's conversation made the folder's active one again if another
editor switched away, the blocks read as a turn, the turn run with its events as updates.

The turn runs in a task of its own, so `session/cancel` can stop it at once (the upstream
stream closes, nothing is stored) while the prompt still answers `cancelled`, not an error.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from acp import Client, PromptResponse, RequestError, update_agent_message_text
from acp.schema import SessionInfoUpdate, StopReason

from .. import attachments, files, tools
from ..attachments import Prepared
from ..core import Core
from ..db import now
from ..gemini.errors import BlockedError
from ..params import UriAttachment
from ..store import title_of
from ..turn import Turn
from . import prompt as blocks_in
from .errors import auth_required, invalid_request
from .prompt import Block, PromptInput
from .sessions import Session
from .updates import PromptEvents, ReadText, Updates

log = logging.getLogger(__name__)


async def prompt(
    core: Core, conn: Client, session: Session, blocks: list[Block], reads: bool
) -> PromptResponse:
    """Run one prompt; `reads`: the client offers fs/read_text_file."""
    if session.turn is not None:
        raise invalid_request("A prompt is already running in this session; cancel it first")
    if not core.settings.current.key:
        raise auth_required()
    updates = Updates(conn, session.id)
    reader = _client_reader(conn, session.id) if reads else None
    task = asyncio.create_task(_turn(core, session, blocks_in.read(blocks), updates, reader))
    session.turn = task
    try:
        return PromptResponse(stop_reason=await task)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # the connection is closing: this request is not answered at all
        return PromptResponse(stop_reason="cancelled")
    finally:
        updates.closed = True  # nothing follows the answer, not even a tool thread's update
        session.turn = None


def cancel(session: Session) -> None:
    """Stop the session's prompt now (its answer will be `cancelled`)."""
    if session.turn is not None:
        session.turn.cancel()


async def _turn(
    core: Core, session: Session, asked: PromptInput, updates: Updates, reader: ReadText | None
) -> StopReason:
    blocks_in.check_empty(asked)
    async with session.lock:
        await _reopen(core, session)
        prepared = await _prepare(session, asked, reader)
        events = PromptEvents(updates, session.ws.root, reader)
        token = tools.EDITOR.set(events)  # the turn's tool threads inherit it
        try:
            result = await core.chat.chat(Turn(session.ws, asked.message, prepared), events)
        except BlockedError as exc:
            await updates.send(update_agent_message_text(exc.message))
            return "refusal"
        finally:
            tools.EDITOR.reset(token)
        active = await asyncio.to_thread(core.chat.store().active, session.ws.key)
        session.conversation = str(active) if active is not None else session.conversation
    if result.get("turn") == 1 and asked.message.strip():
        info = SessionInfoUpdate(
            session_update="session_info_update", title=title_of(asked.message), updated_at=now()
        )
        await updates.send(info)
    return "max_tokens" if result.get("finishReason") == "MAX_TOKENS" else "end_turn"


async def _reopen(core: Core, session: Session) -> None:
    """Make the session's conversation the folder's active one if another editor opened, reset
    or started another since (the others are told, as for gemini/openConversation)."""
    active = await asyncio.to_thread(core.chat.store().active, session.ws.key)
    if active is None or str(active) != session.conversation:
        await core.library.open_conversation(session.ws, session.conversation)


async def _prepare(session: Session, asked: PromptInput, reader: ReadText | None) -> Prepared:
    """The attachments as parts; text files read through the client when it offers to."""
    if not asked.attachments:
        return Prepared()
    texts = dict(asked.texts)
    for att in asked.attachments:
        if reader is None or not isinstance(att, UriAttachment) or att.uri in texts:
            continue
        path = await asyncio.to_thread(_confined_text_file, session, att.uri)
        if path is not None and (text := await reader(path)) is not None:
            texts[att.uri] = text
    return await asyncio.to_thread(attachments.prepare, asked.attachments, session.ws, texts.get)


def _confined_text_file(session: Session, uri: str) -> Path | None:
    """The file a link names if the client may be asked for its text (inside the folder, not
    an image or other inline type); None leaves it to `attachments.prepare` (and its errors)."""
    try:
        path = files.confine(session.ws.root, session.ws.path(uri, "prompt"), "prompt")
    except ValueError:
        return None
    return None if attachments.mime_type(path) in attachments.INLINE_TYPES else path


def _client_reader(conn: Client, session_id: str) -> ReadText:
    async def read(path: Path) -> str | None:
        try:
            answer = await conn.read_text_file(session_id=session_id, path=str(path))
        except (RequestError, ConnectionError) as exc:
            log.info("The client could not read %s (%s); reading the disk", path.name, exc)
            return None
        return answer.content[: tools.MAX_READ]

    return read
