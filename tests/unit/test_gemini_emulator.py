"""GeminiClient against the real emulator over HTTP on 127.0.0.1 (the emulator checks our wire)."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import pytest

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from gemini_chat.gemini.client import GeminiClient
from gemini_chat.gemini.errors import (
    ApiKeyInvalidError,
    BlockedError,
    ModelNotFoundError,
    NetworkError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from gemini_chat.gemini.wire import (
    Content,
    GenerateContentRequest,
    GenerateContentResponse,
    GenerationConfig,
    Part,
    ThinkingConfig,
    dump,
)

from .gemini_fakes import Recorder, opts


def request(
    text: str = "How many paws are in my house?", thoughts: bool = False
) -> GenerateContentRequest:
    """A one-turn request, optionally asking for thought summaries."""
    config = (
        GenerationConfig(thinking_config=ThinkingConfig(include_thoughts=True))
        if thoughts
        else None
    )
    return GenerateContentRequest(
        contents=[Content(role="user", parts=[Part(text=text)])], generation_config=config
    )


async def stream_all(
    gemini: GeminiClient, emulator: Emulator, req: GenerateContentRequest
) -> list[GenerateContentResponse]:
    """Every chunk of a streamed reply."""
    got: list[GenerateContentResponse] = []
    async with aclosing(
        gemini.stream_generate_content("gemini-2.5-flash", req, opts(emulator))
    ) as chunks:
        async for chunk in chunks:
            got.append(chunk)
    return got


async def test_generate_against_emulator(gemini: GeminiClient, emulator: Emulator) -> None:
    """A reply comes back; the emulator saw the key only in the header."""
    emulator.script({"reply": "You have two dogs, so 8 paws."})
    response = await gemini.generate_content("gemini-2.5-flash", request(), opts(emulator))
    assert response.text() == "You have two dogs, so 8 paws."
    assert response.finish_reason() == "STOP"
    (seen,) = emulator.requests(":generateContent")
    assert seen.headers["x-goog-api-key"] == EMULATOR_KEY
    assert EMULATOR_KEY not in seen.path
    assert all(EMULATOR_KEY not in v for v in seen.query.values())
    assert seen.headers["user-agent"].startswith("gemini-chat/")


async def test_stream_with_thoughts_round_trips_parts(
    gemini: GeminiClient, emulator: Emulator
) -> None:
    """Streamed chunks join to the reply; thought parts and signatures dump back unchanged."""
    emulator.script(
        {"reply": "Eight paws in all, from two dogs.", "thought": "Two dogs, four paws each."}
    )
    chunks = await stream_all(gemini, emulator, request(thoughts=True))
    assert "".join(c.text() for c in chunks) == "Eight paws in all, from two dogs."
    assert chunks[-1].finish_reason() == "STOP"
    parts = [p for c in chunks if (cand := c.first_candidate()) for p in cand.parts()]
    assert "".join(p.text or "" for p in parts if p.is_thought()) == "Two dogs, four paws each."
    history = Content(role="model", parts=parts)
    assert any(p.thought_signature for p in parts)
    # Sending the streamed parts back as history is accepted by the emulator's schema check.
    follow_up = GenerateContentRequest(
        contents=[
            *request().contents,
            history,
            Content(role="user", parts=[Part(text="And cats?")]),
        ]
    )
    await gemini.generate_content("gemini-2.5-flash", follow_up, opts(emulator))
    sent = emulator.requests(":generateContent")[-1].body
    assert isinstance(sent, dict)
    assert sent["contents"][1] == dump(history)


async def test_emulator_503_then_reply_is_retried(
    gemini: GeminiClient, emulator: Emulator, rec: Recorder
) -> None:
    """A scripted 503 is retried after 1 s (recorded, not slept), then the reply streams."""
    emulator.script({"status": 503}, {"reply": "ok then"})
    chunks = await stream_all(gemini, emulator, request())
    assert "".join(c.text() for c in chunks) == "ok then"
    assert rec.sleeps == [1.0]


async def test_emulator_429_retry_delay(
    gemini: GeminiClient, emulator: Emulator, rec: Recorder
) -> None:
    """The emulator's RetryInfo delay is honoured."""
    emulator.script({"status": 429, "retryDelay": "3s"}, {"reply": "fine"})
    response = await gemini.generate_content("gemini-2.5-flash", request(), opts(emulator))
    assert response.text() == "fine"
    assert rec.sleeps == [3.0]


async def test_emulator_429_daily_over_cap(gemini: GeminiClient, emulator: Emulator) -> None:
    """A daily quota with a long delay fails at once with a daily-quota message."""
    emulator.script({"status": 429, "retryDelay": "3600s", "quota": "day"})
    with pytest.raises(RateLimitedError, match="daily quota") as info:
        await gemini.generate_content("gemini-2.5-flash", request(), opts(emulator))
    assert info.value.retry_after == 3600.0


async def test_emulator_mid_stream_error(gemini: GeminiClient, emulator: Emulator) -> None:
    """An error event after the first chunk raises and is not retried."""
    emulator.script(
        {
            "reply": "one two three four five six seven eight nine ten",
            "errorAfter": 1,
            "status": 500,
        }
    )
    with pytest.raises(UpstreamUnavailableError):
        await stream_all(gemini, emulator, request())
    assert len(emulator.requests(":streamGenerateContent")) == 1


async def test_emulator_cut_stream(gemini: GeminiClient, emulator: Emulator) -> None:
    """A stream dropped after one chunk is a NetworkError."""
    emulator.script(
        {
            "reply": "one two three four five six seven eight nine ten",
            "cutAfter": 1,
            "dropConnection": True,
        }
    )
    with pytest.raises(NetworkError):
        await stream_all(gemini, emulator, request())


async def test_emulator_blocked_prompt(gemini: GeminiClient, emulator: Emulator) -> None:
    """A blocked prompt is BlockedError, streamed or not."""
    emulator.script({"block": "PROHIBITED_CONTENT"}, {"block": "SAFETY"})
    with pytest.raises(BlockedError) as streamed:
        await stream_all(gemini, emulator, request())
    with pytest.raises(BlockedError) as whole:
        await gemini.generate_content("gemini-2.5-flash", request(), opts(emulator))
    assert streamed.value.block_reason == "PROHIBITED_CONTENT"
    assert whole.value.block_reason == "SAFETY"


async def test_emulator_wrong_key(gemini: GeminiClient, emulator: Emulator) -> None:
    """A key the emulator does not know is apiKeyInvalid, and the key is not in the message."""
    wrong = "wrong-key-0d1e2f"
    with pytest.raises(ApiKeyInvalidError) as info:
        await gemini.generate_content("gemini-2.5-flash", request(), opts(emulator, wrong))
    assert wrong not in str(info.value)


async def test_emulator_models_and_tokens(gemini: GeminiClient, emulator: Emulator) -> None:
    """models.list (all pages), models.get and countTokens work against the emulator."""
    models = await gemini.list_models(opts(emulator))
    assert "gemini-2.5-flash" in [m.id for m in models]
    flash = await gemini.get_model("gemini-2.5-flash", opts(emulator))
    assert flash.input_token_limit == 1048576
    assert await gemini.count_tokens("gemini-2.5-flash", request().contents, opts(emulator)) > 0
    with pytest.raises(ModelNotFoundError):
        await gemini.get_model("gemini-0.1-nope", opts(emulator))


async def test_cancel_closes_the_emulators_stream(gemini: GeminiClient, emulator: Emulator) -> None:
    """Cancelling the consumer mid-stream closes the connection; the emulator sees it go."""
    emulator.script({"reply": "one two three four five six seven eight nine ten", "chunkDelay": 30})
    got_first = asyncio.Event()

    async def consume() -> None:
        req = request()
        async with aclosing(
            gemini.stream_generate_content("gemini-2.5-flash", req, opts(emulator))
        ) as chunks:
            async for _ in chunks:
                got_first.set()

    task = asyncio.create_task(consume())
    await got_first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    event = await asyncio.to_thread(emulator.wait_for_event, "disconnect", 10.0)
    assert "streamGenerateContent" in str(event.get("path"))
