"""`initialize` answered before pygls loads.

Importing pygls costs 200-300 ms (lsprotocol builds about a thousand attrs classes at import),
and an editor waits for the `initialize` answer before it shows the daemon as running. The
answer does not depend on pygls: the daemon's capabilities are fixed, and of the client's
capabilities only the position encodings and the will-save flags change it. So a plain
`initialize` is answered here, from JSON, before anything heavy is imported; pygls then runs
the same request once it has loaded (its answer dropped), so its state is what it would be.
tests/unit/test_early.py checks the answer against the one pygls builds.

Only params of the shapes LSP gives them are answered early; anything else goes to pygls as
before, which answers it (InvalidParams, if it cannot read them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from . import __version__, envelope, protocol
from .framing import Refusal

SERVER_NAME = "gemini-chat-server"
ENCODINGS = ("utf-8", "utf-16", "utf-32")
"""The position encodings pygls supports; it picks the client's first one of these."""
TRACES = ("off", "messages", "verbose")


@dataclass(frozen=True)
class Early:
    """An `initialize` answered early: the frame written, and the request for pygls."""

    frame: bytes
    message: dict[str, Any]


def answer(body: bytes) -> Early | None:
    """The answer frame to a first message that is a plain `initialize`, else None."""
    message = envelope.parse(body)
    if isinstance(message, Refusal) or envelope.check(message) is not None:
        return None
    params = message.get("params")
    if message.get("method") != "initialize" or "id" not in message or not _plain(params):
        return None
    reply = {"jsonrpc": "2.0", "id": message["id"], "result": result(cast(dict[str, Any], params))}
    data = json.dumps(reply).encode()
    return Early(b"Content-Length: %d\r\n\r\n%s" % (len(data), data), message)


def result(params: dict[str, Any]) -> dict[str, Any]:
    """The InitializeResult pygls builds for this daemon, given these (plain) params."""
    caps = _dict(params.get("capabilities"))
    sync: dict[str, Any] = {"openClose": True, "change": 1, "save": False}
    client_sync = _dict(_dict(caps.get("textDocument")).get("synchronization"))
    for flag in ("willSave", "willSaveWaitUntil"):
        if client_sync.get(flag) is not None:
            sync[flag] = False  # the client can; the daemon does not register the feature
    return {
        "capabilities": {
            "positionEncoding": _encoding(caps),
            "textDocumentSync": sync,
            "executeCommandProvider": {"commands": []},
            "workspace": {
                "workspaceFolders": {"supported": True, "changeNotifications": True},
                "fileOperations": {},
            },
            "experimental": {"geminiChat": capability()},
        },
        "serverInfo": {"name": SERVER_NAME, "version": __version__},
    }


def capability() -> dict[str, object]:
    """The `geminiChat` experimental capability."""
    return {
        "protocolVersion": protocol.PROTOCOL_VERSION,
        "methods": protocol.METHODS,
        "notifications": protocol.NOTIFICATIONS,
        "streaming": True,
    }


def essentials(params: object) -> dict[str, Any]:
    """What the daemon itself reads of `initialize` params, for pygls when it cannot read the
    rest (a capability of a shape it refuses): the folders, options, process and encodings."""
    p = _dict(params)
    keep = ("processId", "rootUri", "rootPath", "workspaceFolders", "initializationOptions")
    out: dict[str, Any] = {k: p[k] for k in keep if k in p}
    encodings = _dict(_dict(p.get("capabilities")).get("general")).get("positionEncodings")
    out["capabilities"] = {"general": {"positionEncodings": encodings}} if encodings else {}
    return out


def _encoding(caps: dict[str, Any]) -> str:
    offered = cast(list[str], _dict(caps.get("general")).get("positionEncodings") or [])
    return next((e for e in offered if e in ENCODINGS), "utf-16")


def _dict(value: object) -> dict[str, Any]:
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _is(value: object, *types: type) -> bool:
    """`value` is None or of one of `types` (a bool is not an int)."""
    if value is None:
        return True
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _plain(params: object) -> bool:
    """Whether `initialize` params have the shapes LSP gives the fields this answer reads or
    pygls structures (a client that sends anything else is answered by pygls)."""
    if not isinstance(params, dict):
        return False
    p = cast(dict[str, Any], params)
    caps = p.get("capabilities")
    client = p.get("clientInfo")
    return (
        isinstance(caps, dict)
        and _is(p.get("processId"), int)
        and _is(p.get("rootUri"), str)
        and _is(p.get("rootPath"), str)
        and _is(p.get("locale"), str)
        and _is(p.get("workDoneToken"), int, str)
        and (p.get("trace") is None or p.get("trace") in TRACES)
        and (client is None or _client_info(client))
        and _folders(p.get("workspaceFolders"))
        and _capabilities(cast(dict[str, Any], caps))
    )


def _client_info(value: object) -> bool:
    info = _dict(value)
    return (
        isinstance(value, dict)
        and isinstance(info.get("name"), str)
        and _is(info.get("version"), str)
    )


def _folders(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, list):
        return False
    items = cast(list[object], value)
    return all(
        isinstance(f, dict)
        and isinstance(cast(dict[str, Any], f).get("uri"), str)
        and isinstance(cast(dict[str, Any], f).get("name"), str)
        for f in items
    )


def _capabilities(caps: dict[str, Any]) -> bool:
    """The parts of the client's capabilities the answer reads have their LSP shapes."""
    general, text = caps.get("general"), caps.get("textDocument")
    if not _is(general, dict) or not _is(text, dict):
        return False
    encodings = _dict(general).get("positionEncodings")
    if encodings is not None and not (
        isinstance(encodings, list)
        and all(isinstance(e, str) for e in cast(list[object], encodings))
    ):
        return False
    sync = _dict(text).get("synchronization")
    if not _is(sync, dict):
        return False
    return all(_is(_dict(sync).get(flag), bool) for flag in ("willSave", "willSaveWaitUntil"))
