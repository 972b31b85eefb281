"""ChatService turns against a scripted Gemini: order, commits, streaming, models, counting."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from functools import partial
from pathlib import Path

import httpx
import pytest

from gemini_chat import live
from gemini_chat.attachments import Prepared, Upload
from gemini_chat.chat import TurnParamsError
from gemini_chat.gemini.errors import (
    BlockedError,
    GeminiError,
    NetworkError,
    StorageError,
    UpstreamUnavailableError,
)
from gemini_chat.library import Library
from gemini_chat.store import ConversationStore
from gemini_chat.turn import Turn
from polling import until

from .core_fakes import (
    MODEL,
    Events,
    Gate,
    Rig,
    contents_text,
    error,
    full_disk,
    ok,
    published_chunks,
    response,
    sse,
    text,
    then,
    usage,
    workspace,
)
from .gemini_fakes import EXAMPLES

COOKBOOK = (EXAMPLES / "generate-content-response-cookbook-2024.json").read_bytes()
BLOCKED_CHUNK = (EXAMPLES / "prompt-blocked-prohibited-content-sse-chunk.json").read_text().strip()


async def test_a_turn_sends_the_message_and_commits_the_reply(rig: Rig) -> None:
    """The published reply comes back as the result; both contents are stored as turn 1."""
    rig.gemini.script(httpx.Response(200, content=COOKBOOK))
    result = await rig.turn("Sort a list in Python")
    assert result["workspace"] == rig.ws.uri
    assert result["turn"] == 1
    assert str(result["text"]).startswith("```python\n# Example list to be sorted")
    assert (result["finishReason"], result["model"]) == ("STOP", MODEL)
    (sent,) = rig.gemini.requests
    assert sent.url.path == f"/v1beta/models/{MODEL}:generateContent"
    body = rig.gemini.bodies[0]
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Sort a list in Python"}]}]
    assert "helpful coding assistant" in json.dumps(body["systemInstruction"])
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "read_file"
    assert rig.stored() == [("user", "Sort a list in Python"), ("model", result["text"])]
    shown = await rig.service.history(rig.ws)
    assert [(t["role"], t["text"]) for t in shown["turns"]] == rig.stored()
    assert shown["turns"][1]["finishReason"] == "STOP"


async def test_the_next_turn_carries_the_whole_history_verbatim(rig: Rig) -> None:
    """Turn 2's request holds turn 1's user and model contents, the model's parts unchanged."""
    signed = {"text": "Four.", "thoughtSignature": "c2lnbmF0dXJlLTE="}
    rig.gemini.script(ok(response(signed)), text("Five."))
    await rig.turn("2+2?")
    result = await rig.turn("and 2+3?")
    assert result["turn"] == 2
    assert rig.gemini.bodies[1]["contents"] == [
        {"role": "user", "parts": [{"text": "2+2?"}]},
        {"role": "model", "parts": [signed]},
        {"role": "user", "parts": [{"text": "and 2+3?"}]},
    ]


async def test_turns_of_one_workspace_keep_the_order_they_arrived_in(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first turn's context file read is slow (its thread hop), the second's is not
    (answered from the cache the first filled): the first turn still goes first, so turn 1 is
    "first" and the second request carries its exchange."""
    real = rig.service.context.read
    reading = threading.Event()

    def slow_once(root: Path, name: str) -> object:
        monkeypatch.setattr(rig.service.context, "read", real)
        reading.set()
        time.sleep(0.3)
        return real(root, name)

    monkeypatch.setattr(rig.service.context, "read", slow_once)
    rig.gemini.script(text("First answer."), text("Second answer."))
    first = asyncio.create_task(rig.turn("first"))
    await until(reading.is_set, "the first turn reading the context file")
    second = asyncio.create_task(rig.turn("second"))
    results = await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert [r["turn"] for r in results] == [1, 2]
    assert contents_text(rig.gemini.bodies[1])[:2] == ["user: first", "model: First answer."]


async def test_turns_of_one_workspace_run_one_after_the_other(rig: Rig) -> None:
    """A turn sent while another is in flight waits for it: its request carries the first
    exchange, and the service never has two requests of one folder upstream at once."""
    gate = Gate(text("First answer."))
    rig.gemini.script(gate, text("Second answer."))
    first = asyncio.create_task(rig.turn("first"))
    await asyncio.wait_for(gate.arrived.wait(), 5)
    events = Events()
    second = asyncio.create_task(rig.turn("second", events))
    await asyncio.wait_for(events.began.wait(), 5)
    gate.released.set()
    results = await asyncio.wait_for(asyncio.gather(first, second), 5)
    assert [r["turn"] for r in results] == [1, 2]
    assert contents_text(rig.gemini.bodies[1]) == [
        "user: first",
        "model: First answer.",
        "user: second",
    ]
    assert rig.gemini.most_in_flight == 1


async def test_turns_of_different_workspaces_run_at_once(rig: Rig, tmp_path: Path) -> None:
    """A folder's turn completes while another folder's turn is still waiting for Gemini."""
    other = workspace(tmp_path / "other")
    gate = Gate(text("Slow answer."))
    rig.gemini.script(gate, text("Quick answer."))
    slow = asyncio.create_task(rig.turn("slow"))
    await asyncio.wait_for(gate.arrived.wait(), 5)
    quick = await asyncio.wait_for(rig.service.chat(Turn(other, "quick"), Events()), 5)
    assert not slow.done()
    assert (quick["turn"], quick["text"]) == (1, "Quick answer.")
    gate.released.set()
    assert (await asyncio.wait_for(slow, 5))["turn"] == 1
    assert rig.stored(other) == [("user", "quick"), ("model", "Quick answer.")]
    assert rig.stored() == [("user", "slow"), ("model", "Slow answer.")]


FAILURES = {
    "upstream error": (error(500, "INTERNAL", "An internal error has occurred."), False),
    "no finishReason": (ok(response({"text": "half"}, finish=None)), False),
    "empty reply": (ok(response(finish="STOP")), False),
    "blocked prompt": (httpx.Response(200, content=BLOCKED_CHUNK), False),
    "cut stream": (sse(published_chunks()[0]), True),
    "blocked stream": (sse(BLOCKED_CHUNK), True),
}
RAISED: dict[str, type[GeminiError]] = {
    "upstream error": UpstreamUnavailableError,
    "no finishReason": UpstreamUnavailableError,
    "empty reply": UpstreamUnavailableError,
    "blocked prompt": BlockedError,
    "cut stream": NetworkError,
    "blocked stream": BlockedError,
}


@pytest.mark.parametrize("case", list(FAILURES))
async def test_a_reply_that_did_not_finish_is_not_committed(rig: Rig, case: str) -> None:
    """An error, a reply without finishReason, an empty or blocked reply, a cut stream: the
    turn raises and the stored conversation is the one before it; the next turn is turn 2."""
    reply, streaming = FAILURES[case]
    rig.gemini.script(text("Kept."), reply, text("Next."))
    await rig.turn("kept question")
    before = rig.stored()
    with pytest.raises(RAISED[case]):
        await rig.turn("lost question", Events(streaming=streaming))
    assert rig.stored() == before
    assert (await rig.turn("next question"))["turn"] == 2
    assert contents_text(rig.gemini.bodies[-1])[:2] == ["user: kept question", "model: Kept."]


async def test_a_cancelled_turn_is_not_committed(rig: Rig) -> None:
    """Cancelling a turn while Gemini answers leaves the conversation as it was."""
    gate = Gate(text("Never seen."))
    rig.gemini.script(gate)
    task = asyncio.create_task(rig.turn("cancel me"))
    await asyncio.wait_for(gate.arrived.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert rig.stored() == []


async def test_no_journal_write_follows_the_stored_turn(rig: Rig) -> None:
    """A streamed reply's last pieces arrive within one journal flush interval, so a write is
    still pending when the turn commits: it is dropped with the turn, so the change feed ends
    with the stored turn and no stray "progress" row follows it (other editors would mirror it
    under the next turn's number)."""
    rig.gemini.script(sse(*published_chunks()))
    await rig.turn("Say hi in five languages", Events(streaming=True))
    await asyncio.sleep(3 * live.FLUSH)  # what must not happen would happen in this window
    reasons = [c.reason for c in rig.store.journal.changes_since(0)]
    assert reasons[-1] == "turn" and reasons.count("progress") >= 1


async def test_streamed_pieces_join_to_the_result(rig: Rig) -> None:
    """Streaming: each published chunk's text arrives as progress; together they are the result's
    text; the usage is the last chunk's."""
    rig.gemini.script(sse(*published_chunks()))
    events = Events(streaming=True)
    result = await rig.turn("Say hi in five languages", events)
    assert rig.gemini.requests[0].url.path.endswith(f"{MODEL}:streamGenerateContent")
    pieces = events.of("text")
    assert len(pieces) == 2
    assert "".join(map(str, pieces)) == result["text"]
    assert str(result["text"]).endswith("**Italian:** Ciao")
    assert {k: v for k, v in result["usage"].items() if k != "cost"} == {  # type: ignore[union-attr]
        "promptTokens": 5,
        "replyTokens": 44,
        "thoughtsTokens": 186,
        "totalTokens": 235,
        "cachedTokens": 0,
    }
    assert events.models == [MODEL]
    assert rig.stored()[1] == ("model", result["text"])


async def test_streamed_thoughts_are_progress_of_their_own(rig: Rig) -> None:
    """Thought parts stream as {"thought"} pieces and end in `thoughts`, not in `text`; a
    usage-only chunk after the last candidate gives the usage."""
    rig.gemini.script(
        sse(
            response({"text": "Considering sorts. ", "thought": True}, finish=None),
            response({"text": "Use sorted()."}),
            {"usageMetadata": usage(4, 3, 9), "modelVersion": MODEL},
        )
    )
    events = Events(streaming=True)
    result = await rig.turn("How to sort?", events)
    assert events.of("thought") == ["Considering sorts. "]
    assert events.of("text") == ["Use sorted()."]
    assert (result["text"], result["thoughts"]) == ("Use sorted().", "Considering sorts. ")
    assert {k: v for k, v in result["usage"].items() if k != "cost"} == {  # type: ignore[union-attr]
        "promptTokens": 4,
        "replyTokens": 3,
        "thoughtsTokens": 9,
        "totalTokens": 16,
        "cachedTokens": 0,
    }


async def test_a_retried_call_is_reported_and_the_turn_completes(rig: Rig) -> None:
    """With one retry allowed, a 503 is retried; the turn's events hear of the wait."""
    rig.configure(max_retries=1)
    rig.gemini.script(error(503, "UNAVAILABLE", "The model is overloaded."), text("Done."))
    events = Events()
    result = await rig.turn("hello", events)
    assert result["text"] == "Done."
    assert len(events.notices) == 1
    assert len(rig.harness.sleeps) == 1


async def test_a_store_that_refuses_the_commit_hands_the_reply_back(rig: Rig) -> None:
    """When SQLite refuses the write, the turn fails with StorageError carrying the reply."""
    refuse_writes = partial(full_disk, rig.store.path, "INSERT ON entries")
    rig.gemini.script(then(refuse_writes, text("The unsaved answer.")))
    with pytest.raises(StorageError) as info:
        await rig.turn("question")
    assert info.value.to_data()["text"] == "The unsaved answer."
    assert "disk is full" in info.value.message
    assert rig.stored() == []


async def test_the_model_override_the_sticky_choice_and_the_setting(rig: Rig) -> None:
    """A turn's model wins over the folder's choice, which wins over the setting; history and
    set_model report the model the next turn uses."""
    rig.gemini.script(text("a"), text("b"), text("c"))
    assert (await rig.service.set_model(rig.ws, "gemini-2.5-pro"))["model"] == "gemini-2.5-pro"
    assert (await rig.turn("one"))["model"] == "gemini-2.5-pro"
    assert (await rig.turn("two", model="gemini-2.0-flash"))["model"] == "gemini-2.0-flash"
    assert (await rig.service.history(rig.ws))["model"] == "gemini-2.5-pro"
    assert (await rig.service.set_model(rig.ws, None))["model"] == MODEL
    await rig.turn("three")
    paths = [r.url.path.rsplit("/", 1)[1] for r in rig.gemini.generated]
    assert paths == [
        "gemini-2.5-pro:generateContent",
        "gemini-2.0-flash:generateContent",
        f"{MODEL}:generateContent",
    ]


async def test_generation_config_of_a_turn_goes_over_the_setting(rig: Rig) -> None:
    """Per-turn generationConfig keys override the setting's; the rest of it is kept."""
    rig.configure(generation_config={"temperature": 0.2, "maxOutputTokens": 100})
    rig.gemini.script(text("x"))
    await rig.turn("q", generation_config={"temperature": 1.5})
    assert rig.gemini.bodies[0]["generationConfig"] == {"temperature": 1.5, "maxOutputTokens": 100}


async def test_an_invalid_generation_config_names_the_field(rig: Rig) -> None:
    """A per-turn generationConfig Gemini would refuse fails before any request."""
    with pytest.raises(TurnParamsError) as info:
        await rig.turn("q", generation_config={"temperature": "hot"})
    assert info.value.field == "generationConfig"
    assert "temperature" in str(info.value)
    assert rig.gemini.requests == []


async def test_request_fields_follow_the_settings(rig: Rig) -> None:
    """No system instruction when it and the context file are empty; safety settings sent when
    set; no tools when tools are off."""
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]
    rig.configure(system_instruction="", safety_settings=safety, tools=False)
    rig.gemini.script(text("x"))
    await rig.turn("q")
    body = rig.gemini.bodies[0]
    assert set(body) == {"contents", "generationConfig", "safetySettings"}
    assert body["safetySettings"] == safety


async def test_reset_archives_and_the_next_turn_starts_afresh(rig: Rig) -> None:
    """reset empties the active conversation, counting the shown turns; the next turn starts
    afresh as turn 1 without the old contents."""
    rig.gemini.script(text("one"), text("two"))
    await rig.turn("first")
    reset = await rig.service.reset(rig.ws)
    assert reset == {"workspace": rig.ws.uri, "cleared": 2}
    assert (await rig.service.history(rig.ws))["turns"] == []
    assert (await rig.turn("again"))["turn"] == 1
    assert contents_text(rig.gemini.bodies[1]) == ["user: again"]


async def test_models_are_listed_for_generate_content_and_cached(rig: Rig) -> None:
    """Only models that support generateContent are listed; a second call within the cache time
    asks nothing; another API key asks again."""
    listed = await rig.models.list()
    names = [m["name"] for m in listed["models"]]
    assert MODEL in names
    assert "text-embedding-004" not in names
    assert listed["default"] == MODEL
    flash = next(m for m in listed["models"] if m["name"] == MODEL)
    assert flash["inputTokenLimit"] == 1048576
    assert flash["thinking"] is True
    await rig.models.list()
    assert len(rig.gemini.requests) == 1
    rig.configure(api_key="another-key-77aa")
    await rig.models.list()
    assert len(rig.gemini.requests) == 2


async def test_count_tokens_counts_history_draft_and_system(rig: Rig) -> None:
    """countTokens sends the whole next request (history, draft, system instruction) and
    reports the model's input limit."""
    rig.gemini.model_info = {"name": f"models/{MODEL}", "inputTokenLimit": 1000}
    rig.gemini.token_count = 42
    rig.gemini.script(text("Earlier answer."))
    await rig.turn("earlier")
    counted = await rig.service.count_tokens(Turn(rig.ws, "draft"))
    assert counted == {"totalTokens": 42, "inputTokenLimit": 1000, "model": MODEL}
    (req,) = [r for r in rig.gemini.requests if r.url.path.endswith(":countTokens")]
    inner = json.loads(req.content)["generateContentRequest"]
    assert inner["model"] == f"models/{MODEL}"
    assert contents_text(inner) == ["user: earlier", "model: Earlier answer.", "user: draft"]
    assert "systemInstruction" in inner


async def test_count_tokens_leaves_out_media_still_to_upload(rig: Rig, tmp_path: Path) -> None:
    """A draft whose video is too big to send inline (its part a placeholder until the turn
    uploads it) is counted without that part: the request names only the draft's text, never
    an empty part (which the API refuses)."""
    rig.gemini.model_info = {"name": f"models/{MODEL}", "inputTokenLimit": 1000}
    prepared = Prepared()
    prepared.add({}, "big.mp4", "video/mp4", "attachments.0")
    prepared.uploads.append(Upload(tmp_path / "big.mp4", "video/mp4", "big.mp4", 30_000_000, 0))
    await rig.service.count_tokens(Turn(rig.ws, "what happens?", prepared))
    (req,) = [r for r in rig.gemini.requests if r.url.path.endswith(":countTokens")]
    inner = json.loads(req.content)["generateContentRequest"]
    assert inner["contents"] == [{"role": "user", "parts": [{"text": "what happens?"}]}]


async def test_count_tokens_of_nothing_is_zero_without_counting(rig: Rig) -> None:
    """An empty conversation and an empty draft count 0 without a countTokens call."""
    rig.gemini.model_info = {"name": f"models/{MODEL}", "inputTokenLimit": 1000}
    counted = await rig.service.count_tokens(Turn(rig.ws, ""))
    assert counted["totalTokens"] == 0
    assert not any(r.url.path.endswith(":countTokens") for r in rig.gemini.requests)


async def test_changes_on_a_store_that_cannot_be_written_are_storage_errors(
    rig: Rig, tmp_path: Path
) -> None:
    """dataDir under a regular file (no lock files can be made either): reset, a new
    conversation and a turn each fail with the store's StorageError naming the setting, not
    an internal error, and nothing goes upstream."""
    (tmp_path / "blocker").write_text("not a folder")
    rig.store.close()
    rig.store = ConversationStore(tmp_path / "blocker" / "data")
    for attempt in (
        lambda: rig.service.reset(rig.ws),
        lambda: Library(rig.service).new_conversation(rig.ws),
        lambda: rig.turn("hello"),
    ):
        with pytest.raises(StorageError, match=r"Cannot save to the conversation store.*dataDir"):
            await attempt()
    assert rig.gemini.generated == []
