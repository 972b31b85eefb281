"""A scripted Gemini on httpx's MockTransport, and a client whose retry waits are recorded; the
replies several modules script; options and an SDK client for the emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from google import genai
from google.genai import types

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from gemini_chat.gemini.client import CallOptions, GeminiClient, RetryNotice
from gemini_chat.gemini.files import UploadProgress

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "gemini-api"
"""Published Gemini API bodies, verbatim."""
MODELS_JSON = Path(__file__).resolve().parents[2] / "server/gemini_chat/emulator/data/models.json"
"""The models.list answer the emulator serves (taken from the real API)."""
BASE = "https://gemini.test"
"""The scripted Gemini's base URL."""

Reply = httpx.Response | Exception


class Upstream:
    """A scripted Gemini: answers requests with the given replies in order, recording them."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply


class Recorder:
    """Records retry waits (instead of sleeping), retry notices and upload progress."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.notices: list[RetryNotice] = []
        self.progress: list[UploadProgress] = []

    async def sleep(self, seconds: float) -> None:
        """Record a retry wait instead of sleeping."""
        self.sleeps.append(seconds)

    async def on_retry(self, notice: RetryNotice) -> None:
        """Record a retry notice."""
        self.notices.append(notice)

    async def on_progress(self, progress: UploadProgress) -> None:
        """Record an upload's progress."""
        self.progress.append(progress)


class Harness(Recorder):
    """A GeminiClient on a MockTransport whose waits are recorded instead of slept."""

    def __init__(self, upstream: Callable[[httpx.Request], Any]) -> None:
        super().__init__()
        self.client = GeminiClient(
            transport=httpx.MockTransport(upstream), sleep=self.sleep, rng=lambda: 0.0
        )


def rate_limited(delay: str) -> httpx.Response:
    """A 429 whose RetryInfo asks to wait `delay` (e.g. "1.01s")."""
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
    error = {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "quota exceeded",
             "details": [retry]}  # fmt: skip
    return httpx.Response(429, json={"error": error})


def started(url: str, granularity: str = "8388608") -> httpx.Response:
    """The Files API's answer to an upload's start: upload to `url`, in `granularity` steps."""
    headers = {"x-goog-upload-status": "active", "x-goog-upload-url": url}
    return httpx.Response(200, headers=headers | {"x-goog-upload-chunk-granularity": granularity})


def opts(emulator: Emulator, key: str = EMULATOR_KEY) -> CallOptions:
    """Options pointing at the emulator."""
    return CallOptions(api_key=key, base_url=emulator.url, timeout=30, stream_idle_timeout=30)


def sdk(emulator: Emulator) -> genai.Client:
    """The official SDK's client for the emulator. Keep it while using it: the SDK closes its
    HTTP client when the client object is collected."""
    # google-genai 3.x defaults to the v1 API; the emulator (like our daemon) speaks v1beta.
    options = types.HttpOptions(base_url=emulator.url, api_version="v1beta")
    return genai.Client(api_key=EMULATOR_KEY, http_options=options)
