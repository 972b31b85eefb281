"""Reading Gemini's error bodies: ``{"error": {code, message, status, details}}``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import cast

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)s\s*$")


@dataclass
class ErrorBody:
    """What we use of ``{"error": {code, message, status, details}}``."""

    message: str = ""
    status: str | None = None
    reason: str | None = None
    retry_after: float | None = None
    quota_ids: list[str] = field(default_factory=list[str])


def parse_error_body(body: bytes) -> ErrorBody:
    """Parse an error body, tolerating a ``[...]`` wrapper and non-JSON (an HTML proxy page)."""
    try:
        data: object = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ErrorBody(message=body.decode("utf-8", "replace").strip())
    if isinstance(data, list):
        items = cast(list[object], data)
        data = items[0] if items else None
    error = _get(data, "error")
    if _as_dict(error) is None:
        return ErrorBody(message=body.decode("utf-8", "replace").strip())
    parsed = ErrorBody(message=_str(_get(error, "message")), status=_opt_str(_get(error, "status")))
    details = _get(error, "details")
    for detail in cast(list[object], details) if isinstance(details, list) else []:
        _read_detail(detail, parsed)
    return parsed


def _read_detail(detail: object, parsed: ErrorBody) -> None:
    """Take ErrorInfo.reason, RetryInfo.retryDelay and QuotaFailure quotaIds from one detail."""
    kind = _str(_get(detail, "@type")).rsplit(".", 1)[-1]
    if kind == "ErrorInfo":
        parsed.reason = _opt_str(_get(detail, "reason"))
    elif kind == "RetryInfo":
        parsed.retry_after = parse_duration(_get(detail, "retryDelay"))
    elif kind == "QuotaFailure":
        violations = _get(detail, "violations")
        for violation in cast(list[object], violations) if isinstance(violations, list) else []:
            quota_id = _opt_str(_get(violation, "quotaId"))
            if quota_id:
                parsed.quota_ids.append(quota_id)


def parse_duration(value: object) -> float | None:
    """A google.protobuf.Duration JSON string (``"26s"``, ``"1.5s"``) in seconds, else None."""
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value)
    return float(match.group(1)) if match else None


def _as_dict(obj: object) -> dict[str, object] | None:
    """``obj`` as a JSON object, or None when it is not one."""
    return cast(dict[str, object], obj) if isinstance(obj, dict) else None


def _get(obj: object, key: str) -> object:
    """``obj[key]`` when obj is a JSON object, else None."""
    as_dict = _as_dict(obj)
    return as_dict.get(key) if as_dict is not None else None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
