"""A real daemon driven with raw bytes: frames read back with a deadline, and every answer
checked as it arrives (no request answered twice, no traceback in any answer)."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator

from .daemon import SERVER


def frame(obj: object) -> bytes:
    """One LSP frame holding `obj` as JSON (bytes are framed as they are)."""
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def request(msg_id: object, method: str, params: object = None) -> bytes:
    """A framed JSON-RPC request (a notification when msg_id is None)."""
    message: dict[str, object] = {"jsonrpc": "2.0", "method": method}
    if msg_id is not None:
        message["id"] = msg_id
    if params is not None:
        message["params"] = params
    return frame(message)


class RawDaemon:
    """gemini-chat-server on pipes, written to with raw bytes."""

    def __init__(self, env: dict[str, str], folder: Path, initialize: bool = True) -> None:
        # A file, not a pipe: a full stderr pipe would block the daemon. Closed in close().
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            [SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env
        )
        self._sel = selectors.DefaultSelector()
        assert self.proc.stdout is not None
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)
        self._buf = b""
        self.next_id = 0
        self.answers: dict[object, dict[str, Any]] = {}  # by id
        self.unaddressed: list[dict[str, Any]] = []  # answers with id null, in order
        self._folder = folder
        if initialize:
            self.initialize()

    def initialize(self) -> dict[str, Any]:
        """initialize (answered) then initialized."""
        uri = self._folder.as_uri()
        init = {"capabilities": {}, "workspaceFolders": [{"uri": uri, "name": "w"}]}
        answer = self.call("initialize", init)
        self.write(request(None, "initialized", {}))
        return answer

    def write(self, data: bytes) -> None:
        """Send raw bytes to the daemon's stdin."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def new_id(self) -> int:
        """A request id not used before."""
        self.next_id += 1
        return self.next_id

    def call(self, method: str, params: object = None, timeout: float = 30) -> dict[str, Any]:
        """Send a request and return its answer."""
        msg_id = self.new_id()
        self.write(request(msg_id, method, params))
        return self.answer(msg_id, timeout)

    def answer(self, msg_id: object, timeout: float = 30) -> dict[str, Any]:
        """Read until the answer to msg_id (every answer read is kept)."""
        deadline = time.monotonic() + timeout
        while msg_id not in self.answers:
            self._read_message(deadline)
        return self.answers[msg_id]

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while True:
            head, sep, rest = self._buf.partition(b"\r\n\r\n")
            if sep:
                length = _content_length(head)
                if len(rest) >= length:
                    self._buf = rest[length:]
                    return self._keep(json.loads(rest[:length]))
            left = deadline - time.monotonic()
            assert left > 0 and self._sel.select(left), "the daemon did not answer in time"
            assert self.proc.stdout is not None
            chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            assert chunk, f"the daemon died (exit {self.proc.wait(10)}): {self.log_text()[-2000:]}"
            self._buf += chunk

    def _keep(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Keep an answer; fail on a second answer to one id or a traceback in an answer."""
        if "method" in msg:
            return msg  # a notification (window/logMessage, $/progress): not needed here
        assert "traceback" not in json.dumps(msg.get("error")), f"a traceback in an answer: {msg}"
        msg_id = msg.get("id")
        if msg_id is None:
            self.unaddressed.append(msg)
        else:
            assert msg_id not in self.answers, f"request {msg_id!r} answered twice"
            self.answers[msg_id] = msg
        return msg

    def log_text(self) -> str:
        """Everything the daemon wrote to stderr so far."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def close(self) -> None:
        """Kill the daemon."""
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self._log):
            if stream is not None:
                stream.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise AssertionError(f"a frame from the daemon without Content-Length: {head!r}")


def raw_env(emulator: Emulator, root: Path) -> dict[str, str]:
    """A daemon environment against `emulator`, its store under `root` (for module fixtures,
    which cannot use the function-scoped `server_env`)."""
    env = {k: v for k, v in os.environ.items() if k not in {"GEMINI_API_KEY", "GOOGLE_API_KEY"}}
    env.update(
        GEMINI_API_KEY=EMULATOR_KEY,
        GEMINI_BASE_URL=emulator.url,
        GEMINI_CHAT_DATA_DIR=str(root / "data"),
    )
    return env
