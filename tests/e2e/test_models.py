"""Models: the chat models first, the rest marked; a mistyped model is refused with the closest
names; a rate-limit wait counts down."""

from __future__ import annotations

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator

from .conftest import StartDaemon
from .daemon import error_data


async def test_chat_models_come_first_and_the_rest_are_marked(daemons: StartDaemon) -> None:
    """gemini/models lists chat models first; TTS, robotics, computer-use, deep-research and
    Gemma models follow as `special`; Imagen models are `image`; embedding models are absent."""
    d = await daemons()
    models = (await d.request("gemini/models", {}))["models"]
    kinds = [m["kind"] for m in models]
    assert kinds == sorted(kinds, key=lambda k: k != "chat")
    by_name = {m["name"]: m["kind"] for m in models}
    assert by_name["gemini-2.5-flash"] == "chat"
    assert by_name["gemini-2.5-flash-preview-tts"] == "special"
    assert by_name["gemini-robotics-er-1.5-preview"] == "special"
    assert by_name["deep-research-pro-preview-12-2025"] == "special"
    assert by_name["imagen-4.0-generate-001"] == "image"
    assert "gemini-embedding-001" not in by_name


async def test_a_mistyped_model_is_refused_with_the_closest_names(daemons: StartDaemon) -> None:
    """setModel with a name the API does not list is -32602 naming `model`, suggesting close
    names; nothing is saved for the folder."""
    d = await daemons()
    with pytest.raises(JsonRpcException) as err:
        await d.request("gemini/setModel", {"model": "gemini-2.5-flsh"})
    assert error_data(err.value)["field"] == "model"
    assert "did you mean gemini-2.5-flash" in err.value.message
    assert (await d.request("gemini/history", {}))["model"] == "gemini-2.5-flash"
    assert (await d.request("gemini/setModel", {"model": "gemini-2.5-pro"}))["model"] == (
        "gemini-2.5-pro"
    )


async def test_a_rate_limit_wait_counts_down(daemons: StartDaemon, emulator: Emulator) -> None:
    """A 429 asking to wait 3 s: work done progress reports "rate limited: retrying in 3 s",
    then 2 s and 1 s, and the turn goes through."""
    d = await daemons(init_options={"maxRetries": 1})
    emulator.script({"status": 429, "retryDelay": "3s"}, {"reply": "after the wait"})
    result = await d.chat("hi", workDoneToken="w")
    assert result["text"] == "after the wait"
    reports = [v["message"] for v in d.client.progress["w"] if v["kind"] == "report"]
    assert reports == [f"rate limited: retrying in {n} s" for n in (3, 2, 1)]
