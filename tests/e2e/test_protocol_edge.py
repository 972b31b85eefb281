"""The JSON-RPC edge of the real daemon survives anything on its stdin: frames too deep, bad
headers, stray bytes, oversized bodies, misaddressed lifecycle messages. Every request gets
exactly one answer (checked by RawDaemon on every answer), none carries a traceback, and the
daemon keeps answering afterwards."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from conftest import EMULATOR_KEY
from gemini_chat import protocol as P
from gemini_chat.emulator import Emulator
from gemini_chat.framing import MAX_FRAME
from polling import wait_until

from .raw import RawDaemon, frame, raw_env, request


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """One emulator and one daemon for the tests that leave the daemon running."""
    emu = Emulator(api_keys=[EMULATOR_KEY])
    emu.start()
    root = tmp_path_factory.mktemp("edge")
    (root / "ws").mkdir()
    state: dict[str, object] = {"emulator": emu, "env": raw_env(emu, root), "ws": root / "ws"}
    yield state
    daemon = state.get("daemon")
    if isinstance(daemon, RawDaemon):
        daemon.close()
    emu.stop()


@pytest.fixture
def emulator(shared: dict[str, object]) -> Emulator:
    """The module's emulator, its script and recorded requests cleared."""
    emu = cast(Emulator, shared["emulator"])
    emu.clear()
    return emu


@pytest.fixture
def raw(shared: dict[str, object]) -> RawDaemon:
    """The module's daemon, initialized, with no unaddressed answers yet (a fresh one if a
    test before ended it)."""
    daemon = shared.get("daemon")
    if not isinstance(daemon, RawDaemon) or daemon.proc.poll() is not None:
        env, ws = cast(dict[str, str], shared["env"]), cast(Path, shared["ws"])
        daemon = shared["daemon"] = RawDaemon(env, ws)
    daemon.unaddressed.clear()
    return daemon


def assert_still_answers(d: RawDaemon) -> None:
    """A well-formed request right after still gets its result, and the process is alive."""
    assert "result" in d.call(P.STATUS, {}), "the daemon stopped answering"
    assert d.proc.poll() is None


def turn_count(emulator: Emulator) -> int:
    """How many turns reached the (billed) Gemini API."""
    return len(emulator.requests("enerateContent"))  # generateContent and the streaming one


DEEP = 1000


@pytest.mark.parametrize(
    "body",
    [b"[" * DEEP + b"]" * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP, b"[" * 100_000],
    ids=["arrays", "objects", "unclosed"],
)
def test_a_deep_frame_is_refused_and_the_turn_in_flight_survives(
    raw: RawDaemon, emulator: Emulator, body: bytes
) -> None:
    """A 2 KB frame of 1,000 nested arrays or objects (it used to SIGABRT the daemon) gets
    -32600 or -32700 with id null, while a turn already streaming completes normally."""
    emulator.script({"reply": "I lived through it.", "delay": 0.5})
    turn = raw.new_id()
    raw.write(request(turn, P.CHAT, {"message": "hello"}))
    wait_until(lambda: turn_count(emulator) == 1, "the turn to reach the emulator")
    raw.write(frame(body))
    assert raw.answer(turn)["result"]["text"] == "I lived through it."
    assert_still_answers(raw)
    assert [a["error"]["code"] for a in raw.unaddressed] == [P.INVALID_REQUEST]


@pytest.mark.parametrize("where", ["params", "workDoneToken", "partialResultToken"])
def test_deep_params_get_invalid_request_with_their_id(raw: RawDaemon, where: str) -> None:
    """Params nested 200 deep (past our cap, short of Python's recursion limit) are refused
    with -32600 and the request's own id before any validation or echo can recurse."""
    deep: object = "x"
    for _ in range(200):
        deep = [deep]
    params = {"message": "hi", where: deep} if where != "params" else {"message": deep}
    msg_id = raw.new_id()
    raw.write(request(msg_id, P.CHAT, params))
    assert raw.answer(msg_id)["error"]["code"] == P.INVALID_REQUEST
    assert_still_answers(raw)


BAD_HEADERS = {
    "letters": b"Content-Length: abc\r\n\r\n",
    "negative": b"Content-Length: -5\r\n\r\n",
    "huge number": b"Content-Length: 99999999999999999999999999\r\n\r\n",
    "no line break": b"\x00\xffstray bytes",
    "long line": b"x" * 100_000,
    "header without value": b"Content-Length:\r\n\r\n",
}


@pytest.mark.parametrize("junk", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_after_a_bad_header_the_next_frame_is_answered(raw: RawDaemon, junk: bytes) -> None:
    """A bad header or stray bytes (followed by a body, no padding) is answered -32700 (-32600
    for an absurd length) with id null, and the reader resynchronises on the very next
    Content-Length header."""
    lost = raw.new_id()  # the body after the bad header: skipped, the refusal answers it
    raw.write(junk + json.dumps({"jsonrpc": "2.0", "id": lost, "method": P.STATUS}).encode())
    assert "result" in raw.call(P.STATUS, {}), "the frame right after the junk was lost"
    too_large = junk.startswith(b"Content-Length: 9")
    expected = P.INVALID_REQUEST if too_large else P.PARSE_ERROR
    assert [a["error"]["code"] for a in raw.unaddressed] == [expected]
    assert lost not in raw.answers


def test_a_50_mb_frame_is_drained_unread_and_refused(raw: RawDaemon) -> None:
    """A 50 MB request (it used to be parsed: 20 s, ~1 GB) is over the frame cap: skipped in
    bounded chunks and answered -32600 with id null, quickly, without the daemon's memory
    growing by the body's size, and the next frame is read."""
    size, msg_id = 50_000_000, raw.new_id()
    assert size > MAX_FRAME
    head = b'{"jsonrpc": "2.0", "id": %d, "method": "%s", "params": {"message": "'
    head, tail = head % (msg_id, P.COUNT_TOKENS.encode()), b'"}}'
    started = time.monotonic()
    raw.write(b"Content-Length: %d\r\n\r\n" % size + head)
    filler, chunk = size - len(head) - len(tail), b"x" * (1 << 20)
    for _ in range(filler // len(chunk)):
        raw.write(chunk)
    raw.write(b"x" * (filler % len(chunk)) + tail)
    assert "result" in raw.call(P.STATUS, {})
    elapsed = time.monotonic() - started
    assert [a["error"]["code"] for a in raw.unaddressed] == [P.INVALID_REQUEST]
    assert msg_id not in raw.answers
    peak_mb = _peak_rss_mb(raw.proc.pid)
    print(f"50 MB frame refused in {elapsed * 1000:.0f} ms, daemon peak RSS {peak_mb:.0f} MB")
    assert peak_mb < 250, f"the daemon's peak RSS reached {peak_mb:.0f} MB"
    assert elapsed < 10


def _peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


def test_requests_after_shutdown_get_invalid_request(raw: RawDaemon) -> None:
    """After `shutdown`, every request (a second shutdown too) is answered -32600, as LSP says;
    `exit` still ends the process with status 0 (the next test gets a new daemon)."""
    assert raw.call("shutdown")["result"] is None
    for method, params in [(P.STATUS, {}), (P.CHAT, {"message": "hi"}), ("shutdown", None)]:
        assert raw.call(method, params)["error"]["code"] == P.INVALID_REQUEST, method
    raw.write(request(None, "exit"))
    assert raw.proc.wait(15) == 0


@pytest.mark.parametrize("method", ["initialized", "$/cancelRequest", "exit", "$/setTrace"])
def test_a_notification_sent_with_an_id_gets_invalid_request(raw: RawDaemon, method: str) -> None:
    """An LSP notification sent as a request is answered -32600 (nothing runs: even `exit`
    leaves the daemon up), instead of never being answered."""
    params = {"id": 1} if method == "$/cancelRequest" else {}
    answer = raw.call(method, params)
    assert answer["error"]["code"] == P.INVALID_REQUEST
    assert method in answer["error"]["message"]
    assert_still_answers(raw)


@pytest.mark.parametrize("bad_id", [{}, [], None, True, 1.5], ids=repr)
def test_a_bad_id_gets_invalid_request_without_a_traceback(raw: RawDaemon, bad_id: object) -> None:
    """Ids that are not an integer or a string get -32600 with id null and no `data` (pygls
    answered {} and [] with -32603 and its traceback)."""
    raw.write(frame({"jsonrpc": "2.0", "id": bad_id, "method": P.STATUS, "params": {}}))
    assert_still_answers(raw)
    assert [a["error"] for a in raw.unaddressed] == [
        {
            "code": P.INVALID_REQUEST,
            "message": "Invalid request: the id must be an integer or a string",
        }
    ]


def test_a_chat_notification_runs_no_turn(shared: dict[str, object], emulator: Emulator) -> None:
    """`gemini/chat` without an id, before and after `initialize`, sends nothing upstream
    (it used to run a real, billed turn) and is logged at warning."""
    env, ws = cast(dict[str, str], shared["env"]), cast(Path, shared["ws"])
    d = RawDaemon(env, ws, initialize=False)
    try:
        d.write(request(None, P.CHAT, {"message": "before initialize"}))
        d.initialize()
        d.write(request(None, P.CHAT, {"message": "after initialize"}))
        emulator.script({"reply": "only this one"})
        assert d.call(P.CHAT, {"message": "a real turn"})["result"]["text"] == "only this one"
        sent = [str(r.body) for r in emulator.requests("enerateContent")]
        assert len(sent) == 1 and "a real turn" in sent[0], sent
        log = d.log_text()
        assert log.count("WARNING gemini_chat.server: Ignoring gemini/chat sent as a notif") == 2
    finally:
        d.close()
