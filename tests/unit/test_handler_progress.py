"""What the gemini/* handlers tell the editor beyond the result: work-done reports while a turn
waits for another editor's or counts down a retry, JSON mode's check, the last rate limit."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest

from gemini_chat import handlers, protocol
from gemini_chat.gemini.client import CallOptions, GeminiClient
from gemini_chat.gemini.errors import RateLimitedError
from gemini_chat.store import ConversationStore
from polling import until

from .core_fakes import KEY, MODEL, FakeDaemon, Gate, Rig, call, text
from .gemini_fakes import BASE, EXAMPLES, rate_limited


async def nothing() -> None:
    """An on_wait for a hold that is not expected to wait."""


async def test_a_turn_waiting_for_another_editors_says_so(rig: Rig, daemon: FakeDaemon) -> None:
    """While another daemon holds the folder, the turn's work reports "waiting for another
    editor's turn", and it goes on once the folder is free."""
    other = ConversationStore(rig.settings.data_dir, origin="other")
    rig.gemini.script(text("done"))
    holding = other.locks.hold(rig.ws.key, nothing)
    await holding.__aenter__()
    task = asyncio.create_task(
        handlers.HANDLERS[protocol.CHAT](daemon, {"message": "q", "workDoneToken": "w"})
    )
    await until(
        lambda: ("report", "w", "waiting for another editor's turn") in daemon.sent, "the report"
    )
    assert not task.done() and rig.gemini.generated == []
    await holding.__aexit__(None, None, None)
    result = await asyncio.wait_for(task, 5)
    assert result["text"] == "done"  # type: ignore[index]
    assert [kind for kind, _, _ in daemon.sent] == ["begin", "report", "end"]
    other.close()


def other_tasks() -> list[asyncio.Task[object]]:
    """The loop's tasks other than the test's own and the chat's, not yet finished."""
    return [
        t
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task() and not t.done() and t.get_name() != "chat"
    ]


async def retrying_chat(
    rig: Rig, daemon: FakeDaemon, delay: str, reply: str
) -> tuple[asyncio.Task[object], Gate]:
    """A chat (task "chat") whose first call is a 429 asking to wait `delay` and whose retry
    is held at the returned gate (to answer `reply`); returns once the retry is pending."""
    rig.configure(max_retries=1)
    gate = Gate(text(reply))
    rig.gemini.script(rate_limited(delay), gate)
    params = {"message": "q", "workDoneToken": "w"}
    task = asyncio.create_task(handlers.HANDLERS[protocol.CHAT](daemon, params), name="chat")
    await asyncio.wait_for(gate.arrived.wait(), 5)
    return task, gate


async def test_a_retry_wait_counts_down_while_it_lasts(rig: Rig, daemon: FakeDaemon) -> None:
    """A 429 asking for 1.01 s: work reports "rate limited: retrying in 2 s", then "in 1 s"
    (the count-down's next second) while the retried call is pending; the reply ends the
    count-down and the work."""
    task, gate = await retrying_chat(rig, daemon, "1.010s", "ok")
    await until(lambda: len(daemon.sent) == 3, "the count-down's report")
    assert daemon.sent[1:] == [
        ("report", "w", "rate limited: retrying in 2 s"),
        ("report", "w", "rate limited: retrying in 1 s"),
    ]
    gate.released.set()
    await asyncio.wait_for(task, 5)
    assert daemon.sent[-1] == ("end", "w", None)
    assert other_tasks() == []


async def test_a_cancel_during_a_retry_wait_stops_the_count_down(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """A chat cancelled while the retried call is pending (30 s asked): the work ends and no
    count-down is left running."""
    task, _ = await retrying_chat(rig, daemon, "30s", "never")
    assert len(other_tasks()) == 1  # the count-down
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: other_tasks() == [], "the count-down ended")
    assert daemon.sent[-1] == ("end", "w", None)


async def test_without_a_work_token_a_retry_is_not_reported(rig: Rig, daemon: FakeDaemon) -> None:
    """No workDoneToken: a retried turn sends nothing and starts no count-down."""
    rig.configure(max_retries=1)
    rig.gemini.script(rate_limited("5s"), text("ok"))
    result = await handlers.HANDLERS[protocol.CHAT](daemon, {"message": "q"})
    assert result["text"] == "ok"  # type: ignore[index]
    assert daemon.sent == [] and other_tasks() == []


async def test_json_mode_asks_for_json_and_checks_the_reply(rig: Rig, daemon: FakeDaemon) -> None:
    """`json` with a schema: the request asks for application/json with the schema, and the
    result's `json` says whether the reply fits (with the parsed value and the mismatches)."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    rig.gemini.script(text('{"n": "three"}'))
    result = await handlers.HANDLERS[protocol.CHAT](
        daemon, {"message": "count", "json": {"schema": schema}}
    )
    config = rig.gemini.bodies[0]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert result["json"]["valid"] is False  # type: ignore[index]
    assert result["json"]["value"] == {"n": "three"}  # type: ignore[index]
    assert result["json"]["errors"][0].startswith("$.n")  # type: ignore[index]


async def test_status_carries_the_last_rate_limit(rig: Rig, daemon: FakeDaemon) -> None:
    """After a call met Gemini's published 429 (per-minute quota, retry in 26 s), with the
    daemon's limits hearing the client's errors as Core wires them, gemini/status has
    `rateLimit`: the model, the quota, the wait and when it lifts."""
    assert "rateLimit" not in await call(daemon, protocol.STATUS, {})
    quota = httpx.Response(
        429, content=(EXAMPLES / "error-429-resource-exhausted-retryinfo.json").read_bytes()
    )
    client = GeminiClient(
        transport=httpx.MockTransport(lambda request: quota), on_error=daemon.core.limits.seen
    )
    with pytest.raises(RateLimitedError):
        await client.get_model(MODEL, CallOptions(api_key=KEY, base_url=BASE, max_retries=0))
    await client.aclose()
    limited = (await call(daemon, protocol.STATUS, {}))["rateLimit"]
    assert isinstance(limited, dict)
    assert (limited["model"], limited["quota"], limited["retryAfterSeconds"]) == (
        MODEL, "minute", 26.0,
    )  # fmt: skip
    at = datetime.fromisoformat(limited["at"].replace("Z", "+00:00"))
    assert limited["resetsAt"] == (at + timedelta(seconds=26)).isoformat().replace("+00:00", "Z")
