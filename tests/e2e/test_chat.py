"""gemini/chat end to end: the real daemon, the emulator over HTTP, history on disk."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from polling import until

from .conftest import StartDaemon
from .daemon import Daemon


def _contents(emulator: Emulator, n: int = -1) -> list[dict[str, Any]]:
    reqs = emulator.requests(":generateContent")
    return reqs[n].body["contents"]  # type: ignore[index,return-value]


async def test_seed_conversation_reaches_the_api_exactly(
    daemon: Daemon, emulator: Emulator
) -> None:
    """The history plus the new turn go upstream as exactly those contents, roles and texts."""
    emulator.script({"reply": "Great to meet you. What would you like to know?"})
    first = await daemon.chat("Hello")
    assert first["text"] == "Great to meet you. What would you like to know?"
    assert first["turn"] == 1
    await daemon.chat("I have two dogs in my house. How many paws are in my house?")
    assert _contents(emulator) == [
        {"role": "user", "parts": [{"text": "Hello"}]},
        {"role": "model", "parts": [{"text": "Great to meet you. What would you like to know?"}]},
        {
            "role": "user",
            "parts": [{"text": "I have two dogs in my house. How many paws are in my house?"}],
        },
    ]


async def test_result_shape_and_request_fields(daemon: Daemon, emulator: Emulator) -> None:
    """The result carries PROTOCOL.md's fields; the request has systemInstruction and config."""
    emulator.script({"reply": "You have two dogs, so 8 paws."})
    result = await daemon.chat("paws?", generationConfig={"temperature": 0.2})
    assert result["text"] == "You have two dogs, so 8 paws."
    assert result["finishReason"] == "STOP"
    assert result["model"] == "gemini-2.5-flash"
    assert result["workspace"] == daemon.folders[0]
    assert set(result["usage"]) == {
        "promptTokens", "replyTokens", "thoughtsTokens", "totalTokens", "cachedTokens", "cost",
    }  # fmt: skip
    assert result["usage"]["totalTokens"] > 0
    req = emulator.requests(":generateContent")[-1]
    assert req.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert req.body["generationConfig"] == {"temperature": 0.2}  # type: ignore[index]
    assert "coding assistant" in req.body["systemInstruction"]["parts"][0]["text"]  # type: ignore[index]


async def test_per_turn_model_override(daemon: Daemon, emulator: Emulator) -> None:
    """`model` in params picks the model for this turn only."""
    result = await daemon.chat("hi", model="gemini-2.5-pro")
    assert result["model"] == "gemini-2.5-pro"
    assert emulator.requests(":generateContent")[-1].path.endswith("gemini-2.5-pro:generateContent")


async def test_history_and_reset(daemon: Daemon, emulator: Emulator) -> None:
    """History shows both sides with times and usage; reset archives and starts afresh."""
    emulator.script({"reply": "one"})
    await daemon.chat("first")
    turns = await daemon.history()
    assert [(t["role"], t["text"]) for t in turns] == [("user", "first"), ("model", "one")]
    assert turns[0]["attachments"] == [] and turns[0]["time"].endswith("Z")
    assert turns[1]["usage"]["totalTokens"] > 0
    reset = await daemon.request("gemini/reset", {})
    assert reset == {"workspace": daemon.folders[0], "cleared": 2}
    assert await daemon.history() == []
    result = await daemon.chat("again")
    assert result["turn"] == 1
    assert _contents(emulator) == [{"role": "user", "parts": [{"text": "again"}]}]


async def test_workspaces_are_isolated(
    daemons: StartDaemon, tmp_path: Path, emulator: Emulator
) -> None:
    """Two folders keep two conversations."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    d = await daemons([a, b])
    await d.chat("in a", workspace=a.as_uri())
    await d.chat("in b", workspace=b.as_uri())
    assert _contents(emulator) == [{"role": "user", "parts": [{"text": "in b"}]}]
    assert [t["text"] for t in await d.history(a.as_uri())][0] == "in a"


async def test_equivalent_uris_are_one_workspace(daemon: Daemon, workspace: Path) -> None:
    """file:///a/b, file:///a/b/ and file:///a/./b continue one conversation."""
    base = workspace.as_uri()
    parent, name = base.rsplit("/", 1)
    for uri in (base, base + "/", f"{parent}/./{name}"):
        await daemon.chat("hello", workspace=uri)
    assert len(await daemon.history()) == 6


async def test_default_workspace_is_the_first_folder(daemon: Daemon) -> None:
    """Without `workspace`, the only folder is meant."""
    result = await daemon.chat("hi")
    assert result["workspace"] == daemon.folders[0]


async def test_persists_across_restart(daemons: StartDaemon, emulator: Emulator) -> None:
    """A new daemon on the same store continues the conversation."""
    first = await daemons()
    await first.chat("remember me")
    await first.stop()
    second = await daemons()
    result = await second.chat("still there?")
    assert result["turn"] == 2
    assert _contents(emulator)[0] == {"role": "user", "parts": [{"text": "remember me"}]}


async def test_two_daemons_share_one_conversation(daemons: StartDaemon, emulator: Emulator) -> None:
    """VS Code and Neovim on one folder (two daemons, one store) continue one conversation."""
    vscode, nvim = await daemons(), await daemons()
    await vscode.chat("from vscode")
    result = await nvim.chat("from nvim")
    assert result["turn"] == 2
    texts = [c["parts"][0]["text"] for c in _contents(emulator)]
    assert texts[0] == "from vscode" and texts[-1] == "from nvim"
    assert len(await vscode.history()) == 4


async def test_same_workspace_turns_are_served_in_order(daemon: Daemon, emulator: Emulator) -> None:
    """The second request's upstream history holds the first one's exchange."""
    emulator.script({"reply": "first answer", "delay": 0.3}, {"reply": "second answer"})
    one = asyncio.ensure_future(daemon.chat("first"))
    two = asyncio.ensure_future(daemon.chat("second"))
    r1, r2 = await asyncio.gather(one, two)
    assert (r1["turn"], r2["turn"]) == (1, 2)
    assert [c["parts"][0]["text"] for c in _contents(emulator)] == [
        "first",
        "first answer",
        "second",
    ]


async def test_different_workspaces_run_concurrently(
    daemons: StartDaemon, tmp_path: Path, emulator: Emulator
) -> None:
    """Both upstream calls are in flight at once when the turns are for different folders."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    d = await daemons([a, b])
    emulator.script({"delay": 3}, {"delay": 3})
    one = asyncio.ensure_future(d.chat("a", workspace=a.as_uri()))
    two = asyncio.ensure_future(d.chat("b", workspace=b.as_uri()))
    await until(lambda: len(emulator.requests(":generateContent")) >= 2, "the second request")
    assert not one.done(), "the first turn finished before the second started: not concurrent"
    await asyncio.gather(one, two)


async def test_models_lists_generate_content_models(daemon: Daemon, emulator: Emulator) -> None:
    """gemini/models reads every page and keeps only generateContent models, bare ids."""
    result = await daemon.request("gemini/models", {})
    names = [m["name"] for m in result["models"]]
    assert "gemini-2.5-flash" in names
    assert not any(n.startswith("models/") or "embedding" in n for n in names)
    flash = next(m for m in result["models"] if m["name"] == "gemini-2.5-flash")
    assert flash["inputTokenLimit"] == 1048576 and flash["thinking"] is True
    assert result["default"] == "gemini-2.5-flash"
    pages = len(emulator.requests("/v1beta/models"))
    await daemon.request("gemini/models", {})
    assert len(emulator.requests("/v1beta/models")) == pages, "models should be cached"


async def test_status_never_shows_the_key(
    daemon: Daemon, emulator: Emulator, data_dir: Path
) -> None:
    """gemini/status says whether a key is set, never the key."""
    status = await daemon.request("gemini/status", {})
    assert status["apiKeySet"] is True
    assert status["baseUrl"] == emulator.url
    assert status["dataDir"] == str(data_dir)
    assert status["workspaces"] == daemon.folders
    assert EMULATOR_KEY not in repr(status)


async def test_count_tokens(daemon: Daemon, emulator: Emulator) -> None:
    """gemini/countTokens sizes what the next turn would send (history, draft, system
    instruction, tools) against the model's input limit: the same fields as the turn's request,
    and a total equal to the prompt size the emulator reports for that turn."""
    await daemon.chat("hello there")
    result = await daemon.request("gemini/countTokens", {"message": "and a draft"})
    assert result["model"] == "gemini-2.5-flash"
    assert result["inputTokenLimit"] == 1048576
    counted = emulator.requests(":countTokens")[-1].body["generateContentRequest"]  # type: ignore[index]
    assert counted["model"] == "models/gemini-2.5-flash"
    assert len(counted["contents"]) == 3
    turn = await daemon.chat("and a draft")
    sent = emulator.requests(":generateContent")[-1].body
    assert {k: v for k, v in counted.items() if k != "model"} == sent
    assert result["totalTokens"] == turn["usage"]["promptTokens"]


async def test_settings_from_initialization_options_and_changes(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """initializationOptions set the model; didChangeConfiguration changes it at run time."""
    d = await daemons(init_options={"gemini": {"model": "gemini-2.5-pro"}})
    assert (await d.chat("a"))["model"] == "gemini-2.5-pro"
    d.client.workspace_did_change_configuration(
        __import__("lsprotocol.types").types.DidChangeConfigurationParams(
            settings={"gemini": {"model": "gemini-2.0-flash"}}
        )
    )
    assert (await d.chat("b"))["model"] == "gemini-2.0-flash"


async def test_bad_setting_is_reported_once(daemons: StartDaemon) -> None:
    """A bad setting value is shown to the user once and its default kept."""
    d = await daemons(init_options={"requestTimeout": "soon", "model": "gemini-2.5-pro"})
    status = await d.request("gemini/status", {})
    assert status["model"] == "gemini-2.5-pro"
    shown = [m.message for m in d.client.messages]
    assert len([m for m in shown if "gemini.requestTimeout" in m]) == 1
