"""One turn's inputs: secrets masked in every part, the request body, what history shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gemini_chat import attachments, transcript
from gemini_chat.gemini.client import RetryNotice
from gemini_chat.gemini.errors import RateLimitedError
from gemini_chat.params import TextAttachment
from gemini_chat.store import Entry
from gemini_chat.turn import TurnEvents, call_options, encode

from .core_fakes import AWS_KEY, Events, Rig, function_call, ok, response, sse

MASK = "[REDACTED:aws-access-key]"


@pytest.fixture
def rig(rig: Rig) -> Rig:
    """A chat service whose folder has a secret in its context file and in a .env file."""
    (rig.ws.root / "GEMINI.md").write_text(f"Deploy with {AWS_KEY}.\n")
    (rig.ws.root / ".env").write_text(f"AWS_ACCESS_KEY_ID={AWS_KEY}\n")
    return rig


async def test_secrets_are_masked_in_every_part_of_a_turn(rig: Rig) -> None:
    """The message, a text attachment, the context file and a tool result each hold the key:
    no request carries it, each place is reported once in the result and the first progress
    value lists what the turn's input held; history and the stored tool answer are masked."""
    note = TextAttachment(name="notes", text=f"old key {AWS_KEY}")
    prepared = attachments.prepare([note], rig.ws, lambda _uri: None)
    rig.gemini.script(
        sse(response(function_call("read_file", {"path": ".env"}, "c1"))),
        sse(response({"text": "Rotate it."})),
    )
    events = Events(streaming=True)
    result = await rig.turn(f"why does {AWS_KEY} fail?", events, prepared=prepared)
    sent = json.dumps(rig.gemini.bodies)
    assert AWS_KEY not in sent
    assert sent.count(MASK) >= 4
    kinds = [(r["kind"], r["where"]) for r in result["redacted"]]  # type: ignore[union-attr]
    assert sorted(kinds) == sorted(
        ("aws-access-key", where)
        for where in ("contextFile", "attachments.0", "message", "tool:read_file")
    )
    first = events.values[0]["redacted"]
    assert sorted(r["where"] for r in first) == ["attachments.0", "contextFile", "message"]  # type: ignore[union-attr]
    stored = json.dumps([(e.content, e.meta) for e in rig.store.history(rig.ws.key)])
    assert AWS_KEY not in stored
    shown = (await rig.service.history(rig.ws))["turns"]
    assert shown[0]["text"] == f"why does {MASK} fail?"


async def test_with_redaction_off_text_goes_as_typed(rig: Rig) -> None:
    """redactSecrets false: the key reaches Gemini, no `redacted` anywhere."""
    rig.configure(redact_secrets=False)
    rig.gemini.script(ok(response({"text": "ok"})))
    events = Events()
    result = await rig.turn(f"is {AWS_KEY} valid?", events)
    assert AWS_KEY in json.dumps(rig.gemini.bodies[0])
    assert "redacted" not in result
    assert events.values == []


async def test_inline_data_is_not_touched(rig: Rig) -> None:
    """Only text parts are masked; an image's base64 goes as attached."""
    data = "iVBORw0KGgo" + "A" * 20
    prepared = attachments.Prepared()
    prepared.add(
        {"inlineData": {"mimeType": "image/png", "data": data}},
        "a.png",
        "image/png",
        "attachments.0",
    )
    rig.gemini.script(ok(response({"text": "an image"})))
    await rig.turn("what is this?", prepared=prepared)
    parts = rig.gemini.bodies[0]["contents"][0]["parts"]  # type: ignore[index]
    assert parts[0] == {"inlineData": {"mimeType": "image/png", "data": data}}


def test_encode_splices_contents_before_the_other_fields() -> None:
    """The body is valid JSON: the stored history's joined texts verbatim, this turn's
    contents after them, then the fields; any of them may be empty."""
    history = (b'{"role":"user","parts":', '[{"text":"é"}]}'.encode())
    turn = ['{"role":"model","parts":[{"text":"ok"}]}']
    body = b"".join(encode({"generationConfig": {"temperature": 0.5}}, history, turn))
    assert json.loads(body) == {
        "contents": [
            {"role": "user", "parts": [{"text": "é"}]},
            {"role": "model", "parts": [{"text": "ok"}]},
        ],
        "generationConfig": {"temperature": 0.5},
    }
    assert json.loads(b"".join(encode({}, (), []))) == {"contents": []}
    assert json.loads(b"".join(encode({}, history, []))) == {
        "contents": [{"role": "user", "parts": [{"text": "é"}]}]
    }
    assert json.loads(b"".join(encode({}, (), turn)))["contents"][0]["role"] == "model"


def test_call_options_follow_the_settings(tmp_path: Path) -> None:
    """The client's options are the turn's settings: key, URL, timeouts, retries."""
    rig = Rig(tmp_path, request_timeout=12.0, max_retry_delay=3.0, stream_idle_timeout=9.0)
    opts = call_options(rig.settings)
    assert (opts.api_key, opts.base_url) == (rig.settings.key, rig.settings.base_url)
    assert (opts.timeout, opts.max_retries, opts.max_retry_delay) == (12.0, 0, 3.0)
    assert opts.stream_idle_timeout == 9.0
    rig.store.close()


async def test_default_events_tell_nothing() -> None:
    """TurnEvents' defaults accept every call and do not stream."""
    events = TurnEvents()
    assert events.streaming is False
    await events.begin("m")
    await events.progress({"text": "x"})
    await events.retry(RetryNotice(1, 1.0, RateLimitedError("slow")))


def entry(role: str, meta: dict[str, object]) -> Entry:
    """A stored entry with this meta."""
    return Entry(0, 1, role, {"role": role, "parts": []}, meta, "2026-01-01T00:00:00.000Z")


def test_history_shows_what_the_meta_says() -> None:
    """A user turn shows text, attachments and a compaction mark; a model turn its reply fields
    when present; absent fields are left out; tool rounds' contents are never shown."""
    user = transcript.shown(entry("user", {"text": "q", "compacted": 2, "usage": {"x": 1}}))
    assert user == {
        "role": "user",
        "text": "q",
        "attachments": [],
        "time": "2026-01-01T00:00:00.000Z",
        "compacted": 2,
    }
    model_meta = {"text": "a", "model": "m", "finishReason": "STOP", "thoughts": "", "images": None}
    model = transcript.shown(entry("model", model_meta))
    assert model == {
        "role": "model",
        "text": "a",
        "attachments": [],
        "time": "2026-01-01T00:00:00.000Z",
        "thoughts": "",
        "model": "m",
        "finishReason": "STOP",
    }
