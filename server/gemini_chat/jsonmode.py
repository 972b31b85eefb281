"""JSON mode for one turn: the reply is asked for as JSON (`responseMimeType:
application/json`), shaped by a JSON Schema converted to the API's schema subset (an OpenAPI
3.0 Schema object: upper-case types, properties, items, enum...), and checked against the
original schema once it arrived. A mismatch is told, not hidden.

Each JSON Schema keyword is sent (as the API's own field), dropped and checked on the reply
(a constraint the API cannot take but a validator can tell), dropped (an annotation), or
refused before anything is sent (structure the API cannot express): -32602 naming
`json.schema.<path>`. jsonschema is imported on first use (only JSON-mode turns need it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from .protocol import FieldError, Json

FIELD = "json.schema"
MAX_ERRORS = 20
"""Schema mismatches told per reply (the first ones, by place in the reply)."""
MAX_ERROR_CHARS = 300

_COPIED = frozenset(
    {
        "description", "title", "format", "nullable", "minimum", "maximum", "minLength",
        "maxLength", "pattern", "minItems", "maxItems", "minProperties", "maxProperties",
        "default", "example", "required", "propertyOrdering",
    }
)  # fmt: skip
"""Keywords the API's Schema has under the same name."""
_REFUSED = {
    "not": "negation",
    "if": "conditional schemas",
    "then": "conditional schemas",
    "else": "conditional schemas",
    "patternProperties": "properties matched by pattern",
    "prefixItems": "tuples",
    "dependentSchemas": "dependent schemas",
    "dependencies": "dependencies",
    "$dynamicRef": "dynamic references",
    "$recursiveRef": "recursive references",
}
"""Structure the API's schema subset cannot express, with what to call it."""
_TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}
_FOR_TYPE = {
    "STRING": {"enum", "format", "minLength", "maxLength", "pattern"},
    "NUMBER": {"format", "minimum", "maximum"},
    "INTEGER": {"format", "minimum", "maximum"},
    "BOOLEAN": set[str](),
    "ARRAY": {"items", "minItems", "maxItems"},
    "OBJECT": {"properties", "required", "propertyOrdering", "minProperties", "maxProperties"},
}
"""The converted keywords that belong to each type (a branch of a list of types keeps these)."""
_SHARED = {"type", "description", "title", "nullable", "default", "example"}


Refs = tuple[tuple[str, str], ...]
"""The references being inlined, outermost first, with where each was met."""


class SchemaError(FieldError):
    """A schema that is not JSON Schema, or that the API cannot take."""


@dataclass(frozen=True)
class JsonMode:
    """One turn's JSON mode: the schema as given (replies are checked with it) and as sent."""

    schema: Json | None
    sent: Json | None


def prepare(schema: Json | None) -> JsonMode:
    """Check the schema and convert it, before the turn starts; SchemaError naming the place."""
    if schema is None:
        return JsonMode(None, None)
    import jsonschema

    try:
        _validator_class(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = _field(exc.absolute_path)
        raise SchemaError(f"{where} is not valid JSON Schema: {exc.message}", where) from None
    return JsonMode(schema, _Converter(schema).convert(schema, FIELD, ()))


def request_fields(fields: Json, mode: JsonMode) -> Json:
    """The turn's request fields in JSON mode: the generation config asks for JSON (with the
    converted schema), and the workspace tools are left out (the API refuses function calling
    with a JSON response on Gemini 2.x models)."""
    config = {
        k: v
        for k, v in cast(Json, fields.get("generationConfig") or {}).items()
        if k not in ("responseSchema", "responseJsonSchema")
    }
    config["responseMimeType"] = "application/json"
    if mode.sent is not None:
        config["responseSchema"] = mode.sent
    kept = {k: v for k, v in fields.items() if k not in ("tools", "toolConfig")}
    return {**kept, "generationConfig": config}


def check(text: str, mode: JsonMode) -> Json:
    """`json` of the result: whether the reply is JSON fitting the schema, the mismatches,
    and the parsed `value` (whenever the reply parsed)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return {"valid": False, "errors": [f"The reply is not JSON: {exc}"]}
    errors: list[str] = []
    if mode.schema is not None:
        cls = _validator_class(mode.schema)
        validator = cls(mode.schema, format_checker=cls.FORMAT_CHECKER)
        found = sorted(
            validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path]
        )
        errors = [_mismatch(e) for e in found[:MAX_ERRORS]]
        if len(found) > MAX_ERRORS:
            errors.append(f"... and {len(found) - MAX_ERRORS} more")
    return {"valid": not errors, "errors": errors, "value": value}


def _validator_class(schema: Json) -> Any:
    """The validator of the schema's `$schema` draft (2020-12 when it names none)."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import validator_for

    return validator_for(schema, default=Draft202012Validator)


def _mismatch(error: Any) -> str:
    where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    message = str(error.message)
    if len(message) > MAX_ERROR_CHARS:
        message = message[: MAX_ERROR_CHARS - 3] + "..."
    return f"{where}: {message}"


def _field(path: Iterable[object]) -> str:
    return ".".join([FIELD, *(str(p) for p in path)])


class _Converter:
    """JSON Schema -> the API's Schema, with local `$ref`s inlined."""

    def __init__(self, root: Json) -> None:
        self._root = root

    def convert(self, node: object, where: str, refs: Refs) -> Json:
        """One schema and everything under it; `refs` are the references being inlined."""
        if not isinstance(node, dict) or not node:
            raise SchemaError(
                f"{where}: a schema that allows any value cannot be sent to Gemini; give it a type",
                where,
            )
        schema = _merged_all_of(cast(Json, node), where)  # allOf: [{$ref}] is a reference too
        schema, refs = self._resolved(schema, where, refs)
        schema = _merged_all_of(schema, where)
        for keyword, what in _REFUSED.items():
            if keyword in schema:
                raise SchemaError(
                    f"{where}.{keyword}: Gemini's response schema cannot express {what}",
                    f"{where}.{keyword}",
                )
        for keyword in ("additionalProperties", "unevaluatedProperties"):
            if schema.get(keyword) not in (None, True, False, {}):  # a schema: a map's values
                raise SchemaError(
                    f"{where}.{keyword}: Gemini's response schema cannot express maps (objects "
                    "whose keys are not listed); list the properties",
                    f"{where}.{keyword}",
                )
        types, nullable = _types(schema)
        if len(types) > 1:  # each type a branch of anyOf, with the keywords that concern it
            branches = [self.convert({**schema, "type": t}, where, refs) for t in types]
            out = {k: v for k, v in schema.items() if k in _SHARED and k != "type"}
            out["anyOf"] = [{k: v for k, v in b.items() if k != "nullable"} for b in branches]
        else:
            out = self._single(schema, where, refs)
        if nullable:
            out["nullable"] = True
        return out

    def _single(self, schema: Json, where: str, refs: Refs) -> Json:
        """A schema of at most one type (besides null)."""
        out: Json = {k: v for k, v in schema.items() if k in _COPIED}
        _bounds(schema, out)
        kind = _type_of(schema, where)
        if kind is not None:
            out["type"] = kind
        self._children(schema, where, refs, out)
        if "enum" in schema or "const" in schema:
            _enum(schema, where, out)
        if kind is not None:
            allowed = _SHARED | _FOR_TYPE.get(kind, set()) | {"anyOf"}
            out = {k: v for k, v in out.items() if k in allowed}
        return out

    def _children(self, schema: Json, where: str, refs: Refs, out: Json) -> None:
        props = schema.get("properties")
        if isinstance(props, dict):
            named = cast(Json, props)
            out["properties"] = {
                name: self.convert(sub, f"{where}.properties.{name}", refs)
                for name, sub in named.items()
            }
            out.setdefault("propertyOrdering", list(named))
        items = schema.get("items")
        if isinstance(items, list):
            raise SchemaError(
                f"{where}.items: Gemini's response schema cannot express tuples", f"{where}.items"
            )
        if isinstance(items, dict):
            out["items"] = self.convert(cast(Json, items), f"{where}.items", refs)
        for keyword in ("anyOf", "oneOf"):  # oneOf is sent as anyOf; "only one" is checked after
            branches = schema.get(keyword)
            if isinstance(branches, list):
                listed = cast(list[object], branches)
                out["anyOf"] = [
                    self.convert(b, f"{where}.{keyword}.{i}", refs) for i, b in enumerate(listed)
                ]

    def _resolved(self, schema: Json, where: str, refs: Refs) -> tuple[Json, Refs]:
        """The schema with its `$ref` inlined (the keywords beside `$ref` win)."""
        ref = schema.get("$ref")
        if not isinstance(ref, str):
            return schema, refs
        field = f"{where}.$ref"
        if not ref.startswith("#"):
            raise SchemaError(
                f"{field}: only references inside the schema (#/$defs/...) can be sent", field
            )
        if ref != "#" and not ref.startswith("#/"):
            raise SchemaError(
                f"{field}: {ref}: anchors ($anchor / #name) are not supported; "
                "refer by JSON pointer (#/$defs/...)",
                field,
            )
        first = next((at for seen, at in refs if seen == ref), None)
        if first is not None:
            raise SchemaError(
                f"{first}: {ref} refers to itself; Gemini's response schema cannot be recursive",
                first,
            )
        target = self._pointer(ref, field)
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        resolved, inner = self._resolved(target, field, (*refs, (ref, field)))
        return {**resolved, **rest}, inner

    def _pointer(self, ref: str, field: str) -> Json:
        node: Json | None = self._root
        for raw in ref[1:].split("/")[1:] if ref != "#" else []:
            part = raw.replace("~1", "/").replace("~0", "~")
            found = node.get(part) if node is not None else None
            node = cast(Json, found) if isinstance(found, dict) else None
        if node is None:
            raise SchemaError(f"{field}: {ref} names nothing in the schema", field)
        return node


def _merged_all_of(schema: Json, where: str) -> Json:
    """`allOf` of one schema (how generators wrap a `$ref`) is merged in; more is refused."""
    parts = schema.get("allOf")
    if not isinstance(parts, list):
        return schema
    listed = cast(list[object], parts)
    if len(listed) != 1 or not isinstance(listed[0], dict):
        raise SchemaError(
            f"{where}.allOf: Gemini's response schema cannot combine schemas with allOf; "
            "write them as one",
            f"{where}.allOf",
        )
    rest = {k: v for k, v in schema.items() if k != "allOf"}
    return {**cast(Json, listed[0]), **rest}


def _types(schema: Json) -> tuple[list[str], bool]:
    """The schema's types other than null, and whether null is allowed."""
    raw = schema.get("type")
    listed = [raw] if isinstance(raw, str) else cast(list[object], raw or [])
    named = [str(t) for t in listed if t in _TYPES]
    enum = schema.get("enum")
    values = cast(list[object], enum) if isinstance(enum, list) else []
    nullable = "null" in named or None in values or ("const" in schema and schema["const"] is None)
    kept = [t for t in named if t != "null"]
    return (kept or (["null"] if named else [])), nullable and bool(kept or not named)


def _type_of(schema: Json, where: str) -> str | None:
    """The API's upper-case type, inferred from the keywords when `type` is left out."""
    types, _ = _types(schema)
    if types:
        return types[0].upper()
    if "properties" in schema:
        return "OBJECT"
    if "items" in schema:
        return "ARRAY"
    if "enum" in schema or "const" in schema:
        return "STRING"
    if any(k in schema for k in ("anyOf", "oneOf")):
        return None
    raise SchemaError(
        f"{where}: a schema without a type (any value) cannot be sent to Gemini; give it a type",
        where,
    )


def _enum(schema: Json, where: str, out: Json) -> None:
    """`enum` and `const` as the API's enum: strings only (null makes it nullable)."""
    keyword = "const" if "const" in schema else "enum"
    raw = [schema["const"]] if keyword == "const" else schema.get("enum")
    values = [v for v in cast(list[object], raw) if v is not None] if isinstance(raw, list) else []
    if out.get("type") not in (None, "STRING") or not all(isinstance(v, str) for v in values):
        raise SchemaError(
            f"{where}.{keyword}: Gemini's response schema takes only strings as enum values",
            f"{where}.{keyword}",
        )
    if values:
        out["enum"] = values
        out.setdefault("type", "STRING")


def _bounds(schema: Json, out: Json) -> None:
    """An exclusive bound is sent as the inclusive one (the reply is checked against it)."""
    for exclusive, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = schema.get(exclusive)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.setdefault(inclusive, value)
