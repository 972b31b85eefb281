"""ACP and native clients on one folder and one store: an ACP session is the folder's live
conversation for native editors too; sessions list, the model choice and settings are shared.
Also what the process itself promises: JSON lines only on stdout, refused bad lines, the
settings file, and a native daemon that never imports the ACP SDK."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import acp
import pytest

from gemini_chat.emulator import Emulator
from polling import until

from .acp_agent import start_agent
from .conftest import StartDaemon
from .daemon import SERVER

pytestmark = pytest.mark.timeout(90)


async def test_an_acp_turn_is_live_in_a_native_editor_on_the_folder(
    daemons: StartDaemon, server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """session/new tells a native daemon's client (conversationChanged `open` with the session
    id); the ACP turn streams there as turnProgress started..finished and lands as a
    conversationChanged `turn`; the native gemini/history then holds the exchange."""
    native = await daemons()
    emulator.script({"chunks": [f"word{i} " for i in range(8)], "chunkDelay": 0.05})
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        opened = await until(
            lambda: [c for c in native.changes() if c["reason"] == "open"], "the open change"
        )
        assert opened[-1]["conversation"] == session
        assert await agent.ask(session, "count to eight") == "end_turn"
    states = await until(
        lambda: (
            native.mirrored()
            if native.mirrored()[-1:] and native.mirrored()[-1]["state"] == "finished"
            else None
        ),
        "turnProgress finished",
    )
    assert states[0]["state"] == "started" and states[0]["message"] == "count to eight"
    assert states[-1]["conversation"] == session and states[-1]["text"].startswith("word0 ")
    await until(lambda: [c for c in native.changes() if c["reason"] == "turn"], "the turn change")
    turns = await native.history()
    assert [t["role"] for t in turns] == ["user", "model"]
    assert turns[0]["text"] == "count to eight"


async def test_a_session_reopens_its_conversation_after_a_native_reset(
    daemons: StartDaemon, server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """When a native editor resets the folder, the ACP session's next prompt reopens its own
    conversation (the native editor is told `open`) and continues it with its history."""
    native = await daemons()
    async with start_agent(server_env) as agent:
        await agent.init()
        session = await agent.new(workspace)
        assert await agent.ask(session, "first") == "end_turn"
        await native.request("gemini/reset", {})
        assert await agent.ask(session, "second") == "end_turn"
    last = emulator.requests(":streamGenerateContent")[-1].body["contents"]
    assert len(last) == 3
    await until(
        lambda: [c for c in native.changes() if c["reason"] == "turn" and c["turn"] == 2],
        "the second turn's change",
    )
    reasons = [(c["reason"], c["conversation"]) for c in native.changes()]
    assert reasons[-3:] == [("reset", session), ("open", session), ("turn", session)]


async def test_sessions_are_listed_and_the_model_is_the_folders_sticky_model(
    daemons: StartDaemon, server_env: dict[str, str], workspace: Path, emulator: Emulator
) -> None:
    """session/list gives the folder's conversations by title, most recent first; choosing the
    model config option sets the folder's model (native gemini/history shows it) and the next
    turn calls that model; an unknown model is -32602 with suggestions."""
    async with start_agent(server_env) as agent:
        await agent.init()
        first = await agent.new(workspace)
        assert await agent.ask(first, "older question") == "end_turn"
        second = await agent.new(workspace)
        assert await agent.ask(second, "newer question") == "end_turn"
        listed = await agent.conn.list_sessions(cwd=str(workspace))
        assert [(s.session_id, s.title) for s in listed.sessions] == [
            (second, "newer question"),
            (first, "older question"),
        ]
        chosen = await agent.conn.set_config_option(
            config_id="model", session_id=second, value="gemini-2.5-pro"
        )
        assert chosen.config_options[0].current_value == "gemini-2.5-pro"
        with pytest.raises(acp.RequestError) as refused:
            await agent.conn.set_config_option(
                config_id="model", session_id=second, value="gemini-2.5-prp"
            )
        assert refused.value.code == -32602 and "gemini-2.5-pro" in str(refused.value)
        assert await agent.ask(second, "which model?") == "end_turn"
    assert "models/gemini-2.5-pro:" in emulator.requests(":streamGenerateContent")[-1].path
    native = await daemons()
    assert (await native.request("gemini/history", {}))["model"] == "gemini-2.5-pro"


async def test_settings_file_and_flags_layer_over_the_environment(
    server_env: dict[str, str], workspace: Path, emulator: Emulator, tmp_path: Path
) -> None:
    """`--settings FILE` (a `gemini` section) sets the model and system instruction; `--model`
    wins over the file; the turn's request shows both."""
    settings = tmp_path / "acp-settings.json"
    body = {"gemini": {"model": "gemini-2.0-flash", "systemInstruction": "Be terse."}}
    settings.write_text(json.dumps(body))
    async with start_agent(server_env, ["--settings", str(settings)]) as agent:
        await agent.init()
        assert await agent.ask(await agent.new(workspace), "hi") == "end_turn"
    async with start_agent(
        server_env, ["--settings", str(settings), "--model", "gemini-2.5-pro"]
    ) as agent:
        await agent.init()
        assert await agent.ask(await agent.new(workspace), "hi") == "end_turn"
    first, second = emulator.requests(":streamGenerateContent")
    assert "models/gemini-2.0-flash:" in first.path and "models/gemini-2.5-pro:" in second.path
    assert first.body["systemInstruction"]["parts"][0]["text"].startswith("Be terse.")


async def test_an_unusable_settings_file_stops_the_agent_with_status_2(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    """A settings file that is not a JSON object: exit status 2, the reason on stderr, nothing
    on stdout."""
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    proc = await asyncio.create_subprocess_exec(
        SERVER, "--acp", "--settings", str(bad), env=server_env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2 and out == b""
    assert b"must hold a JSON object" in err


async def test_stdout_carries_json_lines_only_and_bad_lines_are_answered(
    server_env: dict[str, str],
) -> None:
    """Raw lines: a line that is not JSON gets a parse error (-32700, id null), a JSON array an
    invalid request (-32600); initialize still answers; every stdout line is one JSON object."""
    proc = await asyncio.create_subprocess_exec(
        SERVER, "--acp", env=server_env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    lines = [
        b"this is not json\n",
        b"[1, 2]\n",
        b'{"jsonrpc":"2.0","id":5,"method":"initialize","params":{"protocolVersion":2}}\n',
    ]
    out, _ = await asyncio.wait_for(proc.communicate(b"".join(lines)), 30)
    answers = [json.loads(line) for line in out.decode().splitlines()]
    assert [a.get("error", {}).get("code") for a in answers[:2]] == [-32700, -32600]
    assert answers[0]["id"] is None
    assert answers[2]["id"] == 5 and answers[2]["result"]["protocolVersion"] == 1
    assert out.endswith(b"\n") and len(answers) == 3
    assert proc.returncode == 0


async def test_the_native_daemon_never_imports_the_acp_sdk(
    daemons: StartDaemon, workspace: Path
) -> None:
    """The native daemon, started under `python -X importtime` and taken through initialize and
    a turn, imports no `acp` module (the SDK stays off its start-up path)."""
    native = await daemons(wrapper=[sys.executable, "-X", "importtime"])
    await native.chat("hello")
    imported = [
        line.split("|")[-1].strip()
        for line in native.stderr_text().splitlines()
        if line.startswith("import time:")
    ]
    assert "gemini_chat.handlers" in imported  # the check saw the daemon's imports
    assert [m for m in imported if m == "acp" or m.startswith(("acp.", "gemini_chat.acp"))] == []
