"""The emulator's SSE stream, every script step, and disconnect detection, over real HTTP."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from gemini_chat.emulator.replies import split_words

FLASH = "/v1beta/models/gemini-2.5-flash"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}
STREAM = f"{FLASH}:streamGenerateContent?alt=sse"


def _events(raw: str) -> list[dict[str, Any]]:
    """Parse a CRLF-framed SSE body strictly: only `data: <one-line json>` events."""
    assert raw.endswith("\r\n\r\n"), repr(raw[-20:])
    events = []
    for block in raw.split("\r\n\r\n")[:-1]:
        assert block.startswith("data: "), repr(block)
        assert "\n" not in block and "\r" not in block, repr(block)
        events.append(json.loads(block.removeprefix("data: ")))
    return events


def _stream(client: httpx.Client, body: object = HELLO) -> list[dict[str, Any]]:
    r = client.post(STREAM, json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    return _events(r.text)


def _generate(client: httpx.Client, body: object = HELLO) -> httpx.Response:
    return client.post(f"{FLASH}:generateContent", json=body)


def _parts(event: dict[str, Any]) -> list[dict[str, Any]]:
    return event["candidates"][0].get("content", {}).get("parts", [])


def _text(events: list[dict[str, Any]]) -> str:
    return "".join(p.get("text", "") for e in events for p in _parts(e) if not p.get("thought"))


def test_sse_framing_and_metadata_on_every_chunk(client: httpx.Client) -> None:
    """4-8 CRLF-framed events; usage (running), modelVersion, responseId on each; finish last."""
    events = _stream(client)
    assert 4 <= len(events) <= 8
    ids = {e["responseId"] for e in events}
    assert len(ids) == 1
    totals = [e["usageMetadata"]["candidatesTokenCount"] for e in events]
    assert totals == sorted(totals)
    for e in events:
        assert e["modelVersion"] == "gemini-2.5-flash"
        assert e["usageMetadata"]["promptTokenCount"] > 0
        assert e["candidates"][0]["content"]["role"] == "model"
    assert [("finishReason" in e["candidates"][0]) for e in events] == [False] * (
        len(events) - 1
    ) + [True]
    full = _generate(client).json()
    assert _text(events) == _text([full])
    assert events[-1]["usageMetadata"] == full["usageMetadata"]


def test_stream_without_alt_sse_is_a_json_array(client: httpx.Client) -> None:
    """Without ?alt=sse the stream is one JSON array of responses."""
    r = client.post(f"{FLASH}:streamGenerateContent", json=HELLO)
    assert r.status_code == 200
    chunks = r.json()
    assert isinstance(chunks, list)
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_reply_step_sets_the_text(client: httpx.Client, emulator: Emulator) -> None:
    """{"reply"} is the answer, split on word boundaries when streamed."""
    reply = "The quick brown fox jumps over the lazy dog and keeps running far away."
    emulator.script({"reply": reply}, {"reply": reply})
    assert _text([_generate(client).json()]) == reply
    events = _stream(client)
    assert _text(events) == reply
    assert all(_parts(e)[0]["text"].strip() for e in events)


def test_chunks_step_streams_exact_chunks(client: httpx.Client, emulator: Emulator) -> None:
    """{"chunks"} are the stream's events one for one, joined when not streamed."""
    emulator.script({"chunks": ["Hel", "lo, ", "world"]}, {"chunks": ["a", "b"]})
    assert [_parts(e)[0]["text"] for e in _stream(client)] == ["Hel", "lo, ", "world"]
    assert _generate(client).json()["candidates"][0]["content"]["parts"] == [{"text": "ab"}]


def test_script_is_fifo_then_default(client: httpx.Client, emulator: Emulator) -> None:
    """One step per call, in order; an empty queue gives the default reply."""
    emulator.script({"reply": "one"}, {"reply": "two"})
    texts = [_text([_generate(client).json()]) for _ in range(3)]
    assert texts[:2] == ["one", "two"]
    assert "gemini-chat emulator" in texts[2]


def test_thought_step_puts_a_thought_first(client: httpx.Client, emulator: Emulator) -> None:
    """{"thought"}: a thought part first, a thoughtSignature on the first answer part."""
    emulator.script({"thought": "Thinking hard.", "reply": "Answer."}, {"thought": "Hmm."})
    parts = _generate(client).json()["candidates"][0]["content"]["parts"]
    assert parts[0] == {"text": "Thinking hard.", "thought": True}
    assert parts[1]["text"] == "Answer."
    assert parts[1]["thoughtSignature"]
    events = _stream(client)
    assert _parts(events[0]) == [{"text": "Hmm.", "thought": True}]
    assert "thoughtSignature" in _parts(events[1])[0]
    assert all(e["usageMetadata"]["thoughtsTokenCount"] > 0 for e in events)


def test_include_thoughts_adds_a_thought(client: httpx.Client) -> None:
    """generationConfig.thinkingConfig.includeThoughts gives a thought part and thought tokens."""
    body = {**HELLO, "generationConfig": {"thinkingConfig": {"includeThoughts": True}}}
    r = _generate(client, body).json()
    assert r["candidates"][0]["content"]["parts"][0]["thought"] is True
    usage = r["usageMetadata"]
    assert usage["thoughtsTokenCount"] > 0
    total = usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    assert usage["totalTokenCount"] == total


def test_finish_reason_step(client: httpx.Client, emulator: Emulator) -> None:
    """{"finishReason"} replaces STOP on the last chunk."""
    emulator.script({"reply": "cut short", "finishReason": "MAX_TOKENS"})
    assert _stream(client)[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS"


def test_safety_stop_has_no_content(client: httpx.Client, emulator: Emulator) -> None:
    """SAFETY with an empty reply: a candidate with finishReason and ratings but no content."""
    emulator.script(
        {"reply": "", "finishReason": "SAFETY"}, {"reply": "", "finishReason": "SAFETY"}
    )
    candidate = _generate(client).json()["candidates"][0]
    assert "content" not in candidate
    assert candidate["finishReason"] == "SAFETY"
    assert any(r.get("blocked") for r in candidate["safetyRatings"])
    events = _stream(client)
    assert len(events) == 1
    assert "content" not in events[0]["candidates"][0]


def test_unknown_finish_reason_is_refused(emulator: Emulator) -> None:
    """Script steps are checked: a bad value or unknown key raises ValueError at once."""
    with pytest.raises(ValueError, match="finishReason"):
        emulator.script({"finishReason": "DONE"})
    with pytest.raises(ValueError, match="unknown script step key"):
        emulator.script({"replay": "typo"})


def test_429_with_retry_delay(client: httpx.Client, emulator: Emulator) -> None:
    """{"status": 429, "retryDelay"}: QuotaFailure (per minute), Help and RetryInfo."""
    emulator.script({"status": 429, "retryDelay": "2s"})
    r = _generate(client)
    assert r.status_code == 429
    error = r.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    kinds = [d["@type"].rsplit(".", 1)[-1] for d in error["details"]]
    assert kinds == ["QuotaFailure", "Help", "RetryInfo"]
    assert error["details"][2]["retryDelay"] == "2s"
    assert "PerMinute" in error["details"][0]["violations"][0]["quotaId"]


def test_429_daily_quota_without_retry_info(client: httpx.Client, emulator: Emulator) -> None:
    """{"quota": "day"} without retryDelay: a per-day quota and no RetryInfo."""
    emulator.script({"status": 429, "quota": "day"})
    error = client.post(STREAM, json=HELLO).json()["error"]
    kinds = [d["@type"].rsplit(".", 1)[-1] for d in error["details"]]
    assert kinds == ["QuotaFailure", "Help"]
    assert "PerDay" in error["details"][0]["violations"][0]["quotaId"]


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
        (400, "INVALID_ARGUMENT"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
    ],
)
def test_status_steps(client: httpx.Client, emulator: Emulator, status: int, name: str) -> None:
    """{"status": N} answers N with the API's status name; "message" overrides the text."""
    emulator.script({"status": status}, {"status": status, "message": "custom words"})
    r = _generate(client)
    assert r.status_code == status
    assert r.json()["error"]["status"] == name
    assert r.json()["error"]["code"] == status
    assert r.text.endswith("}\n")
    assert client.post(STREAM, json=HELLO).json()["error"]["message"] == "custom words"


def test_cut_after_ends_the_stream_without_finish(client: httpx.Client, emulator: Emulator) -> None:
    """{"cutAfter": N}: N events, then the stream ends with no finishReason."""
    emulator.script({"reply": "one two three four five six seven eight", "cutAfter": 2})
    events = _stream(client)
    assert len(events) == 2
    assert all("finishReason" not in e["candidates"][0] for e in events)


def test_cut_after_with_drop_breaks_the_body(client: httpx.Client, emulator: Emulator) -> None:
    """{"cutAfter", "dropConnection"}: the socket closes mid-body (an incomplete response)."""
    emulator.script({"cutAfter": 1, "dropConnection": True})
    received: list[str] = []

    def read_all() -> None:
        with client.stream("POST", STREAM, json=HELLO) as r:
            received.extend(r.iter_lines())

    with pytest.raises(httpx.RemoteProtocolError):
        read_all()
    assert received[0].startswith("data: ")


def test_error_after_sends_an_error_event(client: httpx.Client, emulator: Emulator) -> None:
    """{"errorAfter": N, "status"}: N events, then `data: {"error": ...}` and the end."""
    emulator.script({"errorAfter": 1, "status": 503})
    events = _stream(client)
    assert len(events) == 2
    assert "candidates" in events[0]
    assert events[1] == {
        "error": {
            "code": 503,
            "message": "The model is overloaded. Please try again later.",
            "status": "UNAVAILABLE",
        }
    }


def test_block_step(client: httpx.Client, emulator: Emulator) -> None:
    """{"block"}: 200 with promptFeedback.blockReason and no candidates (one SSE event)."""
    emulator.script({"block": "PROHIBITED_CONTENT"}, {"block": "PROHIBITED_CONTENT"})
    body = _generate(client).json()
    assert "candidates" not in body
    assert body["promptFeedback"] == {"blockReason": "PROHIBITED_CONTENT"}
    events = _stream(client)
    assert len(events) == 1
    assert events[0]["promptFeedback"]["blockReason"] == "PROHIBITED_CONTENT"
    assert events[0]["usageMetadata"]["totalTokenCount"] == body["usageMetadata"]["totalTokenCount"]


def test_invalid_json_step(client: httpx.Client, emulator: Emulator) -> None:
    """{"invalidJson"}: 200 with a body (or SSE event) that is not JSON."""
    emulator.script({"invalidJson": True}, {"invalidJson": True})
    r = _generate(client)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        r.json()
    raw = client.post(STREAM, json=HELLO).text
    assert raw.startswith("data: ")
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw.removeprefix("data: "))


def test_drop_connection_step(client: httpx.Client, emulator: Emulator) -> None:
    """{"dropConnection"}: the socket closes with no response at all."""
    emulator.script({"dropConnection": True})
    with pytest.raises(httpx.RemoteProtocolError):
        _generate(client)
    assert _generate(client).status_code == 200


def test_function_call_step(client: httpx.Client, emulator: Emulator) -> None:
    """{"functionCall"}: the reply is a signed functionCall part, finishReason STOP."""
    call = {"name": "read_file", "args": {"path": "src/app.py"}}
    emulator.script({"functionCall": call}, {"functionCall": call})
    candidate = _generate(client).json()["candidates"][0]
    [part] = candidate["content"]["parts"]
    assert part["functionCall"] == call
    assert part["thoughtSignature"]
    assert candidate["finishReason"] == "STOP"
    events = _stream(client)
    assert _parts(events[-1])[-1]["functionCall"] == call


def test_image_step(client: httpx.Client, emulator: Emulator) -> None:
    """{"image"}: an inlineData part after the text."""
    image = {"mimeType": "image/png", "data": "iVBORw0KGgo="}
    emulator.script({"reply": "Here:", "image": image})
    parts = _generate(client).json()["candidates"][0]["content"]["parts"]
    assert parts == [{"text": "Here:"}, {"inlineData": image}]


def test_delay_and_chunk_delay_still_answer(client: httpx.Client, emulator: Emulator) -> None:
    """{"delay"} and {"chunkDelay"} slow the answer down but change nothing in it."""
    emulator.script({"delay": 0.05, "chunks": ["a", "b", "c"], "chunkDelay": 0.02})
    assert _text(_stream(client)) == "abc"


def _raw_request(url: str, path: str, body: object) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    data = json.dumps(body).encode()
    sock = socket.create_connection((host, int(port)))
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"x-goog-api-key: {EMULATOR_KEY}\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    sock.sendall(head.encode() + data)
    return sock


def test_disconnect_during_delay_is_recorded(emulator: Emulator, client: httpx.Client) -> None:
    """A client that goes away while the emulator waits is seen and recorded as "disconnect"."""
    emulator.script({"delay": 30}, {"reply": "next"})
    sock = _raw_request(emulator.url, f"{FLASH}:generateContent", HELLO)
    emulator.wait_for_event("request")
    sock.close()
    event = emulator.wait_for_event("disconnect", timeout=10)
    assert event["path"] == f"{FLASH}:generateContent"
    assert _text([_generate(client).json()]) == "next"


def test_disconnect_between_chunks_is_recorded(emulator: Emulator) -> None:
    """A reader that stops mid-stream (cancel) is seen during chunkDelay."""
    emulator.script({"chunks": ["first ", "second ", "third"], "chunkDelay": 30})
    sock = _raw_request(emulator.url, STREAM, HELLO)
    received = b""
    while b"data: " not in received:
        received += sock.recv(4096)
    sock.close()
    event = emulator.wait_for_event("disconnect", timeout=10)
    assert event["path"] == f"{FLASH}:streamGenerateContent"
    assert event["type"] == "disconnect"


def test_keep_alive_serves_several_requests_on_one_connection(emulator: Emulator) -> None:
    """HTTP/1.1 keep-alive: two requests on one socket both get complete answers."""
    sock = _raw_request(emulator.url, f"{FLASH}:countTokens", HELLO)
    reader = sock.makefile("rb")
    for attempt in range(2):
        status = reader.readline()
        assert status.startswith(b"HTTP/1.1 200"), status
        length = 0
        while (line := reader.readline()) != b"\r\n":
            name, _, value = line.decode().partition(":")
            assert name.lower() != "connection" or "close" not in value
            if name.lower() == "content-length":
                length = int(value)
        assert json.loads(reader.read(length))["totalTokens"] > 0
        if attempt == 0:
            data = json.dumps(HELLO).encode()
            sock.sendall(
                f"POST {FLASH}:countTokens HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n"
                f"x-goog-api-key: {EMULATOR_KEY}\r\n\r\n".encode()
                + data
            )
    reader.close()
    sock.close()


@given(st.text(max_size=400))
def test_split_words_keeps_the_text(text: str) -> None:
    """Streamed pieces always join back to the reply, in at most 8 non-empty pieces."""
    pieces = split_words(text)
    assert "".join(pieces) == text
    assert len(pieces) <= 8
    assert all(pieces)


def test_stop_during_a_delay_is_prompt_and_not_a_disconnect() -> None:
    """stop() ends a long scripted wait at once and does not report a client disconnect."""
    emu = Emulator(api_keys=[EMULATOR_KEY])
    emu.start()
    emu.script({"delay": 60})
    sock = _raw_request(emu.url, f"{FLASH}:generateContent", HELLO)
    emu.wait_for_event("request")
    emu.stop()
    assert sock.recv(4096) == b""
    sock.close()
    assert [e["type"] for e in emu.events()] == ["request"]
