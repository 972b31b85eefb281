"""The emulator's v1beta endpoints, keys, schema checks and conversation rules, over real HTTP."""

from __future__ import annotations

import json
from importlib import resources

import httpx
import pytest

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from gemini_chat.emulator.schema import SchemaValidator

FLASH = "/v1beta/models/gemini-2.5-flash"
HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}


def _message(response: httpx.Response) -> str:
    return str(response.json()["error"]["message"])


def _generate(client: httpx.Client, body: object) -> httpx.Response:
    return client.post(f"{FLASH}:generateContent", json=body)


def test_generate_content_returns_the_default_reply(client: httpx.Client) -> None:
    """Without a script the answer names the emulator and quotes the last user message."""
    r = _generate(client, HELLO)
    assert r.status_code == 200
    body = r.json()
    candidate = body["candidates"][0]
    text = candidate["content"]["parts"][0]["text"]
    assert "gemini-chat emulator" in text
    assert "1 user message(s)" in text
    assert "«Hello there»" in text
    assert candidate["content"]["role"] == "model"
    assert candidate["finishReason"] == "STOP"
    assert list(body) == ["candidates", "usageMetadata", "modelVersion", "responseId"]
    assert body["modelVersion"] == "gemini-2.5-flash"
    usage = body["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]


def test_bodies_are_pretty_printed_like_the_api(client: httpx.Client) -> None:
    """Non-streamed bodies use 2-space indentation and end with a newline."""
    r = _generate(client, HELLO)
    assert r.text.startswith('{\n  "candidates": [\n')
    assert r.text.endswith("}\n")
    assert r.headers["content-type"].startswith("application/json")


def test_default_reply_is_a_pure_function_of_the_request(client: httpx.Client) -> None:
    """The same request gets the same body; the reply counts the user messages."""
    assert _generate(client, HELLO).text == _generate(client, HELLO).text
    convo = {
        "contents": [
            {"role": "user", "parts": [{"text": "one"}]},
            {"role": "model", "parts": [{"text": "ok"}]},
            {"role": "user", "parts": [{"text": "two"}]},
        ]
    }
    text = _generate(client, convo).json()["candidates"][0]["content"]["parts"][0]["text"]
    assert "2 user message(s)" in text
    assert "«two»" in text


def test_count_tokens_matches_prompt_token_count(client: httpx.Client) -> None:
    """countTokens ({"contents"} or {"generateContentRequest"}) equals promptTokenCount."""
    request = {
        "contents": [
            {"role": "user", "parts": [{"text": "Describe this picture please"}]},
            {"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "iVBO"}}]},
        ],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
    }
    prompt = _generate(client, request).json()["usageMetadata"]["promptTokenCount"]
    inner = {**request, "model": "models/gemini-2.5-flash"}
    whole = client.post(f"{FLASH}:countTokens", json={"generateContentRequest": inner})
    assert whole.status_code == 200
    assert whole.json()["totalTokens"] == prompt
    only = client.post(f"{FLASH}:countTokens", json={"contents": request["contents"]})
    plain = _generate(client, {"contents": request["contents"]}).json()["usageMetadata"]
    assert only.json()["totalTokens"] == plain["promptTokenCount"]


def test_count_tokens_rejects_a_generate_request_without_model(client: httpx.Client) -> None:
    """Like the API, generateContentRequest must name its model."""
    r = client.post(f"{FLASH}:countTokens", json={"generateContentRequest": HELLO})
    assert r.status_code == 400
    assert "generate_content_request.model" in _message(r)


def test_count_tokens_rejects_contents_and_generate_request_together(
    client: httpx.Client,
) -> None:
    """contents and generateContentRequest are mutually exclusive."""
    inner = {**HELLO, "model": "models/gemini-2.5-flash"}
    body = {"contents": HELLO["contents"], "generateContentRequest": inner}
    assert client.post(f"{FLASH}:countTokens", json=body).status_code == 400


def _bundled_models() -> list[dict[str, object]]:
    ref = resources.files("gemini_chat.emulator.data") / "models.json"
    return json.loads(ref.read_text(encoding="utf-8"))["models"]


def test_models_list_pages_through_every_model(client: httpx.Client) -> None:
    """Pages of pageSize models; nextPageToken is omitted on the last page."""
    names: list[str] = []
    token = ""
    pages = 0
    while True:
        r = client.get("/v1beta/models", params={"pageSize": 10, "pageToken": token})
        assert r.status_code == 200
        page = r.json()
        assert len(page["models"]) <= 10
        names += [m["name"] for m in page["models"]]
        pages += 1
        if "nextPageToken" not in page:
            break
        token = page["nextPageToken"]
    assert names == [m["name"] for m in _bundled_models()]
    assert pages == -(-len(names) // 10)


def test_models_list_defaults_to_fifty_per_page(client: httpx.Client) -> None:
    """Without pageSize the page holds up to 50 models."""
    page = client.get("/v1beta/models").json()
    assert len(page["models"]) == min(50, len(_bundled_models()))


def test_models_list_rejects_a_bad_page_token(client: httpx.Client) -> None:
    """An unknown page token is a 400."""
    r = client.get("/v1beta/models", params={"pageToken": "bogus"})
    assert r.status_code == 400


def test_models_get_returns_one_model(client: httpx.Client) -> None:
    """GET /v1beta/models/{m} returns that model."""
    r = client.get(FLASH)
    assert r.status_code == 200
    assert r.json()["name"] == "models/gemini-2.5-flash"
    assert client.get("/v1beta/models/no-such-model").status_code == 404


def test_unknown_model_is_not_found_with_the_real_message(client: httpx.Client) -> None:
    """An unknown model is a 404 NOT_FOUND naming it, in the API's words."""
    r = client.post("/v1beta/models/gemini-pro:generateContent", json=HELLO)
    assert r.status_code == 404
    assert r.json()["error"]["status"] == "NOT_FOUND"
    assert _message(r) == (
        "models/gemini-pro is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their "
        "supported methods."
    )


def test_a_model_without_generate_content_is_not_found(client: httpx.Client) -> None:
    """Models that cannot generate (embeddings) are refused like unknown ones."""
    r = client.post("/v1beta/models/gemini-embedding-001:generateContent", json=HELLO)
    assert r.status_code == 404


def test_unknown_method_is_not_found(client: httpx.Client) -> None:
    """Paths the API does not serve are 404."""
    assert client.post(f"{FLASH}:fly", json=HELLO).status_code == 404
    assert client.get("/v1/models").status_code == 404


def test_missing_key_is_permission_denied(emulator: Emulator) -> None:
    """No key: 403 PERMISSION_DENIED "Method doesn't allow unregistered callers..."."""
    r = httpx.post(f"{emulator.url}{FLASH}:generateContent", json=HELLO)
    assert r.status_code == 403
    assert r.json()["error"]["status"] == "PERMISSION_DENIED"
    assert _message(r).startswith("Method doesn't allow unregistered callers")


def test_wrong_key_is_invalid_argument_with_error_info(emulator: Emulator) -> None:
    """A wrong key gets exactly the API's API_KEY_INVALID body, and the key is not echoed."""
    url = f"{emulator.url}{FLASH}:generateContent"
    r = httpx.post(url, json=HELLO, headers={"x-goog-api-key": "wrong-key-123"})
    assert r.status_code == 400
    message = "API key not valid. Please pass a valid API key."
    assert r.json() == {
        "error": {
            "code": 400,
            "message": message,
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                },
                {
                    "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                    "locale": "en-US",
                    "message": message,
                },
            ],
        }
    }
    assert "wrong-key-123" not in r.text


def test_key_in_query_is_accepted(emulator: Emulator) -> None:
    """?key= works like the header."""
    r = httpx.post(f"{emulator.url}{FLASH}:generateContent?key={EMULATOR_KEY}", json=HELLO)
    assert r.status_code == 200


def test_unknown_field_is_rejected_like_the_api(client: httpx.Client) -> None:
    """An unknown name is a 400 with the parser's message and a BadRequest field violation."""
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}], "foo": 1}]}
    r = _generate(client, body)
    assert r.status_code == 400
    expected = (
        "Invalid JSON payload received. Unknown name \"foo\" at 'contents[0]': Cannot find field."
    )
    assert _message(r) == expected
    detail = r.json()["error"]["details"][0]
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert detail["fieldViolations"] == [{"field": "contents[0]", "description": expected}]


def test_unknown_top_level_field_has_no_location(client: httpx.Client) -> None:
    """At the root the message names no location."""
    r = _generate(client, {**HELLO, "stream": True})
    assert _message(r) == 'Invalid JSON payload received. Unknown name "stream": Cannot find field.'


def test_bad_enum_value_is_rejected(client: httpx.Client) -> None:
    """An enum value outside the schema is a 400 naming the field."""
    body = {**HELLO, "safetySettings": [{"category": "HARM_BAD", "threshold": "BLOCK_NONE"}]}
    r = _generate(client, body)
    assert r.status_code == 400
    assert _message(r).startswith("Invalid value at 'safety_settings[0].category' (")
    assert _message(r).endswith('), "HARM_BAD"')


def test_wrong_json_type_is_rejected(client: httpx.Client) -> None:
    """A string where a float belongs, or a number where a string belongs, is a 400."""
    r = _generate(client, {**HELLO, "generationConfig": {"temperature": "hot"}})
    assert _message(r) == "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\""
    r = _generate(client, {"contents": [{"role": "user", "parts": [{"text": 5}]}]})
    assert _message(r) == "Invalid value at 'contents[0].parts[0].text' (TYPE_STRING), 5"


def test_list_for_a_singular_field_is_rejected(client: httpx.Client) -> None:
    """A list where one message belongs is refused."""
    r = _generate(client, {**HELLO, "generationConfig": [{"temperature": 1}]})
    assert r.status_code == 400
    assert "cannot start list" in _message(r)


def test_bad_base64_is_rejected(client: httpx.Client) -> None:
    """inlineData.data must be base64."""
    part = {"inlineData": {"mimeType": "image/png", "data": "not base64!"}}
    r = _generate(client, {"contents": [{"role": "user", "parts": [part]}]})
    assert r.status_code == 400
    assert "contents[0].parts[0].inline_data.data" in _message(r)


def test_proto_json_leniency_is_kept(client: httpx.Client) -> None:
    """Like the API: snake_case names, integers as strings, enums by number are accepted."""
    body = {
        **HELLO,
        "generation_config": {"max_output_tokens": "256", "temperature": 1},
        "safetySettings": [{"category": 8, "threshold": "BLOCK_NONE"}],
        "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT"}}]}],
    }
    assert _generate(client, body).status_code == 200


def test_invalid_json_is_rejected(client: httpx.Client) -> None:
    """A body that is not JSON is a 400 INVALID_ARGUMENT."""
    r = client.post(
        f"{FLASH}:generateContent", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert _message(r).startswith("Invalid JSON payload received.")


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ([], "* GenerateContentRequest.contents: contents is not specified\n"),
        (
            [{"role": "user", "parts": []}],
            "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n",
        ),
        ([{"role": "system", "parts": [{"text": "x"}]}], "Please use a valid role: user, model."),
        (
            [{"role": "user", "parts": [{"thought": True}]}],
            "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' "
            "must have one initialized field\n",
        ),
        (
            [
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [{"text": "hello"}]},
            ],
            "Please ensure that multiturn requests ends with a user role or a function response.",
        ),
        (
            [{"role": "model", "parts": [{"text": "hello"}]}],
            "Please ensure that single turn requests end with a user role or the role field "
            "is empty.",
        ),
    ],
    ids=[
        "no-contents",
        "empty-parts",
        "bad-role",
        "part-without-data",
        "ends-model",
        "single-model",
    ],
)
def test_conversation_rules(client: httpx.Client, contents: object, message: str) -> None:
    """Conversations the API refuses are 400 INVALID_ARGUMENT with its message."""
    r = _generate(client, {"contents": contents})
    assert r.status_code == 400
    assert r.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert _message(r) == message


def test_function_response_turn_ends_a_conversation(client: httpx.Client) -> None:
    """A user turn of functionResponse parts (after a model functionCall) is a valid end."""
    contents = [
        {"role": "user", "parts": [{"text": "read a.py"}]},
        {
            "role": "model",
            "parts": [{"functionCall": {"name": "read_file", "args": {"path": "a.py"}}}],
        },
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "read_file", "response": {"text": "x=1"}}}],
        },
    ]
    assert _generate(client, {"contents": contents}).status_code == 200


def test_a_content_without_role_counts_as_user(client: httpx.Client) -> None:
    """The role may be left out, as the API allows."""
    assert _generate(client, {"contents": [{"parts": [{"text": "hi"}]}]}).status_code == 200


def test_parse_names_fields_as_json_and_keeps_a_body_that_already_is() -> None:
    """SchemaValidator.parse: a body with proto (snake_case) names comes back with JSON
    (camelCase) names, nested ones too; a body already in JSON names is returned as it is,
    not copied (the emulator's answer time must not grow with a copy of the history); an
    invalid body gives its violations."""
    v = SchemaValidator.bundled()
    hi = [{"role": "user", "parts": [{"text": "hi"}]}]
    snake = {"contents": hi, "generation_config": {"max_output_tokens": 5,
             "thinking_config": {"include_thoughts": True}}}  # fmt: skip
    found, parsed = v.parse(snake, "GenerateContentRequest")
    assert found == []
    assert parsed == {
        "contents": hi,
        "generationConfig": {"maxOutputTokens": 5, "thinkingConfig": {"includeThoughts": True}},
    }
    camel = {"contents": hi, "generationConfig": {"maxOutputTokens": 5}}
    found, parsed = v.parse(camel, "GenerateContentRequest")
    assert found == [] and parsed is camel
    found, parsed = v.parse({"contents": hi, "nope": 1}, "GenerateContentRequest")
    assert ["nope" in x.description for x in found] == [True] and parsed == {}
