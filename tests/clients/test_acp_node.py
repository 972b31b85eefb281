"""`gemini-chat-server --acp` driven by the official TypeScript ACP SDK (npm
@agentclientprotocol/sdk 1.x) under Node: its ClientSideConnection validates every
session/update against the ACP v1 schema, so an update it drops is one the schema refuses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from conftest import REPO, tool
from e2e.daemon import SERVER
from gemini_chat.emulator import Emulator

CLIENT_DIR = REPO / "tests" / "clients" / "acp"
pytestmark = pytest.mark.timeout(120)


def _sdk() -> Path:
    sdk = CLIENT_DIR / "node_modules" / "@agentclientprotocol" / "sdk"
    if not sdk.is_dir():
        pytest.fail(
            "The ACP TypeScript SDK is not installed: run scripts/setup-test-tools.sh "
            "(npm install --no-save in tests/clients/acp)",
            pytrace=False,
        )
    return sdk


async def test_every_update_of_a_turn_and_a_load_is_valid_acp_v1(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """Under the TypeScript SDK: initialize (version 1), a new session, a prompt with a
    resource link read through fs/read_text_file, a tool call, a thought and a streamed reply,
    session/list, then session/load in a second agent: every session/update the agent wrote
    passed the SDK's schema validation, and the kinds arrived as expected."""
    node = tool("node", "apt-get install nodejs")
    _sdk()
    main = workspace / "main.ts"
    main.write_text("export const answer = 41;\n")
    emulator.script(
        {"functionCall": {"name": "read_file", "args": {"path": "main.ts"}}},
        {"thought": "It is 42 in the buffer.", "chunks": ["It exports ", "answer = 42."]},
    )
    proc = await asyncio.create_subprocess_exec(
        node, str(CLIENT_DIR / "client.mjs"), str(workspace), str(main), "--", SERVER, "--acp",
        env=server_env, cwd=str(CLIENT_DIR),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["protocolVersion"] == 1 and result["stopReason"] == "end_turn"
    assert result["listed"] == [result["sessionId"]]
    prompt, load = result["prompt"], result["load"]
    assert prompt["raw"] == prompt["valid"] > 0, f"schema refused updates: {err.decode()[-2000:]}"
    assert load["raw"] == load["valid"] > 0, f"schema refused updates: {err.decode()[-2000:]}"
    assert prompt["kinds"][:2] == ["tool_call", "tool_call_update"]
    assert "agent_thought_chunk" in prompt["kinds"] and "agent_message_chunk" in prompt["kinds"]
    assert prompt["reads"] == [str(main.resolve()), str(main.resolve())]
    assert load["kinds"] == [
        "user_message_chunk", "agent_thought_chunk", "tool_call", "agent_message_chunk",
    ]  # fmt: skip
    generate = emulator.requests(":streamGenerateContent")
    assert "answer = 42" in json.dumps(generate[0].body["contents"][-1])
