"""`gemini-chat-server --acp` driven by the official ACP SDK's client, against the emulator:
initialize, sessions, streamed turns, history, cancel, load, stop reasons, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import acp
import pytest

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from polling import until

from .acp_agent import start_agent

pytestmark = pytest.mark.timeout(60)


def _contents(emulator: Emulator) -> list[list[dict[str, Any]]]:
    """The `contents` of each generate request the emulator received."""
    return [r.body["contents"] for r in emulator.requests(":streamGenerateContent")]


async def test_initialize_answers_version_1_with_capabilities_and_one_auth_method(
    server_env: dict[str, str],
) -> None:
    """initialize answers protocolVersion 1 although 7 was asked, offers loadSession, image,
    audio and embedded context, session/list, and one agent auth method naming GEMINI_API_KEY;
    authenticate with it answers {} and an unknown method is refused."""
    async with start_agent(server_env) as agent:
        answer = await agent.init(version=7)
        caps = answer.agent_capabilities
        assert answer.protocol_version == 1
        assert caps.load_session is True
        assert caps.prompt_capabilities.model_dump(by_alias=True, exclude_none=True) == {
            "image": True,
            "audio": True,
            "embeddedContext": True,
        }
        assert caps.session_capabilities.list is not None
        [method] = answer.auth_methods
        assert method.id == "gemini-api-key" and "GEMINI_API_KEY" in (method.description or "")
        [shown] = agent.wire[0]["result"]["authMethods"]  # no "type": the agent kind
        assert set(shown) == {"id", "name", "description"}
        assert await agent.conn.authenticate(method_id="gemini-api-key") is not None
        assert agent.wire[-1] == {"jsonrpc": "2.0", "id": 1, "result": {}}
        with pytest.raises(acp.RequestError) as refused:
            await agent.conn.authenticate(method_id="password")
        assert refused.value.code == -32602


async def test_prompt_streams_the_reply_and_the_next_prompt_carries_the_history(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """A prompt's reply arrives as agent_message_chunk text blocks in order, answered
    end_turn, with the session titled after the first question; the second prompt's request
    carries the first exchange."""
    emulator.script({"chunks": ["Hel", "lo ", "there"]}, {"reply": "Second."})
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        assert await agent.ask(session, "What is 2+2?") == "end_turn"
        assert agent.client.texts("agent_message_chunk") == ["Hel", "lo ", "there"]
        info = [u for _, u in agent.client.updates if u["sessionUpdate"] == "session_info_update"]
        assert info[0]["title"] == "What is 2+2?"
        assert await agent.ask(session, "And 3+3?") == "end_turn"
    second = _contents(emulator)[1]
    assert [c["role"] for c in second] == ["user", "model", "user"]
    assert second[0]["parts"][-1]["text"] == "What is 2+2?"
    assert "".join(p["text"] for p in second[1]["parts"]) == "Hello there"
    assert second[2]["parts"][-1]["text"] == "And 3+3?"


async def test_thoughts_stream_as_agent_thought_chunks(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """A reply's thought part arrives as agent_thought_chunk before the answer's text."""
    emulator.script({"thought": "Let me think.", "reply": "Four."})
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        assert await agent.ask(session, "2+2?") == "end_turn"
        kinds = agent.client.kinds(session)
        assert agent.client.texts("agent_thought_chunk") == ["Let me think."]
        assert kinds.index("agent_thought_chunk") < kinds.index("agent_message_chunk")


async def test_cancel_stops_the_upstream_call_answers_cancelled_and_stores_nothing(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """session/cancel mid-stream closes the upstream stream at once, the prompt answers
    `cancelled` (not an error), no session/update follows that answer, and the next prompt's
    request does not carry the cancelled exchange."""
    slow = {"chunks": [f"piece {i} " for i in range(40)], "chunkDelay": 0.3}
    emulator.script(slow, {"reply": "Fresh."})
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        asked = asyncio.create_task(agent.ask(session, "Tell me a long story"))
        await until(lambda: agent.client.texts("agent_message_chunk"), "the first chunk")
        await agent.conn.cancel(session_id=session)
        assert await asyncio.wait_for(asked, 5) == "cancelled"
        emulator.wait_for_event("disconnect", timeout=2)
        answer = next(
            i for i, m in enumerate(agent.wire) if m.get("result") == {"stopReason": "cancelled"}
        )
        await agent.conn.list_sessions(cwd=str(workspace))  # a barrier: answered in order
        late = [m for m in agent.wire[answer + 1 :] if m.get("method") == "session/update"]
        assert late == []
        assert await agent.ask(session, "Start over") == "end_turn"
    assert [c["role"] for c in _contents(emulator)[1]] == ["user"]


async def test_load_replays_the_whole_conversation_before_answering(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """session/load in another agent process reopens the conversation by its id and replays
    the user message, the thought, the tool call and the reply before it answers; the next
    prompt continues that conversation."""
    emulator.script(
        {"functionCall": {"name": "read_file", "args": {"path": "src/app.py"}}},
        {"thought": "It adds.", "reply": "It prints 5."},
        {"reply": "Still 5."},
    )
    async with start_agent(server_env) as first:
        await first.init()
        session = await first.new(workspace)
        assert await first.ask(session, "What does app.py print?") == "end_turn"
    async with start_agent(server_env) as second:
        await second.init()
        await second.conn.load_session(cwd=str(workspace), session_id=session, mcp_servers=[])
        answer = second.answered_at(1)
        replayed = [m["params"]["update"] for m in second.wire[:answer] if "method" in m]
        assert [u["sessionUpdate"] for u in replayed] == [
            "user_message_chunk",
            "agent_thought_chunk",
            "tool_call",
            "agent_message_chunk",
        ]
        assert replayed[0]["content"] == {"type": "text", "text": "What does app.py print?"}
        assert replayed[2]["status"] == "completed" and replayed[2]["kind"] == "read"
        assert replayed[3]["content"] == {"type": "text", "text": "It prints 5."}
        assert await second.ask(session, "Sure?") == "end_turn"
    assert len(_contents(emulator)[-1]) == 5  # user, call, response, reply, the new question


async def test_load_refuses_a_conversation_of_another_folder(
    server_env: dict[str, str], workspace: Path, tmp_path: Path
) -> None:
    """A session id that is not a conversation of the cwd folder, or no conversation id at all,
    is -32602 naming the request's field `sessionId`, nothing replayed."""
    other = tmp_path / "other"
    other.mkdir()
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        with pytest.raises(acp.RequestError) as refused:
            await agent.conn.load_session(cwd=str(other), session_id=session, mcp_servers=[])
        assert refused.value.code == -32602
        assert "not a conversation of this folder" in str(refused.value)
        assert refused.value.data == {"reason": "invalidParams", "field": "sessionId"}
        with pytest.raises(acp.RequestError) as refused:
            await agent.conn.load_session(cwd=str(workspace), session_id="x1", mcp_servers=[])
        assert refused.value.code == -32602
        assert refused.value.data == {"reason": "invalidParams", "field": "sessionId"}


async def test_stop_reasons_max_tokens_and_refusal(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """A reply cut by MAX_TOKENS answers max_tokens; a blocked prompt answers refusal with the
    block explained in an agent message chunk, and is not stored."""
    emulator.script(
        {"reply": "Cut sh", "finishReason": "MAX_TOKENS"},
        {"block": "PROHIBITED_CONTENT"},
        {"reply": "ok"},
    )
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        assert await agent.ask(session, "Write a lot") == "max_tokens"
        assert await agent.ask(session, "Something blocked") == "refusal"
        assert (
            "Gemini blocked the message (PROHIBITED_CONTENT)"
            in agent.client.texts("agent_message_chunk")[-1]
        )
        assert await agent.ask(session, "Next") == "end_turn"
    assert len(_contents(emulator)[-1]) == 3  # the cut exchange and the new question only


async def test_a_rate_limit_that_cannot_be_waited_out_is_an_error_saying_so(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """A used-up daily quota (no retry can help) fails the prompt with -32803 and the native
    message, data.reason rateLimited."""
    emulator.script({"status": 429, "quota": "day"})
    async with start_agent(server_env, ["--set", "maxRetries=0"]) as agent:
        await agent.init()
        session = await agent.new(workspace)
        with pytest.raises(acp.RequestError) as failed:
            await agent.ask(session, "Hi")
        assert failed.value.code == -32803
        assert "daily quota for this model is used up" in str(failed.value)
        assert failed.value.data["reason"] == "rateLimited"


async def test_missing_key_is_auth_required_and_nothing_goes_upstream(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """Without a key, session/new still works (offering the current model only) and the
    prompt is the spec's auth_required (-32000) naming GEMINI_API_KEY; the emulator gets no
    request at all."""
    env = {k: v for k, v in server_env.items() if k != "GEMINI_API_KEY"}
    async with start_agent(env) as agent:
        await agent.init()
        answer = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[])
        [model] = answer.config_options or []
        assert [o.value for o in model.options] == ["gemini-2.5-flash"]
        with pytest.raises(acp.RequestError) as refused:
            await agent.ask(answer.session_id, "Hi")
        assert refused.value.code == -32000
        assert "GEMINI_API_KEY" in str(refused.value)
    assert emulator.requests() == []


async def test_a_refused_key_is_auth_required_and_never_echoed(
    server_env: dict[str, str], workspace: Path
) -> None:
    """A key Gemini refuses is auth_required naming GEMINI_API_KEY; the key is in no message,
    no log line and no update."""
    bad = "AIzaSyBadBadBadBadBadBadBadBadBadBad123"
    async with start_agent({**server_env, "GEMINI_API_KEY": bad}) as agent:
        await agent.init()
        session = await agent.new(workspace)
        with pytest.raises(acp.RequestError) as refused:
            await agent.ask(session, "Hi")
        assert refused.value.code == -32000
        assert "GEMINI_API_KEY" in str(refused.value)
        seen = repr(agent.wire) + agent.stderr_text()
        assert bad not in seen and EMULATOR_KEY not in seen
