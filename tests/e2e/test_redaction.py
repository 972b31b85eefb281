"""Secrets never leave the machine: masked in everything a turn sends upstream (the message,
attachments, the context file, tool results), reported, and stored masked."""

from __future__ import annotations

import json
from pathlib import Path

from gemini_chat.emulator import Emulator

from .conftest import StartDaemon

AWS = "AKIA" + "QX7RM2PL9TZK4WNB"  # format-valid, made up
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


async def test_every_part_of_a_turn_is_masked_and_reported(
    daemons: StartDaemon, emulator: Emulator, workspace: Path
) -> None:
    """An AWS key in the message, a GitHub token in an attached file, the context file and a
    tool result: none reaches the emulator; each is `[REDACTED:<kind>]` there; the result and a
    progress value carry `redacted` naming kind and place; history shows the masked text."""
    (workspace / "GEMINI.md").write_text(f"Deploy with {AWS}.\n")
    (workspace / "creds.txt").write_text(f"token = {GITHUB}\n")
    (workspace / ".env").write_text(f"AWS_ACCESS_KEY_ID={AWS}\n")
    emulator.script({"functionCall": {"name": "read_file", "args": {"path": ".env"}}}, {})
    d = await daemons()
    uri = (workspace / "creds.txt").as_uri()
    result = await d.chat(
        f"why does {AWS} fail?", attachments=[{"uri": uri}], partialResultToken="p"
    )
    sent = json.dumps([r.body for r in emulator.requests(":streamGenerateContent")])
    assert AWS not in sent and GITHUB not in sent
    assert "[REDACTED:aws-access-key]" in sent and "[REDACTED:github-token]" in sent
    expected = [
        {"kind": "github-token", "where": "attachments.0"},
        {"kind": "aws-access-key", "where": "message"},
        {"kind": "aws-access-key", "where": "contextFile"},
        {"kind": "aws-access-key", "where": "tool:read_file"},
    ]
    assert sorted(map(str, result["redacted"])) == sorted(map(str, expected))
    progress = [v["redacted"] for v in d.client.progress["p"] if "redacted" in v]
    assert progress and all(item in expected for item in progress[0])
    turns = await d.history()
    assert turns[0]["text"] == "why does [REDACTED:aws-access-key] fail?"


async def test_redaction_can_be_turned_off(daemons: StartDaemon, emulator: Emulator) -> None:
    """With redactSecrets false the message goes as typed and no `redacted` is reported."""
    d = await daemons(init_options={"redactSecrets": False})
    result = await d.chat(f"is {AWS} valid?")
    assert AWS in json.dumps(emulator.requests(":generateContent")[-1].body)
    assert "redacted" not in result


async def test_ordinary_code_is_not_masked(daemons: StartDaemon, emulator: Emulator) -> None:
    """A question with hashes, UUIDs and code goes upstream unchanged, nothing reported."""
    text = (
        "commit 3f2c1a9e8b7d6c5f4a3b2c1d0e9f8a7b6c5d4e3f, id 123e4567-e89b-12d3-a456-426614174000"
        "\n```python\ndef key(api_key: str) -> str:\n    return api_key.strip()\n```"
    )
    d = await daemons()
    result = await d.chat(text)
    assert "redacted" not in result
    assert emulator.requests(":generateContent")[-1].body["contents"][-1]["parts"][-1] == {  # type: ignore[index]
        "text": text
    }
