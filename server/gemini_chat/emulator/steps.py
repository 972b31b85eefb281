"""Script steps: the generate/predict steps and the upload steps, checked when queued.

A typo in a test's step fails loudly at ``script()`` time, not as a puzzling reply later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import cast

from .errors import STATUS_NAMES
from .schema import JsonObject

_NUMBER = (int, float)
_STEP_TYPES: dict[str, tuple[type, ...]] = {
    "reply": (str,),
    "chunks": (list,),
    "thought": (str,),
    "finishReason": (str,),
    "status": (int,),
    "message": (str,),
    "retryDelay": (str,),
    "quota": (str,),
    "delay": _NUMBER,
    "chunkDelay": _NUMBER,
    "cutAfter": (int,),
    "errorAfter": (int,),
    "block": (str,),
    "invalidJson": (bool,),
    "dropConnection": (bool,),
    "functionCall": (dict,),
    "image": (dict,),
    "imageBlock": (str,),
    "imagesFiltered": (int,),
}
_UPLOAD_STEP_TYPES: dict[str, tuple[type, ...]] = {
    "processing": _NUMBER,
    "fail": (str,),
    "status": (int,),
    "message": (str,),
    "retryDelay": (str,),
    "quota": (str,),
    "granularity": (int,),
    "failChunk": (int,),
    "chunkStatus": (int,),
    "chunkDelay": _NUMBER,
}


def check_step(
    step: object, finish_reasons: Sequence[str], block_reasons: Sequence[str]
) -> JsonObject:
    """Validate one generate/predict step; return a copy."""
    checked = _typed(step, _STEP_TYPES)
    problem = _step_value_problem(checked, finish_reasons, block_reasons)
    if problem:
        raise ValueError(f"bad script step {checked!r}: {problem}")
    return checked


def check_upload_step(step: object) -> JsonObject:
    """Validate one upload step; return a copy."""
    checked = _typed(step, _UPLOAD_STEP_TYPES)
    checks = [
        *_error_checks(checked),
        (checked.get("chunkStatus", 503) in STATUS_NAMES, "chunkStatus must be an error status"),
        (cast("int", checked.get("granularity", 1)) >= 1, "granularity must be positive"),
        ("chunkStatus" not in checked or "failChunk" in checked, "chunkStatus needs failChunk"),
    ]
    for key in ("processing", "failChunk", "chunkDelay"):
        checks.append((cast("float", checked.get(key, 0)) >= 0, f"{key} must not be negative"))
    problem = next((message for ok, message in checks if not ok), None)
    if problem:
        raise ValueError(f"bad upload step {checked!r}: {problem}")
    return checked


def _typed(step: object, types_of: dict[str, tuple[type, ...]]) -> JsonObject:
    """A copy of the step whose every key is known and of the right JSON type."""
    if not isinstance(step, dict):
        raise ValueError(f"a script step must be an object, not {type(step).__name__}")
    checked = dict(cast("JsonObject", step))
    for key, value in checked.items():
        types = types_of.get(key)
        if types is None:
            raise ValueError(f"unknown script step key {key!r} (known: {', '.join(types_of)})")
        if isinstance(value, bool) != (bool in types) or not isinstance(value, types):
            raise ValueError(f"script step {key!r} has the wrong type: {value!r}")
    return checked


def _error_checks(step: JsonObject) -> list[tuple[object, str]]:
    """Checks of the keys that shape a scripted error."""
    return [
        (step.get("status", 500) in STATUS_NAMES, f"status must be one of {sorted(STATUS_NAMES)}"),
        (step.get("quota", "minute") in ("minute", "day"), 'quota must be "minute" or "day"'),
        (re.fullmatch(r"\d+(\.\d+)?s", str(step.get("retryDelay", "1s"))), "retryDelay like '2s'"),
    ]


def _step_value_problem(
    step: JsonObject, finish_reasons: Sequence[str], block_reasons: Sequence[str]
) -> str | None:
    chunks = step.get("chunks", [])
    checks = [
        *_error_checks(step),
        (all(isinstance(c, str) for c in cast("list[object]", chunks)), "chunks must be strings"),
        (step.get("finishReason", "STOP") in finish_reasons, "unknown finishReason"),
        (step.get("block", "SAFETY") in block_reasons, "unknown block reason"),
        ("errorAfter" not in step or "status" in step, "errorAfter needs a status"),
        (step.get("imageBlock", "prompt") in ("prompt", "output"), 'imageBlock: "prompt"|"output"'),
    ]
    for key in ("delay", "chunkDelay", "cutAfter", "errorAfter", "imagesFiltered"):
        checks.append((cast("float", step.get(key, 0)) >= 0, f"{key} must not be negative"))
    call = cast("JsonObject", step.get("functionCall", {"name": "f"}))
    checks.append((isinstance(call.get("name"), str), "functionCall needs a name"))
    checks.append((isinstance(call.get("args", {}), dict), "functionCall args must be an object"))
    image = cast("JsonObject", step.get("image", {"mimeType": "a", "data": ""}))
    checks.append(
        (isinstance(image.get("mimeType"), str) and isinstance(image.get("data"), str), "image")
    )
    return next((message for ok, message in checks if not ok), None)
