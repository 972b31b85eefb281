"""Beyond plain text: thinking config, safety, GEMINI.md, sticky models, tools, images."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator

from .conftest import StartDaemon
from .daemon import Daemon, error_data, last_body

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()


async def test_thinking_config_setting_and_per_turn(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """thinkingConfig from settings reaches the API; a per-turn value overrides it."""
    d = await daemons(
        init_options={"generationConfig": {"thinkingConfig": {"thinkingBudget": 512}}}
    )
    await d.chat("a")
    assert last_body(emulator)["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 512}
    per_turn = {"thinkingConfig": {"thinkingBudget": 0, "includeThoughts": True}}
    await d.chat("b", generationConfig=per_turn)
    assert last_body(emulator)["generationConfig"]["thinkingConfig"] == per_turn["thinkingConfig"]


async def test_safety_settings_pass_through_and_blocks_name_the_category(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """safetySettings go upstream as given; a SAFETY stop names the flagged category."""
    safety = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_ONLY_HIGH"}]
    d = await daemons(init_options={"safetySettings": safety})
    emulator.script({"reply": "", "finishReason": "SAFETY"})
    with pytest.raises(JsonRpcException) as err:
        await d.chat("something risky")
    assert last_body(emulator)["safetySettings"] == safety
    data = error_data(err.value)
    assert data["blockReason"] == "SAFETY"
    assert "safetySettings" in err.value.message
    assert data["categories"] == ["HARM_CATEGORY_DANGEROUS_CONTENT"]
    assert "dangerous content" in err.value.message


async def test_gemini_md_joins_the_system_instruction(
    daemon: Daemon, emulator: Emulator, workspace: Path
) -> None:
    """GEMINI.md is appended to the system instruction, re-read once it changed (the file is
    looked at again at most once a second: a turn soon after an edit may still carry the old
    text, a later one the new), named in status."""
    (workspace / "GEMINI.md").write_text("Always answer in French.\n")
    await daemon.chat("hello")
    system = last_body(emulator)["systemInstruction"]["parts"][0]["text"]
    assert "coding assistant" in system
    assert "Always answer in French." in system
    (workspace / "GEMINI.md").write_text("Always answer in German, please.\n")
    deadline = time.monotonic() + 10
    while "German" not in last_body(emulator)["systemInstruction"]["parts"][0]["text"]:
        assert time.monotonic() < deadline, "no turn carried the edited GEMINI.md"
        await daemon.chat("again")
    system = last_body(emulator)["systemInstruction"]["parts"][0]["text"]
    assert "French" not in system
    status = await daemon.request("gemini/status", {"workspace": workspace.as_uri()})
    assert status["contextFiles"] == [str((workspace / "GEMINI.md").resolve())]


async def test_no_context_file_no_mention(daemon: Daemon) -> None:
    """Without GEMINI.md, status lists no context files."""
    assert (await daemon.request("gemini/status", {}))["contextFiles"] == []


async def test_sticky_model_per_workspace(daemons: StartDaemon, emulator: Emulator) -> None:
    """setModel sticks for the folder across turns, clients and restarts; null forgets it."""
    first = await daemons()
    answer = await first.request("gemini/setModel", {"model": "gemini-2.5-pro"})
    assert answer["model"] == "gemini-2.5-pro"
    await first.chat("a")
    assert emulator.requests("enerateContent")[-1].path.endswith("gemini-2.5-pro:generateContent")
    await first.stop()
    second = await daemons()
    assert (await second.request("gemini/history", {}))["model"] == "gemini-2.5-pro"
    assert (await second.chat("b"))["model"] == "gemini-2.5-pro"
    assert (await second.chat("c", model="gemini-2.0-flash"))["model"] == "gemini-2.0-flash"
    assert (await second.chat("d"))["model"] == "gemini-2.5-pro"
    await second.request("gemini/setModel", {"model": None})
    assert (await second.chat("e"))["model"] == "gemini-2.5-flash"


async def test_tool_call_round_trip(daemon: Daemon, emulator: Emulator, workspace: Path) -> None:
    """The model reads a file through read_file; the answer, history and next turn show it."""
    emulator.script(
        {"functionCall": {"name": "read_file", "args": {"path": "src/app.py"}}},
        {"chunks": ["It adds ", "two numbers."]},
    )
    result = await daemon.chat("what does app.py do?", partialResultToken="p")
    assert result["text"] == "It adds two numbers."
    assert result["toolCalls"] == [{"name": "read_file", "summary": "read src/app.py"}]
    assert {"tool": {"name": "read_file", "summary": "read src/app.py"}} in daemon.client.progress[
        "p"
    ]
    second = last_body(emulator)
    assert second["tools"][0]["functionDeclarations"][0]["name"] == "read_file"
    answer = second["contents"][-1]["parts"][0]["functionResponse"]
    assert answer["name"] == "read_file"
    assert "def add(a, b):" in answer["response"]["content"]
    call = second["contents"][-2]["parts"][0]
    assert "functionCall" in call
    assert "thoughtSignature" in call
    turns = await daemon.history()
    assert [t["role"] for t in turns] == ["user", "model"]
    assert turns[1]["toolCalls"] == result["toolCalls"]
    await daemon.chat("thanks")
    contents = last_body(emulator)["contents"]
    assert len(contents) == 5
    assert contents[1]["parts"][0]["thoughtSignature"] == call["thoughtSignature"]


async def test_tools_cannot_leave_the_workspace(
    daemon: Daemon, emulator: Emulator, tmp_path: Path
) -> None:
    """read_file of a path outside the workspace answers an error; nothing of it is sent."""
    (tmp_path / "secret.txt").write_text("TOP-SECRET")
    emulator.script(
        {"functionCall": {"name": "read_file", "args": {"path": "../secret.txt"}}},
        {"reply": "I cannot read that."},
    )
    await daemon.chat("read the secret")
    answer = last_body(emulator)["contents"][-1]["parts"][0]["functionResponse"]["response"]
    assert "error" in answer
    assert "TOP-SECRET" not in str(emulator.requests())


async def test_list_and_search_respect_gitignore(
    daemon: Daemon, emulator: Emulator, workspace: Path
) -> None:
    """list_files and search_text skip what .gitignore excludes."""
    (workspace / ".gitignore").write_text("build/\n*.log\n")
    (workspace / "build").mkdir()
    (workspace / "build" / "out.py").write_text("needle = 1\n")
    (workspace / "debug.log").write_text("needle\n")
    (workspace / "src" / "lib.py").write_text("needle = 2\n")
    emulator.script(
        {"functionCall": {"name": "list_files", "args": {"glob": "**/*.py"}}},
        {"functionCall": {"name": "search_text", "args": {"query": "needle"}}},
        {"reply": "done"},
    )
    result = await daemon.chat("find the needle")
    assert [c["name"] for c in result["toolCalls"]] == ["list_files", "search_text"]
    bodies = [r.body for r in emulator.requests("enerateContent")]
    listed = bodies[1]["contents"][-1]["parts"][0]["functionResponse"]["response"]  # type: ignore[index]
    found = bodies[2]["contents"][-1]["parts"][0]["functionResponse"]["response"]  # type: ignore[index]
    assert "src/lib.py" in listed["files"]
    assert "build/out.py" not in listed["files"]
    assert "src/lib.py:1: needle = 2" in found["matches"]
    assert "build" not in found["matches"]
    assert "debug.log" not in found["matches"]


async def test_tool_call_cap(daemons: StartDaemon, emulator: Emulator) -> None:
    """Past maxToolCalls the model is told to answer, with function calling off."""
    d = await daemons(init_options={"maxToolCalls": 1})
    call = {"functionCall": {"name": "list_files", "args": {"glob": "*"}}}
    emulator.script(call, call, {"reply": "enough"})
    result = await d.chat("list forever")
    assert result["text"] == "enough"
    bodies = [r.body for r in emulator.requests("enerateContent")]
    assert bodies[2]["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}  # type: ignore[index]
    assert "limit" in str(bodies[2]["contents"][-1])  # type: ignore[index]


async def test_tools_setting_off(daemons: StartDaemon, emulator: Emulator) -> None:
    """With tools off no functionDeclarations are sent."""
    d = await daemons(init_options={"tools": False})
    await d.chat("hi")
    assert "tools" not in last_body(emulator)


async def test_images_in_replies_are_saved(
    daemon: Daemon, emulator: Emulator, data_dir: Path
) -> None:
    """Image parts are saved under dataDir/images and named in the result and history."""
    emulator.script(
        {"reply": "Here is a picture.", "image": {"mimeType": "image/png", "data": PNG}}
    )
    config = {"responseModalities": ["TEXT", "IMAGE"]}
    result = await daemon.chat("draw", generationConfig=config, partialResultToken="p")
    [image] = result["images"]
    path = Path(image["path"])
    assert path.parent == data_dir / "images"
    assert path.read_bytes() == base64.b64decode(PNG)  # noqa: ASYNC240
    assert {"image": image} in daemon.client.progress["p"]
    assert (await daemon.history())[1]["images"] == [image]
