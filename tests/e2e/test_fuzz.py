"""Hypothesis-generated params and malformed frames against one real daemon: every request
gets exactly one well-formed answer, never an internal error, and the daemon stays up.
`make fuzz` runs 10,000 cases (GEMINI_CHAT_FUZZ_EXAMPLES)."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator

from .daemon import SERVER

EXAMPLES = int(os.environ.get("GEMINI_CHAT_FUZZ_EXAMPLES", "150"))
ALLOWED_ERRORS = {-32700, -32600, -32601, -32602, -32800, -32803}


class RawDaemon:
    """A daemon driven with raw bytes, reading frames with a deadline."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.proc = subprocess.Popen(
            [SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)
        self._buf = b""
        self._next_id = 0
        init = {"capabilities": {}, "workspaceFolders": [{"uri": folder.as_uri(), "name": "w"}]}
        self.call("initialize", init)
        self.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _read_message(self, timeout: float) -> dict[str, Any]:
        while True:
            head, sep, rest = self._buf.partition(b"\r\n\r\n")
            if sep:
                length = next(
                    int(h.split(b":")[1])
                    for h in head.split(b"\r\n")
                    if h.startswith(b"Content-Length")
                )
                if len(rest) >= length:
                    self._buf = rest[length:]
                    return json.loads(rest[:length])
            assert self._sel.select(timeout), "the daemon did not answer in time"
            assert self.proc.stdout is not None
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            assert chunk, f"the daemon died (exit {self.proc.poll()})"
            self._buf += chunk

    def answer(self, msg_id: object, timeout: float = 30) -> dict[str, Any]:
        """Read until the answer to msg_id, skipping notifications."""
        while True:
            msg = self._read_message(timeout)
            # Skip notifications, answers to garbage (id null) and late answers of earlier cases.
            if "method" not in msg and msg.get("id") == msg_id:
                return msg

    def call(self, method: str, params: object) -> dict[str, Any]:
        self._next_id += 1
        self.write(
            frame({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        )
        return self.answer(self._next_id)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def frame(obj: object) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.fixture(scope="module")
def raw_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawDaemon]:
    """One daemon for all fuzz cases, against a module-wide emulator."""
    emu = Emulator(api_keys=[EMULATOR_KEY])
    emu.start()
    root = tmp_path_factory.mktemp("fuzz")
    (root / "ws").mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"GEMINI_API_KEY", "GOOGLE_API_KEY"}},
        "GEMINI_API_KEY": EMULATOR_KEY,
        "GEMINI_BASE_URL": emu.url,
        "GEMINI_CHAT_DATA_DIR": str(root / "data"),
    }
    d = RawDaemon(env, root / "ws")
    yield d
    d.close()
    emu.stop()


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


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(method=methods, params=near_valid | json_values)
def test_fuzzed_params_always_get_a_clean_answer(
    raw_daemon: RawDaemon, method: str, params: object
) -> None:
    """Any params: a result or a documented error code, never an internal error."""
    answer = raw_daemon.call(method, params)
    if "error" in answer:
        assert answer["error"]["code"] in ALLOWED_ERRORS, answer
        assert isinstance(answer["error"]["message"], str)
    else:
        assert "result" in answer


garbage = st.one_of(
    st.binary(max_size=200).map(lambda b: b"Content-Length: %d\r\n\r\n" % len(b) + b),
    st.binary(max_size=100).map(lambda b: b + b"\r\n\r\n"),
    json_values.map(lambda v: frame(v)),
    st.builds(
        lambda m, i: frame({"jsonrpc": "2.0", "id": i, "method": m}),
        st.text(max_size=20),
        st.integers() | st.text(max_size=5) | st.none(),
    ),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(junk=garbage)
def test_fuzzed_frames_do_not_kill_the_daemon(raw_daemon: RawDaemon, junk: bytes) -> None:
    """After any garbage (and a blank line to end a half-read header), the daemon still answers."""
    raw_daemon.write(junk + b"\r\n\r\n")
    raw_daemon._next_id += 1  # pyright: ignore[reportPrivateUsage]
    ping = raw_daemon._next_id  # pyright: ignore[reportPrivateUsage]
    # A garbage header may have announced a body: pad it out so the next frame is readable.
    raw_daemon.write(b" " * 256 + b"\r\n\r\n")
    raw_daemon.write(frame({"jsonrpc": "2.0", "id": ping, "method": "gemini/status", "params": {}}))
    deadline_answer = raw_daemon.answer(ping)
    assert "result" in deadline_answer or deadline_answer["error"]["code"] in ALLOWED_ERRORS
    assert raw_daemon.proc.poll() is None
