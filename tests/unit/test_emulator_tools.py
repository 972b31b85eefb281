"""The emulator in a tool loop, streamed function calls and images, and safety ratings."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from gemini_chat.emulator import Emulator

FLASH = "/v1beta/models/gemini-2.5-flash"
GENERATE = f"{FLASH}:generateContent"
STREAM = f"{FLASH}:streamGenerateContent?alt=sse"
CALL = {"name": "read_file", "args": {"path": "src/app.py"}}
ASK = {"role": "user", "parts": [{"text": "What does src/app.py print?"}]}
IMAGE = {"mimeType": "image/png", "data": "iVBORw0KGgo="}


def _stream(client: httpx.Client, body: object) -> list[dict[str, Any]]:
    r = client.post(STREAM, json=body)
    assert r.status_code == 200, r.text
    frames = [f for f in r.text.split("\r\n\r\n") if f]
    return [json.loads(f.removeprefix("data: ")) for f in frames]


def _generate(client: httpx.Client, body: object) -> dict[str, Any]:
    r = client.post(GENERATE, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["candidates"][0].get("content", {}).get("parts", [])


def _text(body: dict[str, Any]) -> str:
    return "".join(p.get("text", "") for p in _parts(body) if not p.get("thought"))


def _tool_turns(call_part: dict[str, Any], *names: str) -> dict[str, Any]:
    """What the daemon's tool loop sends: the question, the signed call, the results."""
    results = [
        {"functionResponse": {"name": n, "response": {"output": "print(add(2, 3))"}}} for n in names
    ]
    return {
        "contents": [
            ASK,
            {"role": "model", "parts": [call_part]},
            {"role": "user", "parts": results},
        ]
    }


@pytest.mark.parametrize("streamed", [False, True], ids=["generate", "stream"])
def test_tool_loop_is_answered_by_the_next_step(
    client: httpx.Client, emulator: Emulator, streamed: bool
) -> None:
    """functionCall step, then the daemon's functionResponse turn: the next step answers it."""
    emulator.script({"functionCall": CALL}, {"reply": "It prints 5."})
    first = _generate(client, {"contents": [ASK]})
    [call_part] = _parts(first)
    assert call_part["functionCall"] == CALL
    assert call_part["thoughtSignature"]
    follow_up = _tool_turns(call_part, "read_file")
    if streamed:
        assert "".join(_text(e) for e in _stream(client, follow_up)) == "It prints 5."
    else:
        assert _text(_generate(client, follow_up)) == "It prints 5."
    sent = emulator.requests(FLASH)[-1].body
    assert isinstance(sent, dict)
    assert sent["contents"][-1]["parts"][0]["functionResponse"]["name"] == "read_file"


@pytest.mark.parametrize("streamed", [False, True], ids=["generate", "stream"])
def test_default_reply_to_a_tool_result_ends_the_loop(
    client: httpx.Client, emulator: Emulator, streamed: bool
) -> None:
    """With no step left, a functionResponse turn gets a fixed plain-text answer, no call."""
    emulator.script({"functionCall": CALL})
    [call_part] = _parts(_generate(client, {"contents": [ASK]}))
    follow_up = _tool_turns(call_part, "read_file")
    if streamed:
        events = _stream(client, follow_up)
        text = "".join(_text(e) for e in events)
        parts = [p for e in events for p in _parts(e)]
        assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    else:
        body = _generate(client, follow_up)
        text, parts = _text(body), _parts(body)
    assert text == "I looked at the result of read_file."
    assert not any("functionCall" in p for p in parts)
    assert _text(_generate(client, follow_up)) == text  # a pure function of the request


def test_default_reply_names_every_tool_result(client: httpx.Client) -> None:
    """Several results in the last turn: each tool is named once, in order."""
    call_part = {"functionCall": CALL, "thoughtSignature": "c2ln"}
    body = _tool_turns(call_part, "read_file", "list_files", "read_file", "grep")
    expected = "I looked at the results of read_file, list_files and grep."
    assert _text(_generate(client, body)) == expected


def test_a_text_turn_after_a_tool_result_gets_the_usual_reply(client: httpx.Client) -> None:
    """Only a last turn of results gets the tool answer; a later text turn is quoted as usual."""
    body = _tool_turns({"functionCall": CALL, "thoughtSignature": "c2ln"}, "read_file")
    body["contents"] += [
        {"role": "model", "parts": [{"text": "I looked at the result of read_file."}]},
        {"role": "user", "parts": [{"text": "thanks"}]},
    ]
    text = _text(_generate(client, body))
    assert "«thanks»" in text
    assert "2 user message(s)" in text


def test_function_call_with_chunks_streams_text_then_the_call(
    client: httpx.Client, emulator: Emulator
) -> None:
    """{"functionCall", "chunks"}: the text chunks, then the signed call alone with STOP."""
    step = {"chunks": ["Let me ", "look."], "functionCall": CALL}
    emulator.script(step, step)
    events = _stream(client, {"contents": [ASK]})
    assert [_parts(e) for e in events[:2]] == [[{"text": "Let me "}], [{"text": "look."}]]
    assert all("finishReason" not in e["candidates"][0] for e in events[:2])
    [last] = events[2:]
    [part] = _parts(last)
    assert part["functionCall"] == CALL
    assert part["thoughtSignature"]
    assert last["candidates"][0]["finishReason"] == "STOP"
    totals = [e["usageMetadata"].get("candidatesTokenCount", 0) for e in events]
    assert totals == sorted(totals) and totals[-1] > totals[1]  # running totals grow
    whole = _parts(_generate(client, {"contents": [ASK]}))
    assert whole[0] == {"text": "Let me look."}
    assert whole[1]["functionCall"] == CALL


def test_image_step_streams_the_image_last(client: httpx.Client, emulator: Emulator) -> None:
    """{"image"} in a stream: the text chunks, then the inlineData part in the final event."""
    emulator.script({"chunks": ["Here ", "it is:"], "image": IMAGE})
    events = _stream(client, {"contents": [ASK]})
    assert "".join(_text(e) for e in events) == "Here it is:"
    assert _parts(events[-1]) == [{"inlineData": IMAGE}]
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    usage = events[-1]["usageMetadata"]
    assert usage["candidatesTokenCount"] == 3 + 258  # "Here it is:" plus one blob


def test_image_only_step_streams_the_default_text_then_the_image(
    client: httpx.Client, emulator: Emulator
) -> None:
    """An image step without text keeps the default reply's words before the image."""
    emulator.script({"image": IMAGE})
    events = _stream(client, {"contents": [ASK]})
    assert "gemini-chat emulator" in "".join(_text(e) for e in events)
    assert _parts(events[-1]) == [{"inlineData": IMAGE}]


def _flagged(ratings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in ratings if r["probability"] != "NEGLIGIBLE" or r.get("blocked")]


@pytest.mark.parametrize("streamed", [False, True], ids=["generate", "stream"])
def test_safety_finish_marks_dangerous_content(
    client: httpx.Client, emulator: Emulator, streamed: bool
) -> None:
    """A SAFETY finish rates every category, and one (dangerous content) HIGH and blocked."""
    emulator.script({"reply": "", "finishReason": "SAFETY"})
    body = (
        _stream(client, {"contents": [ASK]})[-1]
        if streamed
        else _generate(client, {"contents": [ASK]})
    )
    ratings = body["candidates"][0]["safetyRatings"]
    assert len(ratings) == 4
    assert _flagged(ratings) == [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}
    ]


def test_safety_prompt_block_names_a_category(client: httpx.Client, emulator: Emulator) -> None:
    """{"block": "SAFETY"}: promptFeedback carries safetyRatings flagging one category."""
    emulator.script({"block": "SAFETY"}, {"block": "SAFETY"})
    for body in (_generate(client, {"contents": [ASK]}), _stream(client, {"contents": [ASK]})[0]):
        feedback = body["promptFeedback"]
        assert feedback["blockReason"] == "SAFETY"
        [flagged] = _flagged(feedback["safetyRatings"])
        assert flagged["category"] == "HARM_CATEGORY_DANGEROUS_CONTENT"
        assert flagged["probability"] == "HIGH"
        assert "candidates" not in body


def test_other_prompt_blocks_have_no_ratings(client: httpx.Client, emulator: Emulator) -> None:
    """PROHIBITED_CONTENT blocks carry only the reason, as in the captured real chunk."""
    emulator.script({"block": "PROHIBITED_CONTENT"})
    assert _generate(client, {"contents": [ASK]})["promptFeedback"] == {
        "blockReason": "PROHIBITED_CONTENT"
    }
