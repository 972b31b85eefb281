"""Check raw request JSON against the Gemini API's own discovery document, like its JSON parser."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from typing import cast

_PROTO_PACKAGE = "type.googleapis.com/google.ai.generativelanguage.v1beta"
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)

# Enum type names of the real protos, for error messages; others fall back to Owner.Field.
_ENUM_NAMES = {
    ("SafetySetting", "category"): "HarmCategory",
    ("SafetyRating", "category"): "HarmCategory",
    ("SafetySetting", "threshold"): "SafetySetting.HarmBlockThreshold",
    ("FunctionCallingConfig", "mode"): "FunctionCallingConfig.Mode",
    ("ThinkingConfig", "thinkingLevel"): "ThinkingConfig.ThinkingLevel",
    ("Schema", "type"): "Type",
}

JsonObject = dict[str, object]


@dataclass(frozen=True)
class Violation:
    """One rejected field: its path (proto field names, '' at the root) and the API's message."""

    field: str
    description: str


@functools.cache
def snake(name: str) -> str:
    """Return the proto (snake_case) spelling of a JSON (camelCase) field name (the schema's
    names and a client's few: cached, as every field of every request needs one)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


class _Found(list[Violation]):
    """The violations found so far, and whether a field came under its proto name."""

    proto_names = False


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def _show(value: object) -> str:
    """Render an offending value the way the API's parser quotes it."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _unknown(path: str, name: str, why: str) -> Violation:
    where = f" at '{path}'" if path else ""
    return Violation(path, f'Invalid JSON payload received. Unknown name "{name}"{where}: {why}')


def _invalid(path: str, type_name: str, value: object) -> Violation:
    return Violation(path, f"Invalid value at '{path}' ({type_name}), {_show(value)}")


class SchemaValidator:
    """Validates JSON bodies against named schemas of a discovery document."""

    def __init__(self, discovery: JsonObject) -> None:
        schemas = discovery.get("schemas")
        if not isinstance(schemas, dict):
            raise ValueError("discovery document has no schemas")
        self._schemas = cast("dict[str, JsonObject]", schemas)

    @staticmethod
    def bundled() -> SchemaValidator:
        """The validator for the discovery document shipped in emulator/data (cached)."""
        return _bundled_validator()

    def enum_values(self, schema_id: str, field: str) -> list[str]:
        """The enum values of a string field (for checking scripted values)."""
        prop = self._properties(schema_id).get(field, {})
        values = prop.get("enum", [])
        return [v for v in cast("list[object]", values) if isinstance(v, str)]

    def parse(self, body: object, schema_id: str) -> tuple[list[Violation], JsonObject]:
        """The violations of `body`, and the body with every field under its JSON name: the
        body itself when it has no proto (snake_case) names, as clients mostly send."""
        found = self._walk(body, schema_id)
        if found or not isinstance(body, dict):
            return found, {}
        valid = cast("JsonObject", body)
        return found, self.camelize(valid, schema_id) if found.proto_names else valid

    def _walk(self, body: object, schema_id: str) -> _Found:
        """Every violation of `body` against the schema `schema_id` (empty when valid)."""
        out = _Found()
        if not isinstance(body, dict):
            out.append(_unknown("", "", "Root element must be a message."))
            return out
        self._message(cast("JsonObject", body), schema_id, "", out)
        return out

    def camelize(self, body: JsonObject, schema_id: str) -> JsonObject:
        """A copy of a valid body with every field under its JSON (camelCase) name.

        The API accepts proto names too (the SDK sends e.g. `include_thoughts`); the emulator's
        own logic then reads one spelling. Free-form values (Struct, maps) are left alone.
        """
        props = self._properties(schema_id)
        out: JsonObject = {}
        for key, value in body.items():
            name = key if key in props else _camel(key)
            out[name] = self._camelize_value(value, props.get(name, {}))
        return out

    def _camelize_value(self, value: object, prop: JsonObject) -> object:
        items = prop.get("items")
        if isinstance(value, list):
            values = cast("list[object]", value)
            if not isinstance(items, dict):
                return values
            item_prop = cast("JsonObject", items)
            return [self._camelize_value(v, item_prop) for v in values]
        ref = prop.get("$ref")
        if isinstance(ref, str) and isinstance(value, dict):
            return self.camelize(cast("JsonObject", value), ref)
        extra = prop.get("additionalProperties")
        if isinstance(extra, dict) and isinstance(value, dict):
            extra_prop = cast("JsonObject", extra)
            mapping = cast("JsonObject", value)
            return {k: self._camelize_value(v, extra_prop) for k, v in mapping.items()}
        return value

    def _properties(self, schema_id: str) -> dict[str, JsonObject]:
        props = self._schemas.get(schema_id, {}).get("properties", {})
        return cast("dict[str, JsonObject]", props)

    def _message(self, obj: JsonObject, schema_id: str, path: str, out: _Found) -> None:
        props = self._properties(schema_id)
        for key, value in obj.items():
            if key in props:
                name = key
            else:
                name = _camel(key)
                out.proto_names = True
            prop = props.get(name)
            if prop is None:
                out.append(_unknown(path, key, "Cannot find field."))
            elif value is not None:  # proto3 JSON: null means "not set"
                self._field(value, prop, _join(path, snake(name)), (schema_id, name, path), out)

    def _field(
        self,
        value: object,
        prop: JsonObject,
        path: str,
        owner: tuple[str, str, str],
        out: _Found,
    ) -> None:
        items = prop.get("items")
        if prop.get("type") == "array" and isinstance(items, dict):
            if not isinstance(value, list):
                out.append(_invalid(path, self._type_name(cast("JsonObject", items), owner), value))
                return
            for i, item in enumerate(cast("list[object]", value)):
                self._value(item, cast("JsonObject", items), f"{path}[{i}]", owner, out)
            return
        if isinstance(value, list):
            out.append(
                _unknown(owner[2], owner[1], "Proto field is not repeating, cannot start list.")
            )
            return
        self._value(value, prop, path, owner, out)

    def _value(
        self,
        value: object,
        prop: JsonObject,
        path: str,
        owner: tuple[str, str, str],
        out: _Found,
    ) -> None:
        ref = prop.get("$ref")
        extra = prop.get("additionalProperties")
        if isinstance(ref, str):
            if isinstance(value, dict):
                self._message(cast("JsonObject", value), ref, path, out)
            else:
                out.append(_invalid(path, f"{_PROTO_PACKAGE}.{ref}", value))
        elif isinstance(extra, dict):
            self._map(value, cast("JsonObject", extra), path, owner, out)
        elif prop.get("type") not in (None, "any", "object") and not self._scalar_ok(value, prop):
            out.append(self._scalar_violation(value, prop, path, owner))

    def _map(
        self,
        value: object,
        extra: JsonObject,
        path: str,
        owner: tuple[str, str, str],
        out: _Found,
    ) -> None:
        if not isinstance(value, dict):
            out.append(_invalid(path, "TYPE_MESSAGE", value))
            return
        if extra.get("type") == "any":
            return
        for i, item in enumerate(cast("JsonObject", value).values()):
            self._value(item, extra, f"{path}[{i}].value", owner, out)

    def _type_name(self, prop: JsonObject, owner: tuple[str, str, str]) -> str:
        ref = prop.get("$ref")
        if isinstance(ref, str):
            return f"{_PROTO_PACKAGE}.{ref}"
        if "enum" in prop:
            schema_id, field, _ = owner
            fallback = f"{schema_id}.{field[:1].upper()}{field[1:]}"
            return f"{_PROTO_PACKAGE}.{_ENUM_NAMES.get((schema_id, field), fallback)}"
        kind, fmt = prop.get("type"), prop.get("format")
        names = {
            ("string", "byte"): "TYPE_BYTES",
            ("string", "int64"): "TYPE_INT64",
            ("integer", "int32"): "TYPE_INT32",
            ("number", "float"): "TYPE_FLOAT",
            ("number", "double"): "TYPE_DOUBLE",
            ("boolean", None): "TYPE_BOOL",
        }
        return names.get((str(kind), fmt if isinstance(fmt, str) else None), "TYPE_STRING")

    def _scalar_violation(
        self, value: object, prop: JsonObject, path: str, owner: tuple[str, str, str]
    ) -> Violation:
        type_name = self._type_name(prop, owner)
        if isinstance(value, dict):
            return _unknown(path, owner[1], "Starting an object on a scalar field")
        if type_name == "TYPE_BYTES" and isinstance(value, str):
            why = f"Base64 decoding failed for {_show(value)}"
            return Violation(path, f"Invalid value at '{path}' (TYPE_BYTES), {why}")
        return _invalid(path, type_name, value)

    def _scalar_ok(self, value: object, prop: JsonObject) -> bool:
        if isinstance(value, dict):
            return False
        enum = prop.get("enum")
        if isinstance(enum, list):
            values = cast("list[object]", enum)
            if isinstance(value, int) and not isinstance(value, bool):
                return 0 <= value < len(values)
            return value in values
        kind, fmt = prop.get("type"), prop.get("format")
        if kind == "boolean":
            return isinstance(value, bool)
        if kind == "integer":
            return _integer_ok(value, _INT32)
        if kind == "number":
            return _number_ok(value)
        if fmt == "int64":
            return _integer_ok(value, _INT64)
        if fmt == "byte":
            return isinstance(value, str) and _base64_ok(value)
        return isinstance(value, str)


def _integer_ok(value: object, bounds: tuple[int, int]) -> bool:
    """Proto3 JSON integers: a number with no fraction, or a decimal string, within range."""
    if isinstance(value, bool):
        return False
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    digits = isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()) is not None
    if not (whole or digits):
        return False
    return bounds[0] <= int(cast("int | float | str", value)) <= bounds[1]


def _number_ok(value: object) -> bool:
    """Proto3 JSON floats: a number, a numeric string, or NaN/Infinity/-Infinity."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if not isinstance(value, str):
        return False
    if value in ("NaN", "Infinity", "-Infinity"):
        return True
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _base64_ok(value: str) -> bool:
    """Proto3 JSON bytes: standard or URL-safe base64, padding optional."""
    text = value.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


# --- conversation rules the real API enforces beyond the schema ---------------------------

_USER_DATA = ("text", "inlineData", "fileData", "functionResponse")
_PART_DATA = (
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "toolCall",
    "toolResponse",
)


def objects(value: object) -> list[JsonObject]:
    """The JSON objects in a list (anything else is dropped; the schema check reports it)."""
    if not isinstance(value, list):
        return []
    return [cast("JsonObject", v) for v in cast("list[object]", value) if isinstance(v, dict)]


def parts_of(content: JsonObject) -> list[JsonObject]:
    """The parts of a Content."""
    return objects(content.get("parts"))


def conversation_error(contents: object, where: str, *, must_end_with_user: bool) -> str | None:
    """The API's 400 message for the first broken conversation rule, or None."""
    items = objects(contents)
    if not items:
        return f"* {where}.contents: contents is not specified\n"
    for i, content in enumerate(items):
        if content.get("role") not in (None, "", "user", "model"):
            return "Please use a valid role: user, model."
        parts = parts_of(content)
        if not parts:
            return f"* {where}.contents[{i}].parts: contents.parts must not be empty.\n"
        for j, part in enumerate(parts):
            problem = _part_error(part, f"contents[{i}].parts[{j}]", where)
            if problem:
                return problem
    if must_end_with_user and not _is_user_turn(items[-1]):
        if len(items) == 1:
            return (
                "Please ensure that single turn requests end with a user role or the role "
                "field is empty."
            )
        return "Please ensure that multiturn requests ends with a user role or a function response."
    return None


def _part_error(part: JsonObject, path: str, where: str) -> str | None:
    present = [name for name in _PART_DATA if name in part]
    if not present:
        return (
            f"* {where}.{path}.data: required oneof field 'data' must have one initialized field\n"
        )
    if len(present) > 1:
        return (
            f"Invalid JSON payload received. Unknown name \"{present[1]}\" at '{path}': "
            f"Oneof field 'data' is already set. Cannot set '{present[1]}'"
        )
    return None


def _is_user_turn(content: JsonObject) -> bool:
    if content.get("role") not in (None, "", "user"):
        return False
    return all(any(k in part for k in _USER_DATA) for part in parts_of(content))


def bundled_json(name: str) -> JsonObject:
    """A JSON file shipped in gemini_chat.emulator.data."""
    ref = resources.files("gemini_chat.emulator.data") / name
    return cast("JsonObject", json.loads(ref.read_text(encoding="utf-8")))


@functools.cache
def _bundled_validator() -> SchemaValidator:
    # Parsing the 300 kB discovery document costs ~80 ms: once per process is enough.
    return SchemaValidator(bundled_json("generativelanguage-v1beta-discovery.json"))
