"""Every error reason of PROTOCOL.md (non-streaming): the right code, reason and message,
and the history unchanged."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator

from .conftest import StartDaemon
from .daemon import Daemon, error_data

REQUEST_FAILED = -32803


async def _fails(d: Daemon, **params: Any) -> JsonRpcException:
    """Send a turn that must fail with RequestFailed; return the error."""
    with pytest.raises(JsonRpcException) as err:
        await d.chat(params.pop("message", "will this work?"), **params)
    assert err.value.code == REQUEST_FAILED, err.value
    assert err.value.message
    return err.value


async def _one_good_turn(d: Daemon) -> list[dict[str, Any]]:
    await d.chat("a turn that works")
    return await d.history()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_api_key_missing(
    daemons: StartDaemon, server_env: dict[str, str], emulator: Emulator
) -> None:
    """No key anywhere: apiKeyMissing, saying how to set one; nothing goes upstream."""
    env = {k: v for k, v in server_env.items() if k != "GEMINI_API_KEY"}
    d = await daemons(env=env)
    err = await _fails(d)
    assert error_data(err)["reason"] == "apiKeyMissing"
    assert "GEMINI_API_KEY" in err.message
    assert emulator.requests(":generateContent") == []
    assert await d.history() == []


async def test_api_key_invalid(daemons: StartDaemon, server_env: dict[str, str]) -> None:
    """A key the API refuses: apiKeyInvalid with the HTTP status, and never the key."""
    d = await daemons(env={**server_env, "GEMINI_API_KEY": "wrong-key-0000"})
    err = await _fails(d)
    data = error_data(err)
    assert data["reason"] == "apiKeyInvalid"
    assert data["httpStatus"] == 400
    assert "wrong-key-0000" not in err.message
    assert await d.history() == []


async def test_rate_limited_beyond_the_cap_fails_at_once(
    daemon: Daemon, emulator: Emulator
) -> None:
    """A 429 asking for a wait longer than maxRetryDelay fails at once with retryAfterSeconds."""
    before = await _one_good_turn(daemon)
    emulator.script({"status": 429, "retryDelay": "120s", "quota": "minute"})
    err = await _fails(daemon)
    data = error_data(err)
    assert data["reason"] == "rateLimited"
    assert data["retryAfterSeconds"] == 120
    assert data["httpStatus"] == 429
    assert len(emulator.requests(":generateContent")) == 2
    assert await daemon.history() == before


async def test_blocked_prompt(daemon: Daemon, emulator: Emulator) -> None:
    """HTTP 200 with promptFeedback.blockReason: reason blocked with the blockReason."""
    before = await _one_good_turn(daemon)
    emulator.script({"block": "PROHIBITED_CONTENT"})
    err = await _fails(daemon)
    assert error_data(err)["reason"] == "blocked"
    assert error_data(err)["blockReason"] == "PROHIBITED_CONTENT"
    assert await daemon.history() == before


async def test_reply_stopped_for_safety_without_text(daemon: Daemon, emulator: Emulator) -> None:
    """A candidate that stopped for SAFETY with no text is blocked, naming SAFETY."""
    before = await _one_good_turn(daemon)
    emulator.script({"finishReason": "SAFETY", "reply": ""})
    err = await _fails(daemon)
    assert error_data(err)["reason"] == "blocked"
    assert error_data(err)["blockReason"] == "SAFETY"
    assert await daemon.history() == before


async def test_max_tokens_returns_what_came(daemon: Daemon, emulator: Emulator) -> None:
    """MAX_TOKENS is not an error: the partial reply is returned and kept."""
    emulator.script({"reply": "half an ans", "finishReason": "MAX_TOKENS"})
    result = await daemon.chat("long question")
    assert (result["text"], result["finishReason"]) == ("half an ans", "MAX_TOKENS")
    assert len(await daemon.history()) == 2


async def test_model_not_found(daemon: Daemon) -> None:
    """An unknown model: modelNotFound with HTTP 404."""
    before = await _one_good_turn(daemon)
    err = await _fails(daemon, model="gemini-0.1-nonexistent")
    assert error_data(err)["reason"] == "modelNotFound"
    assert error_data(err)["httpStatus"] == 404
    assert await daemon.history() == before


async def test_bad_request(daemon: Daemon, emulator: Emulator) -> None:
    """Another 400 from the API: badRequest with Gemini's own message."""
    before = await _one_good_turn(daemon)
    emulator.script({"status": 400, "message": "Request contains an invalid argument."})
    err = await _fails(daemon)
    assert error_data(err)["reason"] == "badRequest"
    assert "invalid argument" in err.message
    assert await daemon.history() == before


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("generationConfig", {"temperatur": 1}),
        ("generationConfig", {"thinkingConfig": {"thinkingLevel": "huge"}}),
        ("safetySettings", [{"category": "HARM_CATEGORY_NOPE", "threshold": "BLOCK_NONE"}]),
    ],
)
async def test_invalid_gemini_setting_is_reported_once_when_set(
    daemons: StartDaemon, emulator: Emulator, name: str, value: object
) -> None:
    """A generationConfig or safetySettings value Gemini would refuse is refused when it is
    set: told once (window/showMessage naming the setting), the default kept, and turns run
    (they are not failed one after another with badRequest)."""
    d = await daemons(init_options={name: value})
    await d.chat("one")
    await d.chat("two")
    shown = [m.message for m in d.client.messages if f"gemini.{name}" in m.message]
    assert len(shown) == 1
    sent = emulator.requests(":generateContent")[-1].body
    assert sent.get(name, {}) in ({}, [])  # type: ignore[union-attr]


async def test_thinking_level_in_the_api_spellings(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """thinkingLevel "low" (as the API's docs write it) is accepted and sent as LOW."""
    d = await daemons(
        init_options={"generationConfig": {"thinkingConfig": {"thinkingLevel": "low"}}}
    )
    await d.chat("one", generationConfig={"thinkingConfig": {"thinkingLevel": "High"}})
    sent = emulator.requests(":generateContent")[-1].body
    assert sent["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "HIGH"}  # type: ignore[index]
    assert not [m for m in d.client.messages if "generationConfig" in m.message]


async def test_upstream_unavailable_after_retries(daemons: StartDaemon, emulator: Emulator) -> None:
    """503 on every try: upstreamUnavailable once maxRetries are spent."""
    d = await daemons(init_options={"maxRetries": 1, "maxRetryDelay": 0.05})  # no 1 s back-off
    before = await _one_good_turn(d)
    emulator.script({"status": 503}, {"status": 503})
    err = await _fails(d)
    assert error_data(err)["reason"] == "upstreamUnavailable"
    assert error_data(err)["httpStatus"] == 503
    assert len(emulator.requests(":generateContent")) == 3
    assert await d.history() == before


async def test_invalid_json_from_upstream(daemons: StartDaemon, emulator: Emulator) -> None:
    """A 200 whose body is not JSON fails cleanly, committing nothing."""
    d = await daemons(init_options={"maxRetries": 0})
    emulator.script({"invalidJson": True})
    err = await _fails(d)
    assert error_data(err)["reason"] == "upstreamUnavailable"
    assert await d.history() == []


async def test_timeout(daemons: StartDaemon, emulator: Emulator) -> None:
    """An upstream call longer than requestTimeout: reason timeout."""
    d = await daemons(init_options={"requestTimeout": 0.5, "maxRetries": 0})
    emulator.script({"delay": 5})
    err = await _fails(d)
    assert error_data(err)["reason"] == "timeout"
    assert await d.history() == []


async def test_network(daemons: StartDaemon, server_env: dict[str, str]) -> None:
    """Nothing listening at baseUrl: reason network, naming where it tried."""
    port = _free_port()
    d = await daemons(
        env={**server_env, "GEMINI_BASE_URL": f"http://127.0.0.1:{port}"},
        init_options={"maxRetries": 0},
    )
    err = await _fails(d)
    assert error_data(err)["reason"] == "network"
    assert "127.0.0.1" in err.message
    assert await d.history() == []


async def test_daily_quota_is_told_apart_from_the_per_minute_limit(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """QuotaFailure's per-day quotaId says 'daily quota'; the per-minute one says 'per-minute'."""
    d = await daemons(init_options={"maxRetries": 0})
    emulator.script({"status": 429, "quota": "day"}, {"status": 429, "quota": "minute"})
    day = await _fails(d)
    minute = await _fails(d)
    assert "daily quota" in day.message
    assert "per-minute" in minute.message
    assert error_data(day)["reason"] == error_data(minute)["reason"] == "rateLimited"
