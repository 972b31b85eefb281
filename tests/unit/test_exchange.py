"""The tool loop and the reply's accumulation across rounds, through ChatService turns."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from .core_fakes import (
    APP,
    Events,
    Rig,
    contents_text,
    function_call,
    ok,
    response,
    sse,
    text,
    usage,
    with_app,
)

# A 1x1 PNG, as an image model returns it in inlineData.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def rig(rig: Rig) -> Rig:
    """A chat service whose workspace holds src/app.py."""
    return with_app(rig)


def answers(body: dict[str, object]) -> list[dict[str, object]]:
    """The functionResponse objects of a request's last content."""
    last = body["contents"][-1]  # type: ignore[index]
    return [p["functionResponse"] for p in last["parts"]]  # type: ignore[index]


async def test_a_function_call_runs_and_its_answer_goes_back_with_the_id(rig: Rig) -> None:
    """The model's call runs in the workspace; the next request holds the model's parts verbatim
    (signature and id) and a functionResponse with the same id and the file's text."""
    asked = response(
        {"text": "Let me look.", "thought": True},
        function_call("read_file", {"path": "src/app.py"}, "call-1", signature="c2lnLTE="),
        finish="STOP",
    )
    rig.gemini.script(ok(asked), text("It adds two numbers."))
    events = Events(streaming=False)
    result = await rig.turn("What does app.py do?", events)
    assert result["text"] == "It adds two numbers."
    assert result["toolCalls"] == [{"name": "read_file", "summary": "read src/app.py"}]
    assert events.of("tool") == result["toolCalls"]
    second = rig.gemini.bodies[1]
    assert second["contents"][1] == {
        "role": "model",
        "parts": asked["candidates"][0]["content"]["parts"],
    }  # type: ignore[index]
    (answer,) = answers(second)
    assert (answer["name"], answer["id"]) == ("read_file", "call-1")
    assert answer["response"]["content"] == APP.rstrip("\n")  # type: ignore[index]
    assert answer["response"]["path"] == "src/app.py"  # type: ignore[index]


async def test_tool_rounds_are_stored_hidden_and_sent_again(rig: Rig) -> None:
    """The call and its answer are stored as hidden entries of the same turn: history shows two
    turns, and the next turn's request carries all four contents."""
    rig.gemini.script(
        ok(response(function_call("list_files", {"glob": "**/*.py"}))), text("One file.")
    )
    rig.gemini.script(text("Bye."))
    await rig.turn("Which files?")
    entries = rig.store.history(rig.ws.key)
    assert [(e.role, bool(e.meta.get("hidden")), e.turn) for e in entries] == [
        ("user", False, 1),
        ("model", True, 1),
        ("user", True, 1),
        ("model", False, 1),
    ]
    shown = (await rig.service.history(rig.ws))["turns"]
    assert [t["role"] for t in shown] == ["user", "model"]
    assert shown[1]["toolCalls"] == [
        {"name": "list_files", "summary": "listed 1 files matching **/*.py"}
    ]
    await rig.turn("Thanks")
    contents = rig.gemini.bodies[2]["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user", "model", "user"]  # type: ignore[index]
    assert "functionCall" in contents[1]["parts"][0]  # type: ignore[index]


async def test_a_call_without_an_id_is_answered_without_one(rig: Rig) -> None:
    """Older models send calls without ids; the answer then carries none either."""
    rig.gemini.script(ok(response(function_call("read_file", {"path": "src/app.py"}))), text("ok"))
    await rig.turn("read it")
    (answer,) = answers(rig.gemini.bodies[1])
    assert "id" not in answer


async def test_calls_past_the_cap_are_refused_and_tools_are_switched_off(rig: Rig) -> None:
    """With maxToolCalls 1, the second call of a round is answered with an error, and the next
    request sets functionCallingConfig NONE so the model answers with what it has."""
    rig.configure(max_tool_calls=1)
    two = response(
        function_call("read_file", {"path": "src/app.py"}, "a"),
        function_call("search_text", {"query": "add"}, "b"),
    )
    rig.gemini.script(ok(two), text("Answer."))
    result = await rig.turn("look")
    first, second = rig.gemini.bodies
    assert "toolConfig" not in first
    assert second["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}
    ran, skipped = answers(second)
    assert "content" in ran["response"]  # type: ignore[operator]
    assert "limit reached" in str(skipped["response"]["error"])  # type: ignore[index]
    assert skipped["id"] == "b"
    assert result["toolCalls"] == [
        {"name": "read_file", "summary": "read src/app.py"},
        {"name": "search_text", "summary": "search_text skipped: tool call limit reached"},
    ]


async def test_the_cap_counts_calls_across_rounds(rig: Rig) -> None:
    """maxToolCalls 2 with one call per round: the third request forbids calls, not the second;
    with maxToolCalls 0 even the first does."""
    rig.configure(max_tool_calls=2)
    one = ok(response(function_call("read_file", {"path": "src/app.py"})))
    rig.gemini.script(one, ok(response(function_call("list_files", {"glob": "*"}))), text("Done."))
    await rig.turn("go")
    assert ["toolConfig" in b for b in rig.gemini.bodies] == [False, False, True]
    rig.configure(max_tool_calls=0)
    rig.gemini.script(text("No tools."))
    await rig.turn("again")
    assert rig.gemini.bodies[3]["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}


async def test_tool_failures_are_told_to_the_model(rig: Rig) -> None:
    """An unknown tool and a path outside the folder become `error` answers, not turn failures."""
    asked = response(
        function_call("delete_everything", {}),
        function_call("read_file", {"path": "../../etc/passwd"}),
    )
    rig.gemini.script(ok(asked), text("I cannot."))
    result = await rig.turn("do bad things")
    unknown, outside = answers(rig.gemini.bodies[1])
    assert unknown["response"] == {"error": "unknown tool delete_everything"}
    assert "outside the workspace" in str(outside["response"]["error"])  # type: ignore[index]
    summaries = [str(t["summary"]) for t in result["toolCalls"]]  # type: ignore[union-attr]
    assert summaries[0] == "unknown tool delete_everything"
    assert summaries[1].startswith("read_file failed:")


async def test_rounds_accumulate_into_one_reply(rig: Rig) -> None:
    """Text of all rounds joins; thoughts of separate rounds are separate paragraphs; usage is
    summed over the rounds; the stored reply holds the last round's parts."""
    round1 = response(
        {"text": "Need the file.", "thought": True},
        {"text": "Reading. "},
        function_call("read_file", {"path": "src/app.py"}),
        usage=usage(10, 5, 7),
    )
    round2 = response(
        {"text": "It is simple.", "thought": True},
        {"text": "It adds."},
        usage=usage(30, 6, 2),
    )
    rig.gemini.script(ok(round1), ok(round2))
    result = await rig.turn("explain")
    assert result["text"] == "Reading. It adds."
    assert result["thoughts"] == "Need the file.\n\nIt is simple."
    assert {k: v for k, v in result["usage"].items() if k != "cost"} == {  # type: ignore[union-attr]
        "promptTokens": 40,
        "replyTokens": 11,
        "thoughtsTokens": 9,
        "totalTokens": 60,
        "cachedTokens": 0,
    }
    reply = rig.store.history(rig.ws.key)[-1]
    assert reply.content["parts"] == round2["candidates"][0]["content"]["parts"]  # type: ignore[index]
    assert reply.meta["thoughts"] == result["thoughts"]


async def test_streamed_tool_rounds_report_text_then_the_tool(rig: Rig) -> None:
    """Streaming a tool round: its text piece, then the tool line, then the answer's text."""
    rig.gemini.script(
        sse(response({"text": "Checking. "}, function_call("read_file", {"path": "src/app.py"}))),
        sse(response({"text": "Done."})),
    )
    events = Events(streaming=True)
    result = await rig.turn("check", events)
    assert [next(iter(v)) for v in events.values] == ["text", "tool", "text"]
    assert result["text"] == "Checking. Done."
    assert contents_text(rig.gemini.bodies[1])[1] == "model: Checking. "


async def test_reply_images_are_saved_and_kept(rig: Rig) -> None:
    """An image part of the reply is written under dataDir/images and reported in the result,
    the progress and history; other inline data is not saved; the stored content keeps it."""
    data = base64.b64encode(PNG).decode()
    parts = [
        {"text": "Here is a dot."},
        {"inlineData": {"mimeType": "image/png", "data": data}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0xLjQK"}},
    ]
    rig.gemini.script(sse(response(*parts)))
    events = Events(streaming=True)
    result = await rig.turn("draw a dot", events)
    (image,) = result["images"]  # type: ignore[misc]
    path = Path(image["path"])
    assert image["mimeType"] == "image/png"
    assert path.parent == rig.settings.data_dir / "images"
    assert path.suffix == ".png"
    assert await asyncio.to_thread(path.read_bytes) == PNG
    assert events.of("image") == [image]
    shown = (await rig.service.history(rig.ws))["turns"][1]
    assert shown["images"] == [image]
    assert rig.store.history(rig.ws.key)[1].content["parts"] == parts
