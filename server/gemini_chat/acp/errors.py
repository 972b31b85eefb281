"""Our exceptions as ACP's JSON-RPC errors, mapped once at the edge, with the native messages."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from acp import RequestError

from .. import logs, protocol
from ..gemini.errors import ApiKeyInvalidError, ApiKeyMissingError, GeminiError

log = logging.getLogger(__name__)
AUTH_REQUIRED = -32000
"""ACP's auth_required: the client may offer the user its authentication methods."""
NO_KEY = (
    "No Gemini API key: set GEMINI_API_KEY in the environment the editor starts "
    "gemini-chat-server --acp with (or apiKey in its --settings file)"
)
P = ParamSpec("P")
R = TypeVar("R")


def auth_required(message: str = NO_KEY) -> RequestError:
    """The spec's auth-required error, saying where the key comes from."""
    return RequestError(AUTH_REQUIRED, message, {"reason": "apiKeyMissing"})


def invalid_params(message: str, field: str) -> RequestError:
    """-32602 naming the field, as the native protocol answers it."""
    return RequestError(protocol.INVALID_PARAMS, message, protocol.invalid_params_data(field))


def invalid_request(message: str) -> RequestError:
    """-32600: a request that cannot run now (a second prompt in one session, say)."""
    return RequestError(protocol.INVALID_REQUEST, message)


def to_request_error(exc: Exception) -> RequestError:
    """The JSON-RPC error for one of our exceptions; unknown ones are internal errors."""
    if isinstance(exc, RequestError):
        return exc
    if isinstance(exc, protocol.FieldError):
        return invalid_params(str(exc), exc.field)
    if isinstance(exc, ApiKeyMissingError | ApiKeyInvalidError):
        return RequestError(AUTH_REQUIRED, logs.redact(exc.message), exc.to_data())
    if isinstance(exc, GeminiError):
        return RequestError(protocol.REQUEST_FAILED, logs.redact(exc.message), exc.to_data())
    log.error("Unexpected failure", exc_info=exc)
    return RequestError(
        protocol.INTERNAL_ERROR, "Internal error in gemini-chat-server; see its log"
    )


def mapped(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """A handler whose failures leave as JSON-RPC errors; cancellation passes through."""

    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except asyncio.CancelledError:
            raise
        except GeminiError as exc:
            log.info("%s failed: %s (%s)", fn.__name__, exc.reason, exc.message)
            raise to_request_error(exc) from None
        except Exception as exc:
            raise to_request_error(exc) from None

    return run
