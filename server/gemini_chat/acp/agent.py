"""The ACP agent: each method parses, delegates to the core, and maps errors at the edge."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from typing import Any

from acp import (
    PROTOCOL_VERSION,
    AuthenticateResponse,
    Client,
    InitializeResponse,
    LoadSessionResponse,
    NewSessionResponse,
    PromptResponse,
    SetSessionConfigOptionResponse,
)
from acp.schema import (
    AgentCapabilities,
    AuthMethodAgent,
    ClientCapabilities,
    Implementation,
    ListSessionsResponse,
    PromptCapabilities,
    SessionCapabilities,
    SessionListCapabilities,
)

from .. import __version__, conversations
from ..core import Core
from ..protocol import FieldError
from ..workspaces import Workspace
from . import replay, sessions, turns
from .errors import mapped
from .prompt import Block
from .sessions import Session

log = logging.getLogger(__name__)
AUTH_METHOD = "gemini-api-key"
AUTH = AuthMethodAgent(
    id=AUTH_METHOD,
    name="Gemini API key",
    description=(
        "The key comes from the GEMINI_API_KEY environment variable of the editor that starts "
        "gemini-chat-server --acp (or apiKey in its --settings file); nothing to enter here."
    ),
)


class GeminiAgent:
    """ACP v1 on the daemon's core; sessions are the folders' stored conversations."""

    def __init__(self, core: Callable[[], Core]) -> None:
        self._core = core
        self._conn: Client | None = None
        self._sessions: dict[str, Session] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        """One per folder: reopening a session's conversation and its turn go together."""
        self._reads = False

    def on_connect(self, conn: Client) -> None:
        """The connection to the client (for session updates and file reads)."""
        self._conn = conn

    @property
    def conn(self) -> Client:
        """The client's side of the connection."""
        assert self._conn is not None, "on_connect comes first"
        return self._conn

    @mapped
    async def initialize(
        self,
        protocol_version: int,
        client_capabilities: ClientCapabilities | None = None,
        client_info: Implementation | None = None,
        **_meta: Any,
    ) -> InitializeResponse:
        """Protocol version 1 whatever was asked; what we offer; one agent auth method."""
        fs = client_capabilities.fs if client_capabilities is not None else None
        self._reads = bool(fs is not None and fs.read_text_file)
        name = client_info.name if client_info is not None else "an ACP client"
        log.info(
            "initialize from %s (protocol %d, fs reads %s)", name, protocol_version, self._reads
        )
        asyncio.get_running_loop().call_soon(self._core)  # load the core once this is answered
        return InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(
                    image=True, audio=True, embedded_context=True
                ),
                session_capabilities=SessionCapabilities(list=SessionListCapabilities()),
            ),
            auth_methods=[AUTH],
            agent_info=Implementation(name="gemini-chat", title="Gemini Chat", version=__version__),
        )

    @mapped
    async def authenticate(self, method_id: str, **_meta: Any) -> AuthenticateResponse:
        """Nothing to do: the key is in the environment (a missing one fails the prompt)."""
        if method_id != AUTH_METHOD:
            raise FieldError(f"Unknown authentication method {method_id!r}", "methodId")
        return AuthenticateResponse()

    @mapped
    async def new_session(
        self, cwd: str, mcp_servers: object = None, **_meta: Any
    ) -> NewSessionResponse:
        """A fresh conversation on the folder, made its active one (other editors are told)."""
        ws = sessions.folder(cwd)
        core = self._core()
        conv = await core.library.new_conversation(ws)
        self._add(conv, ws)
        options = await sessions.model_options(core, ws)
        return NewSessionResponse(session_id=conv, config_options=list(options))

    @mapped
    async def load_session(
        self, cwd: str, session_id: str, mcp_servers: object = None, **_meta: Any
    ) -> LoadSessionResponse:
        """Reopen a conversation of the folder and replay it, then answer."""
        ws = sessions.folder(cwd)
        core = self._core()
        try:
            number = conversations.conversation_id(session_id)
            store = core.chat.store()
            _, exchanges = await asyncio.to_thread(conversations.whole, store, ws.key, number)
            await core.library.open_conversation(ws, session_id)
        except FieldError as exc:  # the native protocol's field is `id`; here it is sessionId
            if exc.field != "id":
                raise
            raise FieldError(str(exc), "sessionId") from None
        self._add(session_id, ws)
        for update in replay.updates(exchanges):
            await self.conn.session_update(session_id=session_id, update=update)
        return LoadSessionResponse(config_options=list(await sessions.model_options(core, ws)))

    @mapped
    async def list_sessions(
        self, cwd: str | None = None, cursor: str | None = None, **_meta: Any
    ) -> ListSessionsResponse:
        """The folder's conversations, most recent first (the working directory's by default)."""
        ws = sessions.folder(cwd or os.getcwd())
        found, more = await sessions.listed(self._core(), ws, cursor)
        return ListSessionsResponse(sessions=found, next_cursor=more)

    @mapped
    async def set_config_option(
        self, config_id: str, session_id: str, value: str | bool, **_meta: Any
    ) -> SetSessionConfigOptionResponse:
        """Choose the model: the folder's sticky model, as gemini/setModel sets it."""
        session = self._session(session_id)
        core = self._core()
        await sessions.set_model(core, session.ws, config_id, value)
        options = await sessions.model_options(core, session.ws)
        return SetSessionConfigOptionResponse(config_options=list(options))

    @mapped
    async def prompt(self, session_id: str, prompt: list[Block], **_meta: Any) -> PromptResponse:
        """One turn, streamed as session updates."""
        session = self._session(session_id)
        return await turns.prompt(self._core(), self.conn, session, prompt, self._reads)

    async def cancel(self, session_id: str, **_meta: Any) -> None:
        """Stop the session's prompt (it answers `cancelled`); an unknown session is ignored."""
        session = self._sessions.get(session_id)
        if session is not None:
            turns.cancel(session)

    def _add(self, session_id: str, ws: Workspace) -> None:
        old = self._sessions.get(session_id)
        if old is not None:
            turns.cancel(old)
        lock = self._locks.setdefault(ws.key, asyncio.Lock())
        self._sessions[session_id] = Session(session_id, ws, session_id, lock)

    def _session(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise FieldError(
                f"Unknown session {session_id!r}; start one with session/new or session/load",
                "sessionId",
            )
        return session
