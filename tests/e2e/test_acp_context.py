"""ACP prompts with context: resource links, embedded resources and images as attachments
(inside the session's folder only), files read through the client's fs/read_text_file, and
the workspace tools as tool_call / tool_call_update."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import acp
import pytest
from acp.schema import EmbeddedResourceContentBlock, TextResourceContents

from gemini_chat.emulator import Emulator

from .acp_agent import start_agent

pytestmark = pytest.mark.timeout(60)
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


def _last_parts(emulator: Emulator) -> list[dict[str, Any]]:
    """The user parts of the last generate request."""
    return emulator.requests(":streamGenerateContent")[-1].body["contents"][-1]["parts"]


def _tool_updates(updates: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [u for _, u in updates if u["sessionUpdate"] in ("tool_call", "tool_call_update")]


async def test_resource_link_and_image_become_attachments(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """A resource_link to a file of the folder is attached (fenced, with its path) and named
    in the message where it stood; an image block goes as inline data."""
    app = workspace / "src" / "app.py"
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        link = acp.resource_link_block("app.py", app.as_uri())
        image = acp.image_block(PNG, "image/png")
        assert await agent.ask(session, "Explain", link, "please", image) == "end_turn"
    parts = _last_parts(emulator)
    assert parts[0]["text"].startswith("Attached file: `src/app.py`\n```python\ndef add(a, b):")
    assert parts[1]["inlineData"] == {"mimeType": "image/png", "data": PNG}
    assert parts[2]["text"] == "Explain @app.py please"


async def test_a_link_outside_the_folder_is_refused_and_nothing_goes_upstream(
    server_env: dict[str, str], workspace: Path, emulator: Emulator, tmp_path: Path
) -> None:
    """A resource_link to a file outside the session's folder (here a symlink out of it) is
    -32602 saying so; no request reaches the emulator."""
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n")
    (workspace / "link.txt").symlink_to(secret)
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        for uri in (secret.as_uri(), (workspace / "link.txt").as_uri()):
            with pytest.raises(acp.RequestError) as refused:
                await agent.ask(session, "Read", acp.resource_link_block("x", uri))
            assert refused.value.code == -32602
            assert "outside the workspace" in str(refused.value)
    assert emulator.requests(":streamGenerateContent") == []


async def test_an_embedded_resource_is_the_unsaved_text_of_its_file(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """An embedded text resource of a folder file is attached with the client's text (its
    unsaved buffer), not the disk's."""
    app = workspace / "src" / "app.py"
    res = TextResourceContents(uri=app.as_uri(), text="UNSAVED = 1\n", mime_type="text/x-python")
    block = EmbeddedResourceContentBlock(type="resource", resource=res)
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        assert await agent.ask(session, "What is this?", block) == "end_turn"
    parts = _last_parts(emulator)
    assert "UNSAVED = 1" in parts[0]["text"] and "def add" not in parts[0]["text"]


async def test_files_are_read_through_the_client_when_it_offers_fs_reads(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """With fs.readTextFile offered, a linked file and the read_file tool both read the
    client's unsaved buffer; the tool call is a `tool_call` (kind read, in_progress, the file
    as location) then a `tool_call_update` (completed), both before the reply's text."""
    app = workspace / "src" / "app.py"
    emulator.script(
        {"functionCall": {"name": "read_file", "args": {"path": "src/app.py", "startLine": 1}}},
        {"reply": "It is unsaved."},
    )
    buffers = {str(app): "print('unsaved buffer')\n"}
    async with start_agent(server_env, buffers=buffers) as agent:
        await agent.init(fs=True)
        session = await agent.new(workspace)
        link = acp.resource_link_block("app.py", app.as_uri())
        assert await agent.ask(session, "Look", link) == "end_turn"
        updates = agent.client.updates
        kinds = agent.client.kinds(session)
    first, second = (r.body["contents"] for r in emulator.requests(":streamGenerateContent"))
    assert "unsaved buffer" in first[-1]["parts"][0]["text"]
    response = second[-1]["parts"][0]
    assert response["functionResponse"]["response"]["content"] == "print('unsaved buffer')"
    start, end = _tool_updates(updates)
    assert start["sessionUpdate"] == "tool_call" and start["status"] == "in_progress"
    assert start["kind"] == "read" and start["title"] == "Read src/app.py"
    assert start["locations"] == [{"path": str(app), "line": 1}]
    assert end["toolCallId"] == start["toolCallId"] and end["status"] == "completed"
    assert end["locations"] == [{"path": str(app.resolve()), "line": 1}]
    assert kinds.index("tool_call_update") < kinds.index("agent_message_chunk")
    assert agent.client.reads == [str(app), str(app)]


async def test_search_is_a_search_tool_call_and_a_failing_call_is_failed(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """search_text is kind search with the matching files as locations; a read of a file
    outside the folder ends failed; the reply follows."""
    emulator.script(
        {"functionCall": {"name": "search_text", "args": {"query": "return a + b"}}},
        {"functionCall": {"name": "read_file", "args": {"path": "../../etc/passwd"}}},
        {"reply": "Done."},
    )
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        assert await agent.ask(session, "Find the adder") == "end_turn"
        calls = _tool_updates(agent.client.updates)
    assert [(c["sessionUpdate"], c.get("status")) for c in calls] == [
        ("tool_call", "in_progress"),
        ("tool_call_update", "completed"),
        ("tool_call", "in_progress"),
        ("tool_call_update", "failed"),
    ]
    assert calls[0]["kind"] == "search"
    app = (workspace / "src" / "app.py").resolve()
    assert calls[1]["locations"] == [{"path": str(app), "line": 2}]
    assert "outside the workspace" in calls[3]["title"]
