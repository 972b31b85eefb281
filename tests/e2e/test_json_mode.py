"""gemini/chat's JSON mode through the real daemon against the emulator: what is sent (the
converted schema, no tools), the reply checked against the original JSON Schema (valid, not
JSON, not matching), a schema the API cannot take refused before sending, history keeping the
check."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator

from .daemon import Daemon, error_data, last_body

PERSON = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Full name"},
        "age": {"type": ["integer", "null"], "minimum": 0},
        "role": {"$ref": "#/$defs/role"},
    },
    "required": ["name", "role"],
    "additionalProperties": False,
    "$defs": {"role": {"enum": ["admin", "user"]}},
}
SENT = {
    "type": "OBJECT",
    "properties": {
        "name": {"type": "STRING", "description": "Full name"},
        "age": {"type": "INTEGER", "minimum": 0, "nullable": True},
        "role": {"type": "STRING", "enum": ["admin", "user"]},
    },
    "required": ["name", "role"],
    "propertyOrdering": ["name", "age", "role"],
}
"""PERSON as the API's schema subset: upper-case types, the $ref inlined, ["integer", "null"]
as nullable, the enum typed STRING, additionalProperties left to the check."""


async def test_a_valid_reply_is_parsed_and_kept_in_history(
    daemon: Daemon, emulator: Emulator
) -> None:
    """With a schema: the request asks for application/json with the converted schema, no
    workspace tools; the reply fits, so `json` is valid with no errors and the parsed value;
    the history model turn carries the same `json`."""
    reply = {"name": "Ada", "age": 36, "role": "admin"}
    emulator.script({"reply": json.dumps(reply)})
    result = await daemon.chat(
        "who is Ada?", json={"schema": PERSON}, generationConfig={"temperature": 0}
    )
    body = last_body(emulator)
    assert body["generationConfig"] == {
        "temperature": 0,
        "responseMimeType": "application/json",
        "responseSchema": SENT,
    }
    assert "tools" not in body
    assert result["json"] == {"valid": True, "errors": [], "value": reply}
    assert (await daemon.history())[1]["json"] == result["json"]


async def test_a_reply_that_is_not_json_is_told(daemon: Daemon, emulator: Emulator) -> None:
    """A reply that does not parse: `json.valid` false, the parser's complaint, no value; the
    text is still the reply and the turn is stored."""
    emulator.script({"reply": "Sure! Here is Ada: {name: Ada}"})
    result = await daemon.chat("who?", json={"schema": PERSON})
    assert result["text"] == "Sure! Here is Ada: {name: Ada}"
    assert result["json"]["valid"] is False
    assert "value" not in result["json"]
    [error] = result["json"]["errors"]
    assert error.startswith("The reply is not JSON: Expecting value")
    assert len(await daemon.history()) == 2


async def test_a_schema_mismatch_is_told_with_where(daemon: Daemon, emulator: Emulator) -> None:
    """JSON that breaks the schema in ways the API was not told (an extra property) and ways it
    was (an enum, a minimum): every mismatch is listed with its place, the value still given."""
    reply = {"name": "Bob", "age": -1, "role": "owner", "extra": True}
    emulator.script({"reply": json.dumps(reply)})
    result = await daemon.chat("who?", json={"schema": PERSON})
    assert result["json"]["valid"] is False
    assert result["json"]["value"] == reply
    assert result["json"]["errors"] == [
        "$: Additional properties are not allowed ('extra' was unexpected)",
        "$.age: -1 is less than the minimum of 0",
        "$.role: 'owner' is not one of ['admin', 'user']",
    ]


async def test_json_mode_without_a_schema(daemon: Daemon, emulator: Emulator) -> None:
    """`json: {}` asks for JSON with no schema (a responseSchema in the turn's generationConfig
    is dropped too); any JSON reply is valid; a streamed reply joins to the parsed text."""
    emulator.script({"chunks": ['{"a": ', "[1, 2]}"]})
    config = {"responseSchema": {"type": "STRING"}}
    result = await daemon.chat("list", json={}, generationConfig=config, partialResultToken="p")
    assert last_body(emulator)["generationConfig"] == {"responseMimeType": "application/json"}
    assert result["json"] == {"valid": True, "errors": [], "value": {"a": [1, 2]}}
    assert "".join(v["text"] for v in daemon.client.progress["p"]) == result["text"]


@pytest.mark.parametrize(
    ("schema", "field", "words"),
    [
        (
            {"type": "object", "properties": {"tags": {"type": "array", "items": {"not": {}}}}},
            "json.schema.properties.tags.items.not",
            "negation",
        ),
        (
            {"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2]}}},
            "json.schema.properties.n.enum",
            "only strings",
        ),
        ({"type": "object", "properties": {"any": {}}}, "json.schema.properties.any", "type"),
        (
            {"type": "object", "properties": {"next": {"$ref": "#"}}},
            "json.schema.properties.next.$ref",
            "recursive",
        ),
        (
            {"type": "object", "minProperties": "two"},
            "json.schema.minProperties",
            "valid JSON Schema",
        ),
    ],
)
async def test_a_schema_the_api_cannot_take_is_refused(
    daemon: Daemon, emulator: Emulator, schema: dict[str, Any], field: str, words: str
) -> None:
    """Negation, a non-string enum, an untyped "any value" schema, recursion, and a schema that
    is not JSON Schema at all: -32602 naming json.schema.<path>, with a message saying why;
    nothing is sent and nothing stored."""
    with pytest.raises(JsonRpcException) as info:
        await daemon.chat("x", json={"schema": schema})
    assert info.value.code == -32602
    assert error_data(info.value)["field"] == field
    assert words in info.value.message
    assert emulator.requests("enerateContent") == []
    assert await daemon.history() == []


async def test_json_must_be_an_object(daemon: Daemon) -> None:
    """`json` of the wrong shape (a schema that is not an object, an unknown key) is -32602
    naming the field."""
    for bad, field in (({"schema": "person"}, "json.schema"), ({"shape": {}}, "json.shape")):
        with pytest.raises(JsonRpcException) as info:
            await daemon.chat("x", json=bad)
        assert error_data(info.value)["field"] == field
