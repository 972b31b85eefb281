"""Streaming, work-done progress, cancel and retries through the real daemon."""

from __future__ import annotations

import asyncio

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator
from polling import until

from .conftest import StartDaemon
from .daemon import Daemon, error_data

FAST_RETRIES = {"maxRetryDelay": 0.05}
"""Caps the 1, 2, 4 s back-off so retry tests do not sleep through it."""


async def test_deltas_stream_and_join_to_the_result(daemon: Daemon, emulator: Emulator) -> None:
    """Each chunk arrives as a `$/progress` text delta; joined they equal the result's text."""
    emulator.script({"chunks": ["You have ", "two dogs, ", "so 8 paws."]})
    result = await daemon.chat("paws?", partialResultToken="p-1")
    deltas = daemon.client.progress["p-1"]
    assert deltas == [{"text": "You have "}, {"text": "two dogs, "}, {"text": "so 8 paws."}]
    assert result["text"] == "You have two dogs, so 8 paws."
    assert emulator.requests(":streamGenerateContent")[-1].query == {"alt": "sse"}


async def test_streamed_reply_is_stored_as_one_content_with_parts_in_order(
    daemon: Daemon, emulator: Emulator
) -> None:
    """The next turn sends the streamed reply back as one model content, parts unmerged."""
    emulator.script({"chunks": ["a", "b", "c"]})
    await daemon.chat("first", partialResultToken="p")
    await daemon.chat("second")
    model = emulator.requests(":generateContent")[-1].body["contents"][1]  # type: ignore[index]
    assert model == {"role": "model", "parts": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}


async def test_thoughts_stream_apart_and_signature_goes_back(
    daemon: Daemon, emulator: Emulator
) -> None:
    """Thought pieces come as {"thought"}; the thoughtSignature returns unchanged next turn."""
    emulator.script({"thought": "Counting paws.", "reply": "Eight."})
    config = {"thinkingConfig": {"includeThoughts": True}}
    result = await daemon.chat("paws?", partialResultToken="t", generationConfig=config)
    values = daemon.client.progress["t"]
    assert values[0] == {"thought": "Counting paws."}
    assert "".join(v.get("text", "") for v in values) == "Eight."
    assert (result["text"], result["thoughts"]) == ("Eight.", "Counting paws.")
    assert result["usage"]["thoughtsTokens"] > 0
    streamed = emulator.requests(":streamGenerateContent")[-1]
    await daemon.chat("next")
    sent_back = emulator.requests(":generateContent")[-1].body["contents"][1]["parts"]  # type: ignore[index]
    assert any(p.get("thought") for p in sent_back)
    assert any("thoughtSignature" in p for p in sent_back)
    assert streamed.body is not None


async def test_work_done_progress_begin_report_end(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """workDoneToken gets begin (naming the model), a report while retrying, and end."""
    d = await daemons(init_options={"maxRetries": 2})
    emulator.script({"status": 429, "retryDelay": "0.05s"}, {"reply": "ok"})
    result = await d.chat("hi", workDoneToken="w-1")
    assert result["text"] == "ok"
    kinds = [v["kind"] for v in d.client.progress["w-1"]]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    assert "gemini-2.5-flash" in d.client.progress["w-1"][0]["title"]
    report = next(v for v in d.client.progress["w-1"] if v["kind"] == "report")
    assert "rate limited" in report["message"]


async def test_retries_503_and_500_then_succeeds(daemons: StartDaemon, emulator: Emulator) -> None:
    """A 503, then a 500, then a reply: each failure is reported and retried, the turn succeeds,
    only the reply's text streams, and the exchange is committed once."""
    d = await daemons(init_options={"maxRetries": 3, **FAST_RETRIES})
    emulator.script({"status": 503}, {"status": 500}, {"chunks": ["fine"]})
    result = await d.chat("hi", partialResultToken="p", workDoneToken="w")
    assert result["text"] == "fine"
    assert d.client.progress["p"] == [{"text": "fine"}]
    reports = [v["message"] for v in d.client.progress["w"] if v["kind"] == "report"]
    assert reports == [f"Gemini answered {code}: retrying in 1 s" for code in (503, 500)]
    assert len(emulator.requests(":streamGenerateContent")) == 3
    history = await d.history()
    assert [(t["role"], t["text"]) for t in history] == [("user", "hi"), ("model", "fine")]


async def test_no_retry_for_400(daemons: StartDaemon, emulator: Emulator) -> None:
    """A 400 is never retried."""
    d = await daemons(init_options={"maxRetries": 3})
    emulator.script({"status": 400})
    with pytest.raises(JsonRpcException):
        await d.chat("hi", partialResultToken="p")
    assert len(emulator.requests(":streamGenerateContent")) == 1


async def test_cut_stream_is_network_error_and_commits_nothing(
    daemon: Daemon, emulator: Emulator
) -> None:
    """A stream that ends before its finishReason: reason network, nothing saved, no retry."""
    emulator.script({"chunks": ["part one ", "part two"], "cutAfter": 1})
    with pytest.raises(JsonRpcException) as err:
        await daemon.chat("hi", partialResultToken="p")
    assert error_data(err.value)["reason"] == "network"
    assert daemon.client.progress["p"] == [{"text": "part one "}]
    assert len(emulator.requests(":streamGenerateContent")) == 1
    assert await daemon.history() == []


async def test_mid_stream_error_event(daemon: Daemon, emulator: Emulator) -> None:
    """`data: {"error": ...}` mid-stream fails the turn with that status; nothing saved."""
    emulator.script({"chunks": ["one ", "two"], "errorAfter": 1, "status": 500})
    with pytest.raises(JsonRpcException) as err:
        await daemon.chat("hi", partialResultToken="p")
    assert error_data(err.value)["reason"] == "upstreamUnavailable"
    assert len(emulator.requests(":streamGenerateContent")) == 1
    assert await daemon.history() == []


async def test_blocked_prompt_while_streaming(daemon: Daemon, emulator: Emulator) -> None:
    """The single blocked-prompt event is reason blocked."""
    emulator.script({"block": "PROHIBITED_CONTENT"})
    with pytest.raises(JsonRpcException) as err:
        await daemon.chat("hi", partialResultToken="p")
    assert error_data(err.value)["blockReason"] == "PROHIBITED_CONTENT"


async def test_idle_stream_times_out(daemons: StartDaemon, emulator: Emulator) -> None:
    """A stream that goes silent longer than streamIdleTimeout fails with reason timeout."""
    d = await daemons(init_options={"streamIdleTimeout": 0.5, "maxRetries": 0})
    emulator.script({"chunks": ["a", "b"], "chunkDelay": 5})
    with pytest.raises(JsonRpcException) as err:
        await d.chat("hi", partialResultToken="p")
    assert error_data(err.value)["reason"] == "timeout"
    assert await d.history() == []


async def test_cancel_stops_upstream_and_keeps_history(daemon: Daemon, emulator: Emulator) -> None:
    """$/cancelRequest: RequestCancelled, the emulator sees the client go, history unchanged."""
    await daemon.chat("kept")
    emulator.script({"chunks": ["slow ", "reply ", "never ", "ends"], "chunkDelay": 2})
    msg_id, answer = daemon.send("gemini/chat", {"message": "stop me", "partialResultToken": "c"})
    await until(lambda: daemon.client.progress.get("c"), "the first delta")
    daemon.cancel(msg_id)
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(answer, 10)
    assert err.value.code == -32800
    event = emulator.wait_for_event("disconnect", timeout=5)
    assert event["path"].endswith(":streamGenerateContent")
    assert len(await daemon.history()) == 2
    assert (await daemon.chat("next works"))["turn"] == 2


async def test_cancel_during_retry_wait(daemons: StartDaemon, emulator: Emulator) -> None:
    """Cancel while waiting to retry ends the turn at once."""
    d = await daemons(init_options={"maxRetries": 3})
    emulator.script({"status": 429, "retryDelay": "30s"})
    msg_id, answer = d.send("gemini/chat", {"message": "x", "workDoneToken": "w"})
    await until(
        lambda: any(v.get("kind") == "report" for v in d.client.progress.get("w", [])),
        "the retry report",
    )
    d.cancel(msg_id)
    with pytest.raises(JsonRpcException) as err:
        await asyncio.wait_for(answer, 5)
    assert err.value.code == -32800
    assert len(emulator.requests(":generateContent")) == 1
