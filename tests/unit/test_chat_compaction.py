"""Compaction decisions in a turn: the threshold, one retry on a too-long refusal, a refused
replace when another writer moved the conversation on."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemini_chat.compaction import ACKNOWLEDGEMENT, SUMMARY_REQUEST
from gemini_chat.gemini.errors import BadRequestError, UpstreamUnavailableError

from .core_fakes import MODEL, Events, Rig, contents_text, error, response, sse, text, then

TOO_LONG = "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
SUMMARY = "The user is writing a sorting library in Rust."


@pytest.fixture
def rig(rig: Rig) -> Rig:
    """A chat service whose folder already has three long exchanges (about 700 tokens)."""
    for n in (1, 2, 3):
        rig.store.commit(
            rig.ws.key,
            [
                ("user", {"role": "user", "parts": [{"text": f"q{n} " + "x" * 400}]}, {}),
                ("model", {"role": "model", "parts": [{"text": f"a{n} " + "y" * 400}]}, {}),
            ],
        )
    return rig


def limit(rig: Rig, tokens: int | None) -> None:
    """The model's inputTokenLimit as Gemini describes it (None: the model is not found)."""
    if tokens is None:
        rig.gemini.model_info = error(404, "NOT_FOUND", f"models/{MODEL} is not found")
    else:
        rig.gemini.model_info = {"name": f"models/{MODEL}", "inputTokenLimit": tokens}


async def test_past_the_threshold_the_oldest_exchange_is_summarised(rig: Rig) -> None:
    """Past compactThreshold of the input limit: the old exchange goes to a summary request,
    the turn sends summary + the two kept exchanges + the message, and reports it."""
    limit(rig, 500)
    rig.gemini.script(text(SUMMARY), sse(response({"text": "Answer."})))
    events = Events(streaming=True)
    result = await rig.turn("next", events)
    summary_body, turn_body = rig.gemini.bodies
    assert contents_text(summary_body) == [
        "user: q1 " + "x" * 400,
        "model: a1 " + "y" * 400,
        f"user: {SUMMARY_REQUEST}",
    ]
    sent = contents_text(turn_body)
    assert SUMMARY in sent[0]
    assert sent[1] == f"model: {ACKNOWLEDGEMENT}"
    assert [s[:7] for s in sent[2:]] == ["user: q", "model: ", "user: q", "model: ", "user: n"]
    assert result["compacted"] == {"turns": 1}
    assert events.of("compacted") == [{"turns": 1}]
    shown = (await rig.service.history(rig.ws))["turns"]
    assert shown[0]["compacted"] == 1
    assert [t["role"] for t in shown] == ["user", "model"] * 4


async def test_below_the_threshold_or_with_it_off_nothing_is_summarised(rig: Rig) -> None:
    """A large limit, or compactThreshold 0, sends the history as it is."""
    limit(rig, 1_000_000)
    rig.gemini.script(text("a"), text("b"))
    await rig.turn("one")
    rig.configure(compact_threshold=0)
    limit(rig, 10)
    result = await rig.turn("two")
    assert "compacted" not in result
    assert [len(b["contents"]) for b in rig.gemini.bodies] == [7, 9]  # type: ignore[arg-type]


async def test_the_input_limit_is_asked_once(rig: Rig) -> None:
    """The model's limit is asked before the first turn only; an unknown one is remembered."""
    limit(rig, None)
    rig.gemini.script(text("a"), text("b"))
    await rig.turn("one")
    await rig.turn("two")
    gets = [r for r in rig.gemini.requests if r.method == "GET"]
    assert len(gets) == 1


async def test_a_too_long_refusal_is_compacted_and_sent_once_more(rig: Rig) -> None:
    """With the limit unknown, Gemini's too-long 400 leads to a summary and one more try."""
    limit(rig, None)
    rig.gemini.script(error(400, "INVALID_ARGUMENT", TOO_LONG), text(SUMMARY), text("Fits now."))
    result = await rig.turn("next")
    assert result["compacted"] == {"turns": 1}
    assert result["text"] == "Fits now."
    refused, summary, retried = rig.gemini.bodies
    assert len(refused["contents"]) == 7  # type: ignore[arg-type]
    assert contents_text(summary)[-1] == f"user: {SUMMARY_REQUEST}"
    assert SUMMARY in contents_text(retried)[0]


async def test_a_second_too_long_refusal_is_final(rig: Rig) -> None:
    """Compacted once and still too long: the 400 is the turn's error; the turn is not stored."""
    limit(rig, None)
    too_long = error(400, "INVALID_ARGUMENT", TOO_LONG)
    rig.gemini.script(too_long, text(SUMMARY), error(400, "INVALID_ARGUMENT", TOO_LONG))
    with pytest.raises(BadRequestError):
        await rig.turn("next")
    assert len(rig.gemini.bodies) == 3
    assert all("next" not in t for _, t in rig.stored())


async def test_other_refusals_are_not_compacted(rig: Rig) -> None:
    """A 400 for another reason is the turn's error at once; nothing is summarised."""
    limit(rig, None)
    rig.gemini.script(error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."))
    with pytest.raises(BadRequestError):
        await rig.turn("next")
    assert len(rig.gemini.bodies) == 1
    assert len(rig.stored()) == 6


async def test_a_too_long_first_message_is_not_compacted(tmp_path: Path) -> None:
    """Without history there is nothing to summarise: the refusal is the turn's error."""
    async with Rig(tmp_path) as rig:
        rig.gemini.script(error(400, "INVALID_ARGUMENT", TOO_LONG))
        with pytest.raises(BadRequestError):
            await rig.turn("huge")
        assert len(rig.gemini.bodies) == 1


async def test_replace_is_refused_when_another_writer_moved_on(rig: Rig) -> None:
    """Another daemon commits while the summary is written: the summary is dropped, the turn
    sends the fresh history (with the other exchange) and reports no compaction."""

    def other_daemon() -> None:
        user = {"role": "user", "parts": [{"text": "from elsewhere"}]}
        model = {"role": "model", "parts": [{"text": "noted"}]}
        rig.store.commit(rig.ws.key, [("user", user, {}), ("model", model, {})])

    limit(rig, 500)
    rig.gemini.script(then(other_daemon, text(SUMMARY)), sse(response({"text": "Answer."})))
    events = Events(streaming=True)
    result = await rig.turn("next", events)
    assert "compacted" not in result
    assert events.of("compacted") == []
    sent = contents_text(rig.gemini.bodies[1])
    assert sent[-3:] == ["user: from elsewhere", "model: noted", "user: next"]
    assert len(sent) == 9
    assert result["turn"] == 5


async def test_an_empty_summary_fails_the_turn(rig: Rig) -> None:
    """When Gemini returns no summary, the turn fails saying so; the history is unchanged."""
    limit(rig, 500)
    rig.gemini.script(text("   "))
    with pytest.raises(UpstreamUnavailableError, match="could not summarise"):
        await rig.turn("next")
    assert len(rig.stored()) == 6
