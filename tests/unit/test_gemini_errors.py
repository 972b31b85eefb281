"""Gemini error bodies map to one error class each, with messages that say what to do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gemini_chat.gemini.errors import (
    ApiKeyInvalidError,
    ApiKeyMissingError,
    BadRequestError,
    BlockedError,
    ModelNotFoundError,
    RateLimitedError,
    UpstreamUnavailableError,
    blocked_error,
    error_from_response,
    parse_duration,
)
from gemini_chat.gemini.wire import GenerateContentResponse

from .gemini_fakes import EXAMPLES


def example_bytes(name: str) -> bytes:
    """A published Gemini body from tests/data/gemini-api, verbatim."""
    return (EXAMPLES / name).read_bytes()


def body(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> bytes:
    """An error body in Gemini's shape."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return json.dumps({"error": error}, indent=2).encode()


def test_invalid_key_example_is_api_key_invalid() -> None:
    """The published 400 API_KEY_INVALID body says the key is wrong and how to set it."""
    error = error_from_response(400, example_bytes("error-400-api-key-invalid.json"))
    assert isinstance(error, ApiKeyInvalidError)
    assert error.reason == "apiKeyInvalid"
    assert error.http_status == 400
    assert error.status == "INVALID_ARGUMENT"
    assert "GEMINI_API_KEY" in error.message
    assert "gemini.apiKey" in error.message
    assert "API key not valid" in error.message


def test_list_wrapped_error_body_is_unwrapped() -> None:
    """A body wrapped in a one-element list parses the same."""
    wrapped = b"[" + example_bytes("error-400-api-key-invalid.json") + b"]"
    assert isinstance(error_from_response(400, wrapped), ApiKeyInvalidError)


@pytest.mark.parametrize("http_status", [401, 403])
def test_401_and_403_are_api_key_invalid(http_status: int) -> None:
    """Unauthenticated or forbidden means the key is not accepted or lacks permission."""
    error = error_from_response(
        http_status,
        body(http_status, "PERMISSION_DENIED", "Method doesn't allow unregistered callers"),
    )
    assert isinstance(error, ApiKeyInvalidError)
    assert error.http_status == http_status
    assert "GEMINI_API_KEY" in error.message


def test_404_names_the_model() -> None:
    """An unknown model says which, and where to pick another."""
    error = error_from_response(
        404, body(404, "NOT_FOUND", "models/gemini-pro is not found"), model="gemini-pro"
    )
    assert isinstance(error, ModelNotFoundError)
    assert error.reason == "modelNotFound"
    assert "Model gemini-pro was not found; pick one from gemini/models" in error.message


def test_429_example_reads_retry_delay_and_per_minute_quota() -> None:
    """The published 429 gives retry_after 26 s and a per-minute message."""
    error = error_from_response(429, example_bytes("error-429-resource-exhausted-retryinfo.json"))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 26.0
    assert error.status == "RESOURCE_EXHAUSTED"
    assert "per-minute" in error.message
    assert "26 s" in error.message


def test_429_per_day_quota_says_daily() -> None:
    """A per-day quotaId is told apart from a per-minute one."""
    raw = json.loads(example_bytes("error-429-resource-exhausted-retryinfo.json"))
    details = raw["error"]["details"]
    details[0]["violations"][0]["quotaId"] = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    details.pop()  # daily quotas often come without RetryInfo
    error = error_from_response(429, json.dumps(raw).encode())
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is None
    assert "daily quota" in error.message
    assert "per-minute" not in error.message


def test_429_fractional_retry_delay() -> None:
    """RetryInfo durations may be fractional."""
    error = error_from_response(
        429,
        body(
            429,
            "RESOURCE_EXHAUSTED",
            "quota",
            [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}],
        ),
    )
    assert error.retry_after == 1.5


@pytest.mark.parametrize("http_status", [500, 502, 503, 504])
def test_5xx_is_upstream_unavailable(http_status: int) -> None:
    """Server errors are upstreamUnavailable with Gemini's words."""
    error = error_from_response(
        http_status, body(http_status, "UNAVAILABLE", "The model is overloaded.")
    )
    assert isinstance(error, UpstreamUnavailableError)
    assert error.reason == "upstreamUnavailable"
    assert "The model is overloaded." in error.message


def test_other_4xx_is_bad_request_with_geminis_message() -> None:
    """Any other client error carries Gemini's message."""
    error = error_from_response(
        400,
        body(
            400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified"
        ),
    )
    assert isinstance(error, BadRequestError)
    assert error.reason == "badRequest"
    assert "contents is not specified" in error.message


def test_non_json_body() -> None:
    """A proxy's HTML page still maps by status, its text trimmed into the message."""
    error = error_from_response(502, b"<html><body>Bad Gateway</body></html>\n")
    assert isinstance(error, UpstreamUnavailableError)
    assert "Bad Gateway" in error.message
    assert error.status is None


def test_google_key_in_upstream_message_is_redacted() -> None:
    """Anything that looks like a Google API key never reaches the message."""
    key = "AIzaSyD-not-a-real-key-0123456789abcdef"
    error = error_from_response(
        400, body(400, "INVALID_ARGUMENT", f"bad key {key} in ?key={key}&alt=sse")
    )
    assert key not in error.message
    assert key not in str(error)
    assert key not in repr(error.args)


def test_redact_secret_removes_any_key() -> None:
    """The client scrubs its own key, whatever its shape."""
    error = BadRequestError("upstream said: my-secret-key is bad")
    error.redact_secret("my-secret-key")
    assert "my-secret-key" not in str(error)
    assert "my-secret-key" not in repr(error.args)


def test_to_data_carries_protocol_fields() -> None:
    """to_data() is PROTOCOL.md's -32803 data: `reason`, plus httpStatus, status,
    retryAfterSeconds, the quota that ran out and blockReason when known, and nothing for what
    is not known."""
    error = error_from_response(429, example_bytes("error-429-resource-exhausted-retryinfo.json"))
    assert error.to_data() == {
        "reason": "rateLimited",
        "httpStatus": 429,
        "status": "RESOURCE_EXHAUSTED",
        "retryAfterSeconds": 26.0,
        "quota": "minute",
    }
    blocked = BlockedError("blocked", block_reason="SAFETY")
    assert blocked.to_data() == {"reason": "blocked", "blockReason": "SAFETY"}
    assert ApiKeyMissingError("no key").to_data() == {"reason": "apiKeyMissing"}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("26s", 26.0), ("1.5s", 1.5), ("0s", 0.0), (".5s", 0.5), ("26", None), ("x", None), (3, None)],
)
def test_parse_duration(text: object, seconds: float | None) -> None:
    """Duration strings are seconds with an ``s``."""
    assert parse_duration(text) == seconds


def test_blocked_prompt_example() -> None:
    """The published blocked-prompt chunk is a BlockedError naming the reason."""
    response = GenerateContentResponse.model_validate_json(
        example_bytes("prompt-blocked-prohibited-content-sse-chunk.json")
    )
    error = blocked_error(response)
    assert isinstance(error, BlockedError)
    assert error.reason == "blocked"
    assert error.block_reason == "PROHIBITED_CONTENT"
    assert "PROHIBITED_CONTENT" in error.message
    assert "Rephrase" in error.message


def safety_stop(
    parts: list[dict[str, Any]] | None, finish: str = "SAFETY"
) -> GenerateContentResponse:
    """A reply stopped with ``finish``, harassment rated HIGH."""
    candidate: dict[str, Any] = {
        "finishReason": finish,
        "safetyRatings": [
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True},
            {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
        ],
    }
    if parts is not None:
        candidate["content"] = {"role": "model", "parts": parts}
    return GenerateContentResponse.model_validate({"candidates": [candidate]})


def test_safety_stop_without_text_names_categories_and_setting() -> None:
    """A SAFETY stop with no answer names the category and the safetySettings setting."""
    error = blocked_error(safety_stop(None))
    assert error is not None
    assert error.block_reason == "SAFETY"
    assert "harassment" in error.message
    assert "hate speech" not in error.message
    assert "safetySettings" in error.message


@pytest.mark.parametrize("finish", ["RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII"])
def test_other_blocking_stops(finish: str) -> None:
    """Other blocking finish reasons with no answer are BlockedError too."""
    error = blocked_error(safety_stop([{"text": "thinking", "thought": True}], finish))
    assert error is not None
    assert error.block_reason == finish


def test_blocking_stop_with_text_is_not_blocked() -> None:
    """A reply that has answer text is returned, not raised, whatever its finish reason."""
    assert blocked_error(safety_stop([{"text": "partial answer"}])) is None


def test_normal_reply_is_not_blocked() -> None:
    """STOP is a normal reply."""
    assert blocked_error(safety_stop(None, "STOP")) is None
