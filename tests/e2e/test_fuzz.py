"""Hypothesis-generated params, byte streams and nesting against one real daemon: every
request gets at most one well-formed answer (exactly one where its id can be read), never an
internal error or a traceback, and the daemon stays up and in sync. `make fuzz` runs 10,000
cases of each (GEMINI_CHAT_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EMULATOR_KEY
from gemini_chat import protocol as P
from gemini_chat.emulator import Emulator
from gemini_chat.envelope import MAX_DEPTH

from .raw import RawDaemon, frame, raw_env, request

EXAMPLES = int(os.environ.get("GEMINI_CHAT_FUZZ_EXAMPLES", "150"))
ALLOWED_ERRORS = {
    P.PARSE_ERROR,
    P.INVALID_REQUEST,
    P.METHOD_NOT_FOUND,
    P.INVALID_PARAMS,
    P.REQUEST_CANCELLED,
    P.REQUEST_FAILED,
}
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def raw_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawDaemon]:
    """One daemon for all fuzz cases, against a module-wide emulator."""
    emu = Emulator(api_keys=[EMULATOR_KEY])
    emu.start()
    root = tmp_path_factory.mktemp("fuzz")
    (root / "ws").mkdir()
    d = RawDaemon(raw_env(emu, root), root / "ws")
    yield d
    d.close()
    emu.stop()


def assert_clean(answer: dict[str, Any]) -> None:
    """A result, or an error with a documented code and a message."""
    if "error" in answer:
        assert answer["error"]["code"] in ALLOWED_ERRORS, answer
        assert isinstance(answer["error"]["message"], str)
    else:
        assert "result" in answer


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
near_valid = st.fixed_dictionaries(
    {},
    optional={
        "message": st.text(max_size=40) | json_values,
        "workspace": st.sampled_from(["file:///nope", "file:///", "x:y", ""]) | json_values,
        "attachments": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "uri": st.sampled_from(["file:///etc/passwd", "file:///tmp/../etc", "relative"])
                    | json_values,
                    "range": json_values,
                    "name": json_values,
                    "mimeType": st.sampled_from(["image/png", "text/plain", "a/b"]) | json_values,
                    "data": st.sampled_from(["AAAA", "!!", ""]) | json_values,
                    "text": json_values,
                },
            ),
            max_size=3,
        )
        | json_values,
        "model": st.sampled_from(["gemini-2.5-flash", "../x", "models/", "a b"]) | json_values,
        "generationConfig": st.fixed_dictionaries(
            {}, optional={"temperature": json_values, "thinkingConfig": json_values}
        )
        | json_values,
        "partialResultToken": json_values,
        "workDoneToken": json_values,
    },
)
methods = st.sampled_from(
    [
        "gemini/chat",
        "gemini/history",
        "gemini/reset",
        "gemini/status",
        "gemini/countTokens",
        "gemini/models",
    ]
)


@FUZZ
@given(method=methods, params=near_valid | json_values)
def test_fuzzed_params_always_get_a_clean_answer(
    raw_daemon: RawDaemon, method: str, params: object
) -> None:
    """Any params: a result or a documented error code, never an internal error."""
    assert_clean(raw_daemon.call(method, params))


# --- raw byte streams, never padded ------------------------------------------------------

MAX_DECLARED = 400
"""The largest Content-Length a fuzzed header announces: its body may swallow that many of
the bytes that follow, so the resynchronising ping below is longer."""
RESYNC_PAD = "p" * (MAX_DECLARED + 100)

bad_values = st.sampled_from(
    ["abc", "-5", "", "1.5", "0x10", "12abc", " ", "99999999999999999999999", "\x00"]
)
header = st.one_of(
    bad_values.map(str.encode),
    st.integers(-1000, MAX_DECLARED).map(lambda n: str(n).encode()),
).map(lambda v: b"Content-Length: " + v)
byte_segments = st.one_of(
    st.binary(max_size=200),  # stray bytes, usually without a line break
    st.tuples(header, st.sampled_from([b"", b"\r\n", b"\r\n\r\n", b"\n\n"])).map(b"".join),
    st.tuples(header, st.just(b"\r\n\r\n"), st.binary(max_size=MAX_DECLARED)).map(b"".join),
    st.binary(max_size=MAX_DECLARED).map(frame),  # well framed, not JSON
    json_values.map(frame),  # well framed JSON, not JSON-RPC
    st.builds(
        lambda cut, size: (b"Content-Length: %d\r\n\r\n" % size)[:cut],
        st.integers(0, 25),
        st.integers(0, MAX_DECLARED),
    ),  # a header cut short
    st.builds(  # nesting, closed or not
        lambda opener, closer, n, closed: frame(opener * n + (closer * n if closed else b"")),
        *(st.sampled_from([b"["]), st.sampled_from([b"]"])),
        st.integers(1, 3000),
        st.booleans(),
    ),
)
requests = st.tuples(
    methods | st.sampled_from(["initialized", "$/cancelRequest", "shutdown!", "exit ", ""]),
    near_valid | json_values,
    st.sampled_from(["id", "none", "null", "object", "list", "bool"]),
)
BAD_IDS: dict[str, object] = {"null": None, "object": {}, "list": [], "bool": True}


def render(raw_daemon: RawDaemon, segment: tuple[str, Any]) -> bytes:
    """A segment as bytes; a request gets a fresh id so that no answer is ambiguous."""
    kind, value = segment
    if kind == "bytes":
        return value
    method, params, id_kind = value
    if id_kind == "id":
        return request(raw_daemon.new_id(), method, params)
    message = {"jsonrpc": "2.0", "method": method, "params": params}
    if id_kind != "none":
        message["id"] = BAD_IDS[id_kind]
    return frame(message)


streams = st.lists(
    st.one_of(byte_segments.map(lambda b: ("bytes", b)), requests.map(lambda r: ("request", r))),
    min_size=1,
    max_size=6,
)


@FUZZ
@given(segments=streams)
def test_fuzzed_byte_streams_keep_the_daemon_in_sync(
    raw_daemon: RawDaemon, segments: list[tuple[str, Any]]
) -> None:
    """Any mix of junk, bad headers, cut frames, deep nesting and requests, with nothing to
    pad it: the next frames resynchronise the reader. A long request absorbs whatever a cut
    frame still expects; the one after it must be answered with a result."""
    first = raw_daemon.new_id()
    stream = b"".join(render(raw_daemon, s) for s in segments)
    absorber = raw_daemon.new_id()
    ping = raw_daemon.new_id()
    raw_daemon.write(stream + request(absorber, "fuzz/resync", {"pad": RESYNC_PAD}))
    raw_daemon.write(request(ping, P.STATUS, {}))
    seen = len(raw_daemon.unaddressed)
    assert "result" in raw_daemon.answer(ping)
    assert raw_daemon.proc.poll() is None
    for answer in raw_daemon.unaddressed[seen:]:
        assert_clean(answer)
    for msg_id in range(first, absorber + 1):
        if msg_id in raw_daemon.answers:
            assert_clean(raw_daemon.answers[msg_id])


# --- deep nesting ----------------------------------------------------------------------------


def nest(depth: int, opener: str, closed: bool) -> str:
    """`depth` levels of arrays or objects around 1, closed or cut off."""
    closer = "]" if opener == "[" else "}"
    return opener * depth + "1" + (closer * depth if closed else "")


@FUZZ
@given(
    depth=st.integers(1, 3000),
    opener=st.sampled_from(["[", '{"a":']),
    where=st.sampled_from(["message", "workDoneToken", "generationConfig", "params"]),
    closed=st.booleans(),
)
def test_fuzzed_deep_nesting_is_answered_and_survived(
    raw_daemon: RawDaemon, depth: int, opener: str, where: str, closed: bool
) -> None:
    """A request nested `depth` deep (or cut off inside the nesting): deeper than the cap is
    refused -32600 (with its id, or id null when even the id cannot be read), cut off is a
    -32700/-32600 with id null, shallower gets a clean answer; the daemon lives on."""
    msg_id = raw_daemon.new_id()
    deepest = depth + (1 if where == "params" else 2)  # the envelope and params add levels
    deep = nest(depth, opener, closed)
    params = deep if where == "params" else f'{{"message": "hi", "{where}": {deep}}}'
    text = f'{{"jsonrpc": "2.0", "id": {msg_id}, "method": "{P.COUNT_TOKENS}", "params": {params}'
    seen = len(raw_daemon.unaddressed)
    raw_daemon.write(frame((text + "}" if closed else text).encode()))
    assert "result" in raw_daemon.call(P.STATUS, {})
    refusals = [a["error"]["code"] for a in raw_daemon.unaddressed[seen:]]
    if not closed:
        assert refusals in ([P.PARSE_ERROR], [P.INVALID_REQUEST]), refusals
        assert msg_id not in raw_daemon.answers
    elif deepest > MAX_DEPTH:
        addressed = raw_daemon.answers.get(msg_id)
        codes = refusals + ([addressed["error"]["code"]] if addressed else [])
        assert codes == [P.INVALID_REQUEST], codes
    else:
        assert not refusals
        assert_clean(raw_daemon.answer(msg_id))
