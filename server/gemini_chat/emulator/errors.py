"""The emulator's error bodies, in the real API's words and shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from .schema import JsonObject, Violation

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


class RequestError(Exception):
    """A request the real API would reject: carries the HTTP status and the error body."""

    def __init__(
        self, status: int, body: JsonObject, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


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


def named_error(status: int, name: str, message: str) -> RequestError:
    """An error whose status name is not the usual one for its code (FAILED_PRECONDITION...)."""
    body = error_body(status, message)
    cast("JsonObject", body["error"])["status"] = name
    return RequestError(status, body)


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


def token_limit_error(count: int, limit: int) -> RequestError:
    """The 400 for a prompt over the model's input token limit (no details, as the API sends)."""
    return plain_error(
        400,
        f"The input token count ({count}) exceeds the maximum number of tokens allowed ({limit}).",
    )


def scripted_error(step: JsonObject, model: str) -> RequestError:
    """The error a step with "status" asks for."""
    status = cast("int", step["status"])
    message = step.get("message")
    if status == 429 and message is None:
        delay = step.get("retryDelay")
        return quota_error(model, str(step.get("quota", "minute")), cast("str | None", delay))
    return plain_error(status, cast("str | None", message))
