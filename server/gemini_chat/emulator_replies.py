"""What the emulator answers: error bodies, conversation rules, token counts, reply chunks."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from gemini_chat.emulator_schema import JsonObject, Violation, objects, parts_of

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "Resource has been exhausted (e.g. check quota).",
    499: "The operation was cancelled.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}
_RPC = "type.googleapis.com/google.rpc."
MISSING_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
INVALID_KEY = "API key not valid. Please pass a valid API key."
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)
_SAFETY_CATEGORIES = (
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
)
BLOB_TOKENS = 258
"""Fixed token cost of one inline or file blob (what Gemini charges for a small image)."""


class RequestError(Exception):
    """A request the real API would reject: carries the HTTP status and the error body."""

    def __init__(self, status: int, body: JsonObject) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def error_body(status: int, message: str, details: Sequence[JsonObject] = ()) -> JsonObject:
    """A Google API error body: {"error": {code, message, status, details?}}."""
    err: JsonObject = {
        "code": status,
        "message": message,
        "status": STATUS_NAMES.get(status, "UNKNOWN"),
    }
    if details:
        err["details"] = list(details)
    return {"error": err}


def plain_error(status: int, message: str | None = None) -> RequestError:
    """A RequestError with the API's usual message for that status."""
    text = message if message is not None else _DEFAULT_MESSAGES.get(status, "Unknown error.")
    return RequestError(status, error_body(status, text))


def invalid_key_error() -> RequestError:
    """The 400 the API sends for an API key it does not know."""
    details: list[JsonObject] = [
        {
            "@type": _RPC + "ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        },
        {"@type": _RPC + "LocalizedMessage", "locale": "en-US", "message": INVALID_KEY},
    ]
    return RequestError(400, error_body(400, INVALID_KEY, details))


def violations_error(violations: Sequence[Violation]) -> RequestError:
    """The 400 for schema violations, with a BadRequest detail listing each field."""
    fields: list[JsonObject] = []
    for v in violations:
        entry: JsonObject = {"field": v.field} if v.field else {}
        entry["description"] = v.description
        fields.append(entry)
    message = "\n".join(v.description for v in violations)
    details: list[JsonObject] = [{"@type": _RPC + "BadRequest", "fieldViolations": fields}]
    return RequestError(400, error_body(400, message, details))


def not_found_model(model: str, method: str) -> RequestError:
    """The 404 for an unknown model, or one that does not support `method`."""
    return plain_error(
        404,
        f"{model} is not found for API version v1beta, or is not supported for {method}. "
        "Call ListModels to see the list of available models and their supported methods.",
    )


def quota_error(model: str, quota: str, retry_delay: str | None) -> RequestError:
    """A 429 shaped like the real one: QuotaFailure, Help and (when given) RetryInfo."""
    per = "Day" if quota == "day" else "Minute"
    violation: JsonObject = {
        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        "quotaId": f"GenerateRequestsPer{per}PerProjectPerModel-FreeTier",
        "quotaDimensions": {"location": "global", "model": model.removeprefix("models/")},
        "quotaValue": "250" if quota == "day" else "10",
    }
    details: list[JsonObject] = [
        {"@type": _RPC + "QuotaFailure", "violations": [violation]},
        {
            "@type": _RPC + "Help",
            "links": [
                {
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
    ]
    if retry_delay is not None:
        details.append({"@type": _RPC + "RetryInfo", "retryDelay": retry_delay})
    return RequestError(429, error_body(429, QUOTA_MESSAGE, details))


def part_tokens(part: JsonObject) -> int:
    """Deterministic token cost of one part: ceil(chars/4) for text, a fixed cost per blob."""
    text = part.get("text")
    if isinstance(text, str):
        return math.ceil(len(text) / 4)
    if "inlineData" in part or "fileData" in part:
        return BLOB_TOKENS
    payload = {k: v for k, v in part.items() if k not in ("thought", "thoughtSignature")}
    return math.ceil(len(json.dumps(payload, sort_keys=True)) / 4)


def prompt_tokens(request: JsonObject) -> tuple[int, int]:
    """(text tokens, image tokens) of a GenerateContentRequest's prompt: contents and system."""
    contents = objects(request.get("contents"))
    system = request.get("systemInstruction")
    if isinstance(system, dict):
        contents.append(cast("JsonObject", system))
    text = blobs = 0
    for content in contents:
        for part in parts_of(content):
            if "inlineData" in part or "fileData" in part:
                blobs += part_tokens(part)
            else:
                text += part_tokens(part)
    tools = request.get("tools")
    if isinstance(tools, list) and tools:
        text += math.ceil(len(json.dumps(tools, sort_keys=True)) / 4)
    return text, blobs


def prompt_details(request: JsonObject) -> tuple[int, list[JsonObject]]:
    """The prompt's total token count and its promptTokensDetails list."""
    text, blobs = prompt_tokens(request)
    details: list[JsonObject] = [{"modality": "TEXT", "tokenCount": text}]
    if blobs:
        details.append({"modality": "IMAGE", "tokenCount": blobs})
    return text + blobs, details


def default_reply(request: JsonObject) -> str:
    """The emulator's friendly answer: a pure function of the conversation sent."""
    contents = objects(request.get("contents"))
    users = [c for c in contents if c.get("role") in (None, "", "user")]
    texts = [c for c in users if any(isinstance(p.get("text"), str) for p in parts_of(c))]
    last = users[-1] if users else {}
    said = " ".join(str(p["text"]) for p in parts_of(last) if isinstance(p.get("text"), str))
    said = " ".join(said.split())
    if len(said) > 200:
        said = said[:199] + "…"
    last_text = f"your last message was: «{said}»" if said else "your last message had no text"
    return (
        "This is the gemini-chat emulator, not Gemini (no API key is set). "
        f"This conversation has {len(texts)} user message(s); {last_text}. "
        "Set GEMINI_API_KEY to talk to Gemini."
    )


def split_words(text: str, low: int = 4, high: int = 8) -> list[str]:
    """Split text on word boundaries into about low..high pieces that join back to `text`."""
    words = re.findall(r"\s*\S+\s*", text) or ([text] if text else [])
    count = max(1, min(len(words), max(low, min(high, len(words) // 6))))
    pieces: list[str] = []
    for i in range(count):
        start, end = len(words) * i // count, len(words) * (i + 1) // count
        pieces.append("".join(words[start:end]))
    return [p for p in pieces if p]


def signature(seed: str) -> str:
    """A deterministic opaque base64 thoughtSignature."""
    return base64.b64encode(hashlib.sha256(("emulator:" + seed).encode()).digest()).decode()


def response_id(body: bytes) -> str:
    """A responseId-like opaque id derived from the request bytes."""
    digest = hashlib.sha256(body).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class Reply:
    """One planned model answer, renderable as SSE chunks or as one body."""

    model_version: str
    response_id: str
    prompt_tokens: int
    prompt_details: list[JsonObject]
    pieces: list[str] = field(default_factory=lambda: list[str]())
    thought: str | None = None
    extra_parts: list[JsonObject] = field(default_factory=lambda: list[JsonObject]())
    finish_reason: str = "STOP"

    def chunks(self) -> list[JsonObject]:
        """The stream: an optional thought chunk, one chunk per piece, finishReason on the last."""
        groups: list[list[JsonObject]] = []
        if self.thought is not None:
            groups.append([{"text": self.thought, "thought": True}])
        groups.extend([{"text": piece}] for piece in self.pieces)
        if self.extra_parts:
            if self.pieces:
                groups[-1] = groups[-1] + self.extra_parts
            else:
                groups.append(list(self.extra_parts))
        if not groups or groups[-1][0].get("thought"):
            groups.append([])
        self._sign(groups)
        out: list[JsonObject] = []
        emitted: list[JsonObject] = []
        for i, parts in enumerate(groups):
            emitted.extend(parts)
            last = i == len(groups) - 1
            out.append(self._body(parts, emitted, last))
        return out

    def full(self) -> JsonObject:
        """The non-streamed response: the same parts, text pieces joined into one part."""
        parts: list[JsonObject] = []
        if self.thought is not None:
            parts.append({"text": self.thought, "thought": True})
        text = "".join(self.pieces)
        if text:
            parts.append({"text": text})
        parts.extend(self.extra_parts)
        self._sign([parts])
        return self._body(parts, parts, True)

    def _sign(self, groups: list[list[JsonObject]]) -> None:
        """Put a thoughtSignature on the first answer part (after thoughts) and on functionCalls."""
        first = True
        for parts in groups:
            for i, part in enumerate(parts):
                if part.get("thought"):
                    continue
                wants = (first and self.thought is not None) or "functionCall" in part
                first = False
                if wants and "thoughtSignature" not in part:
                    parts[i] = {**part, "thoughtSignature": signature(self.response_id)}

    def _body(self, parts: list[JsonObject], emitted: list[JsonObject], last: bool) -> JsonObject:
        candidate: JsonObject = {}
        if parts:
            candidate["content"] = {"parts": parts, "role": "model"}
        if last:
            candidate["finishReason"] = self.finish_reason
            if self.finish_reason == "SAFETY":
                candidate["safetyRatings"] = _safety_ratings()
        candidate["index"] = 0
        return {
            "candidates": [candidate],
            "usageMetadata": self._usage(emitted),
            "modelVersion": self.model_version,
            "responseId": self.response_id,
        }

    def _usage(self, emitted: list[JsonObject]) -> JsonObject:
        answer = [p for p in emitted if not p.get("thought")]
        answer_text = "".join(str(p.get("text", "")) for p in answer)
        candidates = math.ceil(len(answer_text) / 4)
        candidates += sum(part_tokens(p) for p in answer if "text" not in p)
        thoughts = sum(part_tokens(p) for p in emitted if p.get("thought"))
        usage: JsonObject = {"promptTokenCount": self.prompt_tokens}
        if candidates:
            usage["candidatesTokenCount"] = candidates
        usage["totalTokenCount"] = self.prompt_tokens + candidates + thoughts
        usage["promptTokensDetails"] = self.prompt_details
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        return usage


def _safety_ratings() -> list[JsonObject]:
    ratings: list[JsonObject] = []
    for category in _SAFETY_CATEGORIES:
        rating: JsonObject = {"category": category, "probability": "NEGLIGIBLE"}
        if category == "HARM_CATEGORY_DANGEROUS_CONTENT":
            rating = {"category": category, "probability": "HIGH", "blocked": True}
        ratings.append(rating)
    return ratings


def blocked(model_version: str, rid: str, prompt: int, reason: str) -> JsonObject:
    """A blocked prompt: HTTP 200, promptFeedback.blockReason and no candidates."""
    return {
        "promptFeedback": {"blockReason": reason},
        "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
        "modelVersion": model_version,
        "responseId": rid,
    }


def scripted_error(step: JsonObject, model: str) -> RequestError:
    """The error a step with "status" asks for."""
    status = cast("int", step["status"])
    message = step.get("message")
    if status == 429 and message is None:
        delay = step.get("retryDelay")
        return quota_error(model, str(step.get("quota", "minute")), cast("str | None", delay))
    return plain_error(status, cast("str | None", message))


def _wants_thoughts(request: JsonObject) -> bool:
    config = request.get("generationConfig")
    if not isinstance(config, dict):
        return False
    thinking = cast("JsonObject", config).get("thinkingConfig")
    return (
        isinstance(thinking, dict) and cast("JsonObject", thinking).get("includeThoughts") is True
    )


def build_reply(step: JsonObject, request: JsonObject, model: str, rid: str) -> Reply:
    """Plan the model's answer to `request` from a script step (empty step: the default reply)."""
    prompt, details = prompt_details(request)
    reply = Reply(model.removeprefix("models/"), rid, prompt, details)
    if "chunks" in step:
        reply.pieces = [str(c) for c in cast("list[object]", step["chunks"]) if c != ""]
    elif "reply" in step:
        reply.pieces = split_words(str(step["reply"]))
    elif "functionCall" not in step:
        reply.pieces = split_words(default_reply(request))
    if "thought" in step:
        reply.thought = str(step["thought"])
    elif _wants_thoughts(request):
        reply.thought = (
            "**Answering as the emulator**\n\nNo model runs here; I give my fixed reply."
        )
    call = step.get("functionCall")
    if isinstance(call, dict):
        call = cast("JsonObject", call)
        reply.extra_parts.append(
            {"functionCall": {"name": call["name"], "args": call.get("args", {})}}
        )
    image = step.get("image")
    if isinstance(image, dict):
        image = cast("JsonObject", image)
        reply.extra_parts.append(
            {"inlineData": {"mimeType": image["mimeType"], "data": image["data"]}}
        )
    reply.finish_reason = str(step.get("finishReason", "STOP"))
    return reply
