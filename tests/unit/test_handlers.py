"""The gemini/* handlers over a small fake daemon edge: params, progress, error mapping."""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat import __version__, handlers, protocol
from gemini_chat.gemini.errors import RateLimitedError, StorageError
from gemini_chat.protocol import FieldError

from .core_fakes import (
    KEY,
    MODEL,
    FakeDaemon,
    Gate,
    Rig,
    call,
    contents_text,
    error,
    full_disk,
    refused,
    sse,
    text,
    then,
    with_app,
)


@pytest.fixture
def rig(rig: Rig) -> Rig:
    """A chat service whose folder holds src/app.py."""
    return with_app(rig)


async def test_a_streamed_chat_reports_progress_and_work(rig: Rig, daemon: FakeDaemon) -> None:
    """With both tokens: work begins naming the model, pieces go to the partial result token,
    work ends; the result is the turn's."""
    rig.gemini.script(
        sse({"candidates": [{"content": {"parts": [{"text": "Hi!"}]}, "finishReason": "STOP"}]})
    )
    params = {"message": "hello", "partialResultToken": "p1", "workDoneToken": 7}
    result = await call(daemon, protocol.CHAT, params)
    assert isinstance(result, dict)
    assert result["text"] == "Hi!"
    assert daemon.sent == [
        ("begin", 7, f"Gemini ({MODEL})"),
        ("progress", "p1", {"text": "Hi!"}),
        ("end", 7, None),
    ]


async def test_a_chat_without_tokens_is_not_streamed(rig: Rig, daemon: FakeDaemon) -> None:
    """No partialResultToken: generateContent, and nothing is sent besides the result."""
    rig.gemini.script(text("Plain."))
    result = await call(daemon, protocol.CHAT, {"message": "hello", "workspace": rig.ws.uri})
    assert result["text"] == "Plain."  # type: ignore[index]
    assert rig.gemini.generated[0].url.path.endswith(":generateContent")
    assert daemon.sent == []


async def test_retries_are_work_reports(rig: Rig, daemon: FakeDaemon) -> None:
    """A retried call is reported on the work done token with the wait."""
    rig.configure(max_retries=1)
    rig.gemini.script(error(503, "UNAVAILABLE", "overloaded"), text("ok"))
    await call(daemon, protocol.CHAT, {"message": "hello", "workDoneToken": "w"})
    reports = [s for s in daemon.sent if s[0] == "report"]
    assert reports == [("report", "w", "Gemini answered 503: retrying in 1 s")]


async def test_an_open_documents_unsaved_text_is_attached(rig: Rig, daemon: FakeDaemon) -> None:
    """A file attachment of a document the editor has open sends the editor's text."""
    uri = (rig.ws.root / "src" / "app.py").as_uri()
    daemon.texts[uri] = "def add(a, b):\n    return a - b  # unsaved\n"
    rig.gemini.script(text("A bug."))
    await call(daemon, protocol.CHAT, {"message": "review", "attachments": [{"uri": uri}]})
    attached = contents_text(rig.gemini.bodies[0])[0]
    assert "return a - b  # unsaved" in attached
    assert "src/app.py" in attached


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (["not", "an", "object"], "params"),
        ({"message": 5}, "message"),
        ({"message": "  "}, "message"),
        ({"message": "x", "surprise": 1}, "surprise"),
        ({"message": "x", "workspace": "file:///nowhere/else"}, "workspace"),
        ({"message": "x", "attachments": [{"uri": "file:///etc/passwd"}]}, "attachments.0.uri"),
        (
            {"message": "x", "attachments": [{"mimeType": "image/png", "data": "%%"}]},
            "attachments.0.data",
        ),
        ({"message": "x", "generationConfig": {"topK": "many"}}, "generationConfig"),
    ],
)
async def test_bad_params_are_invalid_params_naming_the_field(
    rig: Rig, daemon: FakeDaemon, params: object, field: str
) -> None:
    """Each kind of bad input is -32602 with data.field, before anything is sent upstream."""
    err = await refused(daemon, protocol.CHAT, params)
    assert err.code == protocol.INVALID_PARAMS == -32602
    assert err.data == {"reason": "invalidParams", "field": field}
    assert rig.gemini.generated == []


async def test_gemini_errors_are_request_failed_with_the_reason(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """An upstream failure is -32803 with data.reason and the HTTP status; work still ends."""
    rig.gemini.script(error(500, "INTERNAL", "An internal error has occurred."))
    err = await refused(daemon, protocol.CHAT, {"message": "x", "workDoneToken": 1})
    assert err.code == protocol.REQUEST_FAILED == -32803
    assert isinstance(err.data, dict)
    assert (err.data["reason"], err.data["httpStatus"]) == ("upstreamUnavailable", 500)
    assert daemon.sent[-1] == ("end", 1, None)


async def test_storage_errors_carry_the_unsaved_reply(rig: Rig, daemon: FakeDaemon) -> None:
    """A store that refuses the commit is -32803 reason storage, with the reply in data.text."""
    refuse_writes = partial(full_disk, rig.store.path, "INSERT ON entries")
    rig.gemini.script(then(refuse_writes, text("Keep me.")))
    err = await refused(daemon, protocol.CHAT, {"message": "x"})
    assert err.code == protocol.REQUEST_FAILED
    assert err.data == {"reason": "storage", "text": "Keep me."}
    assert "disk is full" in err.message


async def test_mapped_turns_each_exception_into_its_error(caplog: pytest.LogCaptureFixture) -> None:
    """FieldError -> -32602 with the field; GeminiError -> -32803 with its data; a
    JsonRpcException passes; anything else -> -32603 without a traceback; cancellation passes."""

    def raising(exc: BaseException) -> handlers.Handler:
        async def handler(ls: handlers.Daemon, raw: object) -> object:
            raise exc

        return handlers.mapped(handler)

    async def error_of(exc: BaseException) -> JsonRpcException:
        with pytest.raises(JsonRpcException) as info:
            await raising(exc)(FakeDaemon.__new__(FakeDaemon), None)
        return info.value

    field = await error_of(FieldError("Invalid model", "model"))
    assert (field.code, field.data, field.message) == (
        -32602,
        {"reason": "invalidParams", "field": "model"},
        "Invalid model",
    )
    limited = await error_of(RateLimitedError("Slow down", http_status=429, retry_after=3.0))
    assert limited.code == -32803
    assert limited.data == {"reason": "rateLimited", "httpStatus": 429, "retryAfterSeconds": 3.0}
    storage = await error_of(StorageError("Cannot save", text="the reply"))
    assert storage.data == {"reason": "storage", "text": "the reply"}
    own = JsonRpcException("as is", -32001)
    assert await error_of(own) is own
    with caplog.at_level(logging.ERROR, logger="gemini_chat.handlers"):
        internal = await error_of(KeyError("a_private_detail"))
    assert internal.code == protocol.INTERNAL_ERROR == -32603
    assert internal.message == "Internal error in gemini-chat-server; see its log"
    assert internal.data is None
    assert internal.__cause__ is None and internal.__suppress_context__
    assert "Traceback" in caplog.text  # the log keeps it, the client does not get it
    with pytest.raises(asyncio.CancelledError):
        await raising(asyncio.CancelledError())(FakeDaemon.__new__(FakeDaemon), None)


async def test_cancellation_propagates(rig: Rig, daemon: FakeDaemon) -> None:
    """A cancelled chat request is cancelled (no JSON-RPC error of ours); work ends; nothing
    is stored."""
    gate = Gate(text("too late"))
    rig.gemini.script(gate)
    task = asyncio.create_task(call(daemon, protocol.CHAT, {"message": "x", "workDoneToken": 2}))
    await asyncio.wait_for(gate.arrived.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert daemon.sent[-1] == ("end", 2, None)
    assert rig.stored() == []


async def test_history_reset_and_set_model(rig: Rig, daemon: FakeDaemon) -> None:
    """history shows the turns and the next model; setModel changes it; reset clears."""
    rig.gemini.script(text("Hello."))
    await call(daemon, protocol.CHAT, {"message": "hi"})
    shown = await call(daemon, protocol.HISTORY, {})
    assert [t["text"] for t in shown["turns"]] == ["hi", "Hello."]  # type: ignore[index]
    assert shown["model"] == MODEL  # type: ignore[index]
    chosen = await call(daemon, protocol.SET_MODEL, {"model": "gemini-2.5-pro"})
    assert chosen == {"workspace": rig.ws.uri, "model": "gemini-2.5-pro"}
    assert (await call(daemon, protocol.HISTORY, None))["model"] == "gemini-2.5-pro"  # type: ignore[index]
    assert await call(daemon, protocol.RESET, {"workspace": rig.ws.uri}) == {
        "workspace": rig.ws.uri,
        "cleared": 2,
    }
    err = await refused(daemon, protocol.SET_MODEL, {})
    assert err.data == {"reason": "invalidParams", "field": "model"}


async def test_models_and_count_tokens(rig: Rig, daemon: FakeDaemon) -> None:
    """models lists generateContent models and takes no params; countTokens counts the draft
    with its attachments."""
    listed = await call(daemon, protocol.MODELS, None)
    assert MODEL in [m["name"] for m in listed["models"]]  # type: ignore[index]
    err = await refused(daemon, protocol.MODELS, {"filter": "x"})
    assert err.data == {"reason": "invalidParams", "field": "filter"}
    rig.gemini.model_info = {"name": f"models/{MODEL}", "inputTokenLimit": 1000}
    rig.gemini.token_count = 12
    attachment = {"name": "notes", "text": "some notes"}
    counted = await call(
        daemon, protocol.COUNT_TOKENS, {"message": "q", "attachments": [attachment]}
    )
    assert counted == {"totalTokens": 12, "inputTokenLimit": 1000, "model": MODEL}
    sent = json.loads(rig.gemini.requests[-2].content)["generateContentRequest"]
    assert "some notes" in contents_text(sent)[0]


async def test_status_says_what_the_daemon_runs_with_never_the_key(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """status: version, model, base URL, whether a key is set, data dir, folders, context file."""
    (rig.ws.root / "GEMINI.md").write_text("Use tabs.")
    status = await call(daemon, protocol.STATUS, {})
    assert status == {
        "version": __version__,
        "model": MODEL,
        "baseUrl": rig.settings.base_url,
        "apiKeySet": True,
        "dataDir": str(rig.settings.data_dir),
        "workspaces": [rig.ws.uri],
        "contextFiles": [str(rig.ws.root / "GEMINI.md")],
    }
    assert KEY not in json.dumps(status)
    (rig.ws.root / "GEMINI.md").unlink()
    assert (await call(daemon, protocol.STATUS, None))["contextFiles"] == []  # type: ignore[index]
