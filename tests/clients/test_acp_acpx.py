"""A real third-party ACP client, headless: acpx (npm, "Headless CLI client for the Agent
Client Protocol") runs a one-shot prompt against `gemini-chat-server --acp` and the emulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from e2e.daemon import SERVER
from gemini_chat.emulator import Emulator

ACPX = REPO / "tests" / "clients" / "acp" / "node_modules" / ".bin" / "acpx"
pytestmark = pytest.mark.timeout(120)


async def test_acpx_runs_a_turn_with_a_tool_call_and_a_thought(
    server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """`acpx --agent 'gemini-chat-server --acp' exec`: the agent answers initialize and
    session/new, reads src/app.py through acpx's fs/read_text_file during a read tool call
    (tool_call then tool_call_update completed), streams a thought and the reply, and the
    prompt ends end_turn; the model saw the file's text."""
    if not ACPX.exists():
        pytest.fail("acpx is not installed: run scripts/setup-test-tools.sh", pytrace=False)
    emulator.script(
        {"functionCall": {"name": "read_file", "args": {"path": "src/app.py"}}},
        {"thought": "It adds.", "chunks": ["It prints ", "5."]},
    )
    proc = await asyncio.create_subprocess_exec(
        str(ACPX), "--agent", f"{SERVER} --acp", "--cwd", str(workspace), "--approve-reads",
        "--format", "json", "--timeout", "60", "exec", "What does src/app.py print?",
        env=server_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 100)
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    wire: list[dict[str, Any]] = [json.loads(line) for line in out.decode().splitlines() if line]
    updates = [m["params"]["update"] for m in wire if m.get("method") == "session/update"]
    kinds = [u["sessionUpdate"] for u in updates]
    assert kinds[:4] == [
        "tool_call",
        "tool_call_update",
        "agent_thought_chunk",
        "agent_message_chunk",
    ]
    assert updates[0]["kind"] == "read" and updates[1]["status"] == "completed"
    reply = "".join(
        u["content"]["text"] for u in updates if u["sessionUpdate"] == "agent_message_chunk"
    )
    assert reply == "It prints 5."
    assert any(m.get("method") == "fs/read_text_file" for m in wire)
    assert {"stopReason": "end_turn"} in [m.get("result") for m in wire]
    answer = emulator.requests(":streamGenerateContent")[-1].body["contents"][-1]["parts"][0]
    assert "print(add(2, 3))" in answer["functionResponse"]["response"]["content"]
