"""What the emulator answers: token counts, the default reply, and replies built from steps."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import cast

from .schema import JsonObject, objects, parts_of

_SAFETY_CATEGORIES = (
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
)
BLOB_TOKENS = 258
"""Fixed token cost of one inline or file blob (what Gemini charges for a small image)."""


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
    tools = _function_response_names(contents[-1] if contents else {})
    if tools:
        # A tool loop sends the results back: answer in plain text so the loop ends.
        return f"I looked at the result{'s' if len(tools) > 1 else ''} of {_and(tools)}."
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


def _function_response_names(content: JsonObject) -> list[str]:
    """The distinct tool names of a content's functionResponse parts, in order."""
    names: list[str] = []
    for part in parts_of(content):
        response = part.get("functionResponse")
        name = cast("JsonObject", response).get("name") if isinstance(response, dict) else None
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


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
            # As the API streams them: a functionCall or image arrives whole, in its own event.
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
    """Every category NEGLIGIBLE except dangerous content: HIGH and blocked, as the API marks it."""
    ratings: list[JsonObject] = []
    for category in _SAFETY_CATEGORIES:
        rating: JsonObject = {"category": category, "probability": "NEGLIGIBLE"}
        if category == "HARM_CATEGORY_DANGEROUS_CONTENT":
            rating = {"category": category, "probability": "HIGH", "blocked": True}
        ratings.append(rating)
    return ratings


def blocked(model_version: str, rid: str, prompt: int, reason: str) -> JsonObject:
    """A blocked prompt: HTTP 200, promptFeedback (ratings too for SAFETY) and no candidates."""
    feedback: JsonObject = {"blockReason": reason}
    if reason == "SAFETY":
        feedback["safetyRatings"] = _safety_ratings()
    return {
        "promptFeedback": feedback,
        "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
        "modelVersion": model_version,
        "responseId": rid,
    }


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
