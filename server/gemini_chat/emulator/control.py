"""The emulator's control endpoints (/_emulator/...): scripts, files, records, events, limits.

They need no key: tests in other processes (Node, Neovim) drive the emulator through them.
"""

from __future__ import annotations

from typing import cast

from .errors import error_body
from .schema import JsonObject
from .state import EmulatorState


def control(
    state: EmulatorState, method: str, path: str, body: object | None, query: dict[str, str]
) -> tuple[int, JsonObject]:
    """Answer one control request: (HTTP status, JSON body)."""
    try:
        result = _dispatch(state, method, path, body, query)
    except ValueError as err:
        return 400, error_body(400, str(err))
    if result is None:
        return 404, error_body(404, "Unknown emulator control endpoint.")
    return 200, result


def _dispatch(
    state: EmulatorState, method: str, path: str, body: object | None, query: dict[str, str]
) -> JsonObject | None:
    """The answer to a control request, None for an unknown one; ValueError for a bad body."""
    match method, path:
        case "POST", "/_emulator/script":
            return {"queued": state.add_steps(_steps_from(body))}
        case "POST", "/_emulator/uploads":
            return {"queued": state.files.add_steps(_steps_from(body))}
        case "GET", "/_emulator/files":
            return {"files": list[object](state.files.snapshot())}
        case "POST", "/_emulator/files/expire":
            name = cast("JsonObject", body).get("name") if isinstance(body, dict) else None
            if not isinstance(name, str) or not state.files.expire(name):
                raise ValueError(f'expected {{"name": "files/..."}} naming a file held: {name!r}')
            return {"expired": name}
        case "GET", "/_emulator/requests":
            found = state.requests(query.get("path_contains", ""))
            return {"requests": [r.shown() for r in found]}
        case "GET", "/_emulator/events":
            return {"events": state.events()}
        case "POST", "/_emulator/reset":
            state.clear()
            return {}
        case "POST", "/_emulator/limits":
            state.set_input_token_limit(_limit_from(body))
            return {"inputTokenLimit": state.input_token_limit}
        case "GET", "/_emulator/limits":
            return {"inputTokenLimit": state.input_token_limit}
        case _:
            return None


def _steps_from(body: object | None) -> list[object]:
    """The steps in {"steps": [...]}; ValueError for any other shape."""
    steps = cast("JsonObject", body).get("steps") if isinstance(body, dict) else None
    if not isinstance(steps, list):
        raise ValueError('expected {"steps": [...]}')
    return cast("list[object]", steps)


def _limit_from(body: object | None) -> int | None:
    """The limit in {"inputTokenLimit": N | null}; ValueError for any other shape."""
    if not isinstance(body, dict) or set(cast("JsonObject", body)) != {"inputTokenLimit"}:
        raise ValueError('expected {"inputTokenLimit": N} or {"inputTokenLimit": null}')
    value = cast("JsonObject", body)["inputTokenLimit"]
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"inputTokenLimit must be a positive integer or null, not {value!r}")
    return value
