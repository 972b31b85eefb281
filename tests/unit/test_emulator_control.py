"""The emulator's Python API, /_emulator/ control endpoints, CLI, and the real google-genai SDK."""

from __future__ import annotations

import json
import signal
import subprocess

import httpx
import pytest
from google import genai
from google.genai import types

from conftest import EMULATOR_KEY, tool
from gemini_chat.emulator import Emulator, EmulatorState

from .gemini_fakes import sdk

FLASH = "/v1beta/models/gemini-2.5-flash"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}


def test_requests_are_recorded(client: httpx.Client, emulator: Emulator) -> None:
    """Method, path, query, lower-case headers and the parsed body are recorded, in order."""
    client.post(f"{FLASH}:generateContent?alt=json", json=HELLO, headers={"X-Custom": "v"})
    client.get("/v1beta/models", params={"pageSize": "5"})
    first, second = emulator.requests()
    assert (first.method, first.path, first.query) == (
        "POST",
        f"{FLASH}:generateContent",
        {"alt": "json"},
    )
    assert first.body == HELLO
    assert first.headers["x-goog-api-key"] == EMULATOR_KEY
    assert first.headers["x-custom"] == "v"
    assert second.body is None
    assert second.query == {"pageSize": "5"}
    assert [r.path for r in emulator.requests(":generate")] == [f"{FLASH}:generateContent"]


def test_events_and_clear(client: httpx.Client, emulator: Emulator) -> None:
    """Every API request is a "request" event; clear() forgets requests, events and script."""
    emulator.script({"reply": "scripted"})
    client.get("/v1beta/models")
    event = emulator.wait_for_event("request")
    assert event["path"] == "/v1beta/models"
    assert isinstance(event["time"], float)
    emulator.clear()
    assert emulator.requests() == []
    assert emulator.events() == []
    text = client.post(f"{FLASH}:generateContent", json=HELLO).json()
    assert "emulator" in text["candidates"][0]["content"]["parts"][0]["text"]


def test_the_oldest_requests_are_forgotten_past_the_recorded_bytes() -> None:
    """Request bodies are kept up to `recorded_bytes` (a long `make chat` must not grow without
    bound): past it the oldest requests are forgotten, in order, and the newest is kept even
    when it alone is larger; clear() starts the count again."""
    state = EmulatorState(["k"], recorded_bytes=100)

    def record(path: str, size: int) -> None:
        body = json.dumps({"text": "x" * (size - 12)}).encode()
        assert len(body) == size
        state.record("POST", path, {}, {}, body)

    for name in ("a", "b", "c"):
        record(f"/{name}", 40)
    assert [r.path for r in state.requests()] == ["/b", "/c"]
    assert state.requests()[-1].body == {"text": "x" * 28}
    record("/big", 150)
    assert [r.path for r in state.requests()] == ["/big"]
    state.clear()
    for name in ("d", "e"):
        record(f"/{name}", 40)
    assert [r.path for r in state.requests()] == ["/d", "/e"]


def test_wait_for_event_times_out(emulator: Emulator) -> None:
    """No such event within the timeout: TimeoutError."""
    with pytest.raises(TimeoutError, match="disconnect"):
        emulator.wait_for_event("disconnect", timeout=0.05)


def test_control_endpoints(emulator: Emulator) -> None:
    """/_emulator/script, /requests, /events and /reset work without a key."""
    url = emulator.url
    r = httpx.post(f"{url}/_emulator/script", json={"steps": [{"reply": "from node"}]})
    assert r.json() == {"queued": 1}
    answer = httpx.post(
        f"{url}{FLASH}:generateContent", json=HELLO, headers={"x-goog-api-key": EMULATOR_KEY}
    )
    assert answer.json()["candidates"][0]["content"]["parts"][0]["text"] == "from node"
    recorded = httpx.get(f"{url}/_emulator/requests").json()["requests"]
    assert [(r["method"], r["path"], r["body"]) for r in recorded] == [
        ("POST", f"{FLASH}:generateContent", HELLO)
    ]
    filtered = httpx.get(f"{url}/_emulator/requests", params={"path_contains": ":count"})
    assert filtered.json() == {"requests": []}
    events = httpx.get(f"{url}/_emulator/events").json()["events"]
    assert [e["type"] for e in events] == ["request"]
    assert httpx.post(f"{url}/_emulator/reset").status_code == 200
    assert httpx.get(f"{url}/_emulator/requests").json() == {"requests": []}


def test_control_script_rejects_bad_steps(emulator: Emulator) -> None:
    """A malformed script is a 400 that says why, and nothing is queued."""
    url = f"{emulator.url}/_emulator/script"
    assert httpx.post(url, json={"steps": [{"status": 299}]}).status_code == 400
    assert httpx.post(url, json=[{"reply": "x"}]).status_code == 400
    assert httpx.get(f"{emulator.url}/_emulator/nothing").status_code == 404


def test_stop_is_idempotent_and_closes_connections() -> None:
    """stop() ends serving, closes kept-alive connections, and can be called twice."""
    emu = Emulator(api_keys=["k"])
    url = emu.start()
    assert emu.start() == url
    with httpx.Client(base_url=url, headers={"x-goog-api-key": "k"}) as c:
        assert c.get("/v1beta/models").status_code == 200
        emu.stop()
        emu.stop()
        with pytest.raises(httpx.TransportError):
            c.get("/v1beta/models")


def test_context_manager_starts_and_stops() -> None:
    """`with Emulator() as emu` serves inside the block only; the default key is emulator-key."""
    with Emulator() as emu:
        url = emu.url
        r = httpx.get(f"{url}/v1beta/models", headers={"x-goog-api-key": "emulator-key"})
        assert r.status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1beta/models")


def test_url_before_start_is_an_error() -> None:
    """.url needs start()."""
    with pytest.raises(RuntimeError):
        _ = Emulator().url


def test_cli_prints_its_url_and_exits_cleanly_on_sigterm() -> None:
    """The CLI prints the base URL alone on line 1, logs without the key, exits 0 on SIGTERM."""
    exe = tool("gemini-chat-emulator", "run `uv sync` in the repository")
    proc = subprocess.Popen(
        [exe, "--api-key", "cli-key-1", "--api-key", "cli-key-2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        ok = httpx.get(f"{url}/v1beta/models?key=cli-key-2")
        assert ok.status_code == 200
        r = httpx.get(f"{url}/v1beta/models", headers={"x-goog-api-key": "cli-key-1"})
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert out == ""
    assert "GET /v1beta/models" in err
    assert "cli-key" not in err


def test_google_genai_sdk_chats_without_streaming(emulator: Emulator) -> None:
    """The official SDK's chat (non-streamed) works against the emulator: wire fidelity."""
    emulator.script({"reply": "Hi! How can I help?"}, {"reply": "Two dogs have 8 paws."})
    client = sdk(emulator)  # keep it: the SDK closes its HTTP client when this is collected
    chat = client.chats.create(model="gemini-2.5-flash")
    assert chat.send_message("Hello").text == "Hi! How can I help?"
    reply = chat.send_message("How many paws do two dogs have?")
    assert reply.text == "Two dogs have 8 paws."
    assert reply.usage_metadata is not None
    assert reply.usage_metadata.prompt_token_count
    sent = emulator.requests(":generateContent")[-1].body
    assert isinstance(sent, dict)
    assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]
    assert emulator.requests()[-1].headers["x-goog-api-key"] == EMULATOR_KEY


def test_google_genai_sdk_streams(emulator: Emulator) -> None:
    """The official SDK's streamed chat parses the emulator's SSE and records the history."""
    emulator.script({"chunks": ["Once ", "upon ", "a time."]})
    client = sdk(emulator)
    chat = client.chats.create(model="gemini-2.5-flash")
    pieces = [c.text for c in chat.send_message_stream("Tell me a story")]
    assert pieces == ["Once ", "upon ", "a time."]
    assert len(chat.get_history()) == 4  # user + one model entry per chunk (SDK behaviour)
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True)
    )
    chunks = list(
        client.models.generate_content_stream(
            model="gemini-2.5-flash", contents="Think first", config=config
        )
    )
    first = chunks[0].candidates[0].content.parts[0]
    assert first.thought is True
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP


def test_google_genai_sdk_counts_tokens_and_lists_models(emulator: Emulator) -> None:
    """countTokens, models.list (paged) and models.get through the SDK."""
    client = sdk(emulator)
    counted = client.models.count_tokens(model="gemini-2.5-flash", contents="hello world")
    assert counted.total_tokens == 3
    names = [m.name for m in client.models.list(config={"page_size": 10})]
    assert "models/gemini-2.5-flash" in names
    assert len(names) == len(set(names)) > 10
    assert client.models.get(model="gemini-2.5-pro").display_name == "Gemini 2.5 Pro"


def test_google_genai_sdk_sees_api_errors(emulator: Emulator) -> None:
    """Scripted errors reach the SDK as its own ClientError/ServerError with the right code."""
    emulator.script({"status": 429, "retryDelay": "1s"}, {"errorAfter": 1, "status": 500})
    client = sdk(emulator)
    with pytest.raises(genai.errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents="x")
    assert info.value.code == 429
    stream = client.models.generate_content_stream(model="gemini-2.5-flash", contents="x")
    with pytest.raises(genai.errors.ServerError):
        list(stream)
