"""The Gemini wire models: real published bodies parse, and parts dump back exactly as they came."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gemini_chat.gemini.wire import (
    Content,
    GenerateContentRequest,
    GenerateContentResponse,
    GenerationConfig,
    ListModelsResponse,
    Part,
    SafetySetting,
    ThinkingConfig,
    dump,
)

from .gemini_fakes import EXAMPLES, MODELS_JSON


def example(name: str) -> Any:
    """A published Gemini body from tests/data/gemini-api, parsed."""
    return json.loads((EXAMPLES / name).read_text())


def test_stream_chunks_round_trip_their_contents() -> None:
    """Each streamed chunk's content dumps back to exactly what Gemini sent."""
    for raw in example("stream-sse-chunks-gemini-2.5-flash.json"):
        chunk = GenerateContentResponse.model_validate(raw)
        for candidate, raw_candidate in zip(chunk.candidates or [], raw["candidates"], strict=True):
            assert candidate.content is not None
            assert dump(candidate.content) == raw_candidate["content"]


def test_stream_chunk_helpers() -> None:
    """text(), finish_reason() and usage read the chunks as the daemon needs them."""
    first, last = (
        GenerateContentResponse.model_validate(raw)
        for raw in example("stream-sse-chunks-gemini-2.5-flash.json")
    )
    assert first.text().startswith("Here you go!")
    assert first.finish_reason() is None
    assert last.text() == "**Italian:** Ciao"
    assert last.finish_reason() == "STOP"
    assert last.usage_metadata is not None
    assert last.usage_metadata.thoughts_token_count == 186
    assert last.usage_metadata.total_token_count == 235
    assert last.response_id == "AdVRaMmDCYekqtsPrb_-iAw"


def test_cookbook_response_parses() -> None:
    """A pretty-printed non-streaming body parses; its content and ratings are read."""
    raw = example("generate-content-response-cookbook-2024.json")
    response = GenerateContentResponse.model_validate(raw)
    assert response.text().startswith("```python")
    assert response.finish_reason() == "STOP"
    candidate = response.first_candidate()
    assert candidate is not None
    assert candidate.content is not None
    assert dump(candidate.content) == raw["candidates"][0]["content"]
    assert len(candidate.safety_ratings or []) == 4


def test_blocked_prompt_parses_without_candidates() -> None:
    """A blocked prompt has promptFeedback.blockReason and no candidates."""
    response = GenerateContentResponse.model_validate(
        example("prompt-blocked-prohibited-content-sse-chunk.json")
    )
    assert response.candidates is None
    assert response.prompt_feedback is not None
    assert response.prompt_feedback.block_reason == "PROHIBITED_CONTENT"
    assert response.text() == ""
    assert response.finish_reason() is None


def test_thought_and_signature_parts_round_trip_verbatim() -> None:
    """Thought parts, signatures, function calls and unknown fields come back unchanged."""
    content = {
        "role": "model",
        "parts": [
            {"text": "Let me think.", "thought": True},
            {
                "functionCall": {"id": "c1", "name": "get_weather", "args": {"city": "Oslo"}},
                "thoughtSignature": "CiQB0e2Kb7+/signature==",
            },
            {"text": "", "thoughtSignature": "c2ln"},
            {"functionCall": {"name": "noargs"}},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"fileData": {"fileUri": "https://x/y", "mimeType": "application/pdf"}},
            {"text": "x", "videoMetadata": {"startOffset": "1s", "fps": 2.5}},
            {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
            {"text": "new", "someFutureField": {"a": [1, 2.5, None, "s"]}},
        ],
        "someFutureContentField": 1,
    }
    assert dump(Content.model_validate(content)) == content


def test_thought_text_is_kept_apart() -> None:
    """text() leaves thought parts out."""
    response = GenerateContentResponse.model_validate(
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [{"text": "hmm ", "thought": True}, {"text": "Answer"}],
                    }
                }
            ]
        }
    )
    assert response.text() == "Answer"


json_leaf = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=8)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    text=st.text(max_size=20),
    thought=st.none() | st.booleans(),
    signature=st.none() | st.from_regex(r"[A-Za-z0-9+/]{0,12}={0,2}", fullmatch=True),
    args=st.dictionaries(st.text(max_size=5), json_value, max_size=3),
)
def test_any_part_round_trips(
    text: str, thought: bool | None, signature: str | None, args: dict[str, Any]
) -> None:
    """Whatever text, flags and arguments a part has, parse then dump gives it back."""
    parts: list[dict[str, Any]] = [{"text": text}, {"functionCall": {"name": "f", "args": args}}]
    for part in parts:
        if thought is not None:
            part["thought"] = thought
        if signature is not None:
            part["thoughtSignature"] = signature
    assert [dump(Part.model_validate(p)) for p in parts] == parts


def test_models_list_parses_with_ids() -> None:
    """The published models.list page parses; ids drop the models/ prefix."""
    page = ListModelsResponse.model_validate_json(MODELS_JSON.read_bytes())
    flash = next(m for m in page.models if m.id == "gemini-2.5-flash")
    assert flash.name == "models/gemini-2.5-flash"
    assert flash.input_token_limit == 1048576
    assert flash.thinking is True
    assert flash.supports("generateContent")
    assert page.next_page_token is None


def test_generation_config_typo_is_a_clear_error() -> None:
    """A misspelt generationConfig key is rejected, naming the key."""
    with pytest.raises(ValidationError, match="temprature"):
        GenerationConfig.model_validate({"temprature": 0.2})


def test_generation_config_accepts_camel_and_snake_and_dumps_camel() -> None:
    """Settings may use the wire's camelCase or snake_case; the wire gets camelCase."""
    config = GenerationConfig.model_validate(
        {
            "topP": 0.9,
            "max_output_tokens": 100,
            "stopSequences": ["END"],
            "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": True},
        }
    )
    assert dump(config) == {
        "topP": 0.9,
        "maxOutputTokens": 100,
        "stopSequences": ["END"],
        "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": True},
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"thinkingConfig": {"thinkingLevel": "VERY_HIGH"}},
        {"thinkingConfig": {"budget": 1}},
        {"stopSequences": ["a", "b", "c", "d", "e", "f"]},
        {"temperature": "hot"},
    ],
)
def test_generation_config_rejects_bad_values(bad: dict[str, Any]) -> None:
    """Wrong enum values, unknown nested keys, too many stop sequences are errors."""
    with pytest.raises(ValidationError):
        GenerationConfig.model_validate(bad)


def test_safety_setting_enums() -> None:
    """Safety settings take only Gemini's categories and thresholds."""
    ok = SafetySetting.model_validate(
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}
    )
    assert dump(ok) == {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}
    with pytest.raises(ValidationError):
        SafetySetting.model_validate({"category": "HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"})


def test_request_dumps_to_wire_shape() -> None:
    """A whole request dumps with camelCase keys and no nulls."""
    request = GenerateContentRequest(
        contents=[Content(role="user", parts=[Part(text="hi")])],
        system_instruction=Content(role="user", parts=[Part(text="Be brief.")]),
        generation_config=GenerationConfig(
            temperature=0.2, thinking_config=ThinkingConfig(include_thoughts=True)
        ),
        safety_settings=[
            SafetySetting(category="HARM_CATEGORY_HATE_SPEECH", threshold="BLOCK_NONE")
        ],
    )
    assert dump(request) == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "systemInstruction": {"role": "user", "parts": [{"text": "Be brief."}]},
        "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
        "generationConfig": {"temperature": 0.2, "thinkingConfig": {"includeThoughts": True}},
    }


def test_request_forbids_unknown_fields() -> None:
    """Our own requests refuse unknown keys."""
    with pytest.raises(ValidationError):
        GenerateContentRequest.model_validate({"contents": [], "generationConfg": {}})


def test_response_ignores_unknown_fields() -> None:
    """Fields Gemini adds later do not break parsing."""
    response = GenerateContentResponse.model_validate(
        {
            "candidates": [{"content": {"parts": [{"text": "a"}]}, "newThing": 1}],
            "modelStatus": {"x": 1},
            "brandNew": [1],
        }
    )
    assert response.text() == "a"
