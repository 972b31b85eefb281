"""GeminiClient's on_error: every failed attempt of every call is heard, streamed ones too."""

from __future__ import annotations

import pytest

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from gemini_chat.gemini.client import CallOptions, GeminiClient
from gemini_chat.gemini.errors import GeminiError, RateLimitedError, UpstreamUnavailableError
from gemini_chat.gemini.wire import Content, GenerateContentRequest, Part

from .gemini_fakes import Recorder

REQUEST = GenerateContentRequest(contents=[Content(role="user", parts=[Part(text="Hi")])])


async def test_stream_errors_reach_on_error(emulator: Emulator) -> None:
    """A 429 sent as the stream's first event (a daily quota: not retried) and a 500 event
    after a chunk both reach on_error, as the 429 of a retried generateContent call does
    (the daemon's gemini/status learns of rate limits there)."""
    seen: list[GeminiError] = []
    rec = Recorder()
    opts = CallOptions(api_key=EMULATOR_KEY, base_url=emulator.url, timeout=30)
    emulator.script(
        {"status": 429, "quota": "day", "errorAfter": 0},
        {"reply": "one two three four five six", "errorAfter": 1, "status": 500},
        {"status": 429, "retryDelay": "1s"},
    )
    async with GeminiClient(sleep=rec.sleep, on_error=seen.append) as gemini:
        with pytest.raises(RateLimitedError, match="daily quota"):
            async for _ in gemini.stream_generate_content("gemini-2.5-flash", REQUEST, opts):
                pass
        with pytest.raises(UpstreamUnavailableError):
            async for _ in gemini.stream_generate_content("gemini-2.5-flash", REQUEST, opts):
                pass
        await gemini.generate_content("gemini-2.5-flash", REQUEST, opts)
    assert [type(e) for e in seen] == [
        RateLimitedError,
        UpstreamUnavailableError,
        RateLimitedError,
    ]
    assert rec.sleeps == [1.0]
    assert all(EMULATOR_KEY not in str(e) for e in seen)
