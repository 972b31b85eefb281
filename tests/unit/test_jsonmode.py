"""JSON mode's conversion of JSON Schema to the API's schema subset, keyword by keyword (sent,
checked after, dropped, refused naming json.schema.<path>), the request fields it sets, and the
check of a reply against the original schema."""

from __future__ import annotations

from typing import Any

import pytest

from gemini_chat import jsonmode
from gemini_chat.jsonmode import JsonMode, SchemaError


def sent(schema: dict[str, Any]) -> dict[str, Any] | None:
    """What responseSchema would carry for `schema`."""
    return jsonmode.prepare(schema).sent


def refused(schema: dict[str, Any]) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        jsonmode.prepare(schema)
    return info.value


def test_types_go_upper_case_with_their_keywords() -> None:
    """Each JSON type becomes the API's upper-case type; keywords the API's Schema has
    (description, format, bounds, lengths, pattern, item counts, required) are sent as they
    are; an object's properties are ordered as written."""
    schema = {
        "type": "object",
        "description": "A thing",
        "properties": {
            "n": {"type": "number", "minimum": 0, "maximum": 1, "format": "double"},
            "s": {"type": "string", "minLength": 1, "maxLength": 9, "pattern": "^a"},
            "a": {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 3},
            "i": {"type": "integer", "title": "I", "default": 3},
        },
        "required": ["n"],
        "minProperties": 1,
    }
    assert sent(schema) == {
        "type": "OBJECT",
        "description": "A thing",
        "properties": {
            "n": {"type": "NUMBER", "minimum": 0, "maximum": 1, "format": "double"},
            "s": {"type": "STRING", "minLength": 1, "maxLength": 9, "pattern": "^a"},
            "a": {"type": "ARRAY", "items": {"type": "BOOLEAN"}, "minItems": 1, "maxItems": 3},
            "i": {"type": "INTEGER", "title": "I", "default": 3},
        },
        "required": ["n"],
        "minProperties": 1,
        "propertyOrdering": ["n", "s", "a", "i"],
    }


def test_null_unions_and_several_types() -> None:
    """["string", "null"] is a nullable STRING; several types become anyOf branches, each with
    the keywords of its type; null alone is NULL; an explicit propertyOrdering is kept."""
    assert sent({"type": ["string", "null"]}) == {"type": "STRING", "nullable": True}
    assert sent({"type": "null"}) == {"type": "NULL"}
    both = {"type": ["string", "integer", "null"], "maxLength": 2, "minimum": 1, "title": "T"}
    assert sent(both) == {
        "title": "T",
        "nullable": True,
        "anyOf": [
            {"type": "STRING", "maxLength": 2, "title": "T"},
            {"type": "INTEGER", "minimum": 1, "title": "T"},
        ],
    }
    ordered = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    assert sent({**ordered, "propertyOrdering": ["b", "a"]})["propertyOrdering"] == ["b", "a"]  # type: ignore[index]


def test_enums_and_consts() -> None:
    """A string enum is a STRING enum (its type inferred when left out); null among the values
    makes it nullable; const is a one-value enum."""
    assert sent({"enum": ["a", "b"]}) == {"type": "STRING", "enum": ["a", "b"]}
    assert sent({"type": ["string", "null"], "enum": ["a", None]}) == {
        "type": "STRING",
        "enum": ["a"],
        "nullable": True,
    }
    assert sent({"const": "only"}) == {"type": "STRING", "enum": ["only"]}


def test_local_references_are_inlined() -> None:
    """`$ref` to $defs or definitions is replaced by its schema, the keywords beside it winning;
    allOf of one schema (how generators wrap a $ref) is merged the same way."""
    schema = {
        "type": "object",
        "properties": {
            "a": {"$ref": "#/$defs/Point", "description": "Where"},
            "b": {"allOf": [{"$ref": "#/definitions/Name"}]},
        },
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}},
        "definitions": {"Name": {"type": "string"}},
    }
    props = sent(schema)["properties"]  # type: ignore[index]
    assert props == {
        "a": {
            "type": "OBJECT",
            "description": "Where",
            "properties": {"x": {"type": "NUMBER"}},
            "propertyOrdering": ["x"],
        },
        "b": {"type": "STRING"},
    }


def test_constraints_the_api_lacks_are_left_to_the_check() -> None:
    """additionalProperties false, uniqueItems, multipleOf are not sent; exclusive bounds are
    sent as the inclusive ones; oneOf is sent as anyOf; annotations ($schema, $id, examples)
    are dropped."""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.com/x",
        "examples": [{}],
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "n": {"type": "number", "exclusiveMinimum": 0, "multipleOf": 2},
            "t": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "u": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        },
    }
    assert sent(schema) == {
        "type": "OBJECT",
        "properties": {
            "n": {"type": "NUMBER", "minimum": 0},
            "t": {"type": "ARRAY", "items": {"type": "STRING"}},
            "u": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
        },
        "propertyOrdering": ["n", "t", "u"],
    }


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        (
            {"type": "object", "properties": {"x": {"not": {"type": "string"}}}},
            "json.schema.properties.x.not",
        ),
        ({"type": "object", "if": {}, "then": {}}, "json.schema.if"),
        (
            {"type": "object", "patternProperties": {"^a": {"type": "string"}}},
            "json.schema.patternProperties",
        ),
        ({"type": "array", "prefixItems": [{"type": "string"}]}, "json.schema.prefixItems"),
        (
            {"type": "object", "additionalProperties": {"type": "integer"}},
            "json.schema.additionalProperties",
        ),
        (
            {"type": "object", "allOf": [{"type": "object"}, {"required": ["a"]}]},
            "json.schema.allOf",
        ),
        ({"type": "object", "properties": {"x": {}}}, "json.schema.properties.x"),
        ({"type": "object", "properties": {"x": True}}, "json.schema.properties.x"),
        ({"type": "integer", "enum": [1, 2]}, "json.schema.enum"),
        ({"const": 3}, "json.schema.const"),
        ({"$ref": "other.json#/a"}, "json.schema.$ref"),
        ({"$ref": "#/$defs/missing"}, "json.schema.$ref"),
        (
            {
                "$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}},
                "$ref": "#/$defs/N",
            },
            "json.schema.$ref",
        ),
        (
            {"type": "object", "properties": {"x": {"type": "strng"}}},
            "json.schema.properties.x.type",
        ),
    ],
)
def test_what_the_api_cannot_take_is_refused_naming_the_place(
    schema: dict[str, Any], field: str
) -> None:
    """Negation, conditionals, pattern properties, tuples, maps (additionalProperties with a
    schema), allOf of several, schemas allowing
    any value, non-string enums and consts, outside or dangling references, recursion, and a
    schema that is not JSON Schema: SchemaError naming json.schema.<path>."""
    assert refused(schema).field == field


def test_an_anchor_reference_is_refused_as_an_anchor_not_as_recursion() -> None:
    """A `$ref` naming an $anchor (#name, no pointer) is refused saying anchors are not
    supported, at the $ref's place; it is not taken for a reference to the root (which
    reported the schema as recursive)."""
    schema = {
        "$defs": {"P": {"$anchor": "point", "type": "string"}},
        "type": "object",
        "properties": {"a": {"$ref": "#point"}},
    }
    error = refused(schema)
    assert error.field == "json.schema.properties.a.$ref"
    assert "anchors ($anchor / #name) are not supported" in str(error)
    assert "recursive" not in str(error)


def test_request_fields_ask_for_json_and_leave_the_tools_out() -> None:
    """JSON mode keeps the turn's config but any schema of it, adds the MIME type and the
    converted schema, and drops the tools and their config."""
    fields = {
        "systemInstruction": {"parts": [{"text": "s"}]},
        "generationConfig": {"temperature": 0.1, "responseJsonSchema": {"type": "string"}},
        "tools": [{"functionDeclarations": []}],
        "toolConfig": {},
    }
    mode = jsonmode.prepare({"type": "string"})
    assert jsonmode.request_fields(fields, mode) == {
        "systemInstruction": {"parts": [{"text": "s"}]},
        "generationConfig": {
            "temperature": 0.1,
            "responseMimeType": "application/json",
            "responseSchema": {"type": "STRING"},
        },
    }
    assert jsonmode.request_fields({}, JsonMode(None, None)) == {
        "generationConfig": {"responseMimeType": "application/json"}
    }


def test_the_check_lists_mismatches_by_place() -> None:
    """A reply is checked against the original schema: mismatches sorted by place, formats
    checked (an email), at most 20 told with a count of the rest; JSON without a schema is
    valid; text that is not JSON is told with the parser's words."""
    mode = jsonmode.prepare(
        {
            "type": "object",
            "properties": {
                "mail": {"type": "string", "format": "email"},
                "xs": {"type": "array", "items": {"type": "integer"}},
            },
        }
    )
    checked = jsonmode.check('{"mail": "nope", "xs": [1, "a"]}', mode)
    assert checked["errors"] == [
        "$.mail: 'nope' is not a 'email'",
        "$.xs[1]: 'a' is not of type 'integer'",
    ]
    many = jsonmode.check('{"xs": ' + str(["a"] * 25).replace("'", '"') + "}", mode)
    assert len(many["errors"]) == 21 and many["errors"][-1] == "... and 5 more"  # type: ignore[arg-type]
    assert jsonmode.check("[1]", JsonMode(None, None)) == {
        "valid": True,
        "errors": [],
        "value": [1],
    }
    broken = jsonmode.check("{", JsonMode(None, None))
    assert broken["valid"] is False and "value" not in broken
