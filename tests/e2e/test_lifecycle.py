"""Process lifecycle: exit codes, stdin closing, the editor dying, stdout only frames."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .daemon import SERVER, Daemon, error_data


def _frame(obj: object) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}


def _run(frames: list[object], env: dict[str, str], keep_open: bool) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None
    proc.stdin.write(b"".join(_frame(f) for f in frames))
    proc.stdin.flush()
    if not keep_open:
        proc.stdin.close()
    return proc


def test_exit_after_shutdown_is_status_0_even_with_stdin_open(server_env: dict[str, str]) -> None:
    """shutdown then exit: the daemon ends at once with 0, without stdin closing."""
    shutdown = {"jsonrpc": "2.0", "id": 2, "method": "shutdown"}
    proc = _run([INIT, shutdown, {"jsonrpc": "2.0", "method": "exit"}], server_env, keep_open=True)
    assert proc.wait(timeout=15) == 0
    proc.kill()


def test_exit_without_shutdown_is_status_1(server_env: dict[str, str]) -> None:
    """exit without shutdown ends with 1."""
    proc = _run([INIT, {"jsonrpc": "2.0", "method": "exit"}], server_env, keep_open=True)
    assert proc.wait(timeout=15) == 1


def test_stdin_closing_ends_the_daemon(server_env: dict[str, str]) -> None:
    """When the editor closes the pipe, the daemon ends by itself."""
    proc = _run([INIT], server_env, keep_open=False)
    assert proc.wait(timeout=15) in (0, 1)


def test_stdout_carries_only_frames(server_env: dict[str, str]) -> None:
    """Every byte on stdout belongs to a Content-Length frame."""
    status = {"jsonrpc": "2.0", "id": 2, "method": "gemini/status", "params": {}}
    proc = _run([INIT, status, {"jsonrpc": "2.0", "method": "exit"}], server_env, keep_open=False)
    assert proc.stdout is not None
    proc.wait(timeout=15)
    out = proc.stdout.read()
    assert _frames(out), "no frames at all"


def test_daemon_exits_when_the_editor_dies(server_env: dict[str, str]) -> None:
    """The processId given in initialize is watched; when it dies the daemon ends."""
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    init = {**INIT, "params": {"capabilities": {}, "processId": editor.pid}}
    proc = _run([init], server_env, keep_open=True)
    try:
        editor.kill()
        editor.wait()
        assert proc.wait(20) == 1
    finally:
        proc.kill()


def test_version_flag() -> None:
    """--version prints the version and exits 0."""
    out = subprocess.run([SERVER, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("gemini-chat-server ")


def test_python_dash_m(server_env: dict[str, str]) -> None:
    """`python -m gemini_chat` is the daemon too."""
    out = subprocess.run(
        [sys.executable, "-m", "gemini_chat", "--version"],
        capture_output=True,
        text=True,
        env=server_env,
    )
    assert out.returncode == 0
    assert "gemini-chat-server" in out.stdout


async def test_workspace_folders_change(daemon: Daemon, tmp_path: Path) -> None:
    """Folders added at run time become usable workspaces; removed ones are refused (-32602)."""
    extra = tmp_path / "extra"
    extra.mkdir()
    folder = types.WorkspaceFolder(uri=extra.as_uri(), name="extra")

    def change(added: list[types.WorkspaceFolder], removed: list[types.WorkspaceFolder]) -> None:
        event = types.WorkspaceFoldersChangeEvent(added, removed)
        daemon.client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(event)
        )

    change([folder], [])
    result = await daemon.chat("hi", workspace=extra.as_uri())
    assert result["workspace"] == extra.as_uri()
    assert extra.as_uri() in (await daemon.request("gemini/status", {}))["workspaces"]

    change([], [folder])
    with pytest.raises(JsonRpcException) as err:
        await daemon.chat("still there?", workspace=extra.as_uri())
    assert err.value.code == -32602
    assert error_data(err.value)["field"] == "workspace"
    status = await daemon.request("gemini/status", {})
    assert extra.as_uri() not in status["workspaces"]
    assert status["workspaces"] == daemon.folders, "the initial folder stays"


def _frames(out: bytes) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = []
    while out:
        header, sep, rest = out.partition(b"\r\n\r\n")
        assert sep, f"bytes outside a frame: {out[:80]!r}"
        lengths = [
            int(h.split(b":")[1]) for h in header.split(b"\r\n") if h.startswith(b"Content-Length")
        ]
        assert len(lengths) == 1, header
        messages.append(json.loads(rest[: lengths[0]]))
        out = rest[lengths[0] :]
    return messages


def test_request_before_initialize_is_refused(server_env: dict[str, str]) -> None:
    """Requests before `initialize` get ServerNotInitialized (-32002)."""
    status = {"jsonrpc": "2.0", "id": 7, "method": "gemini/status", "params": {}}
    proc = _run([status], server_env, keep_open=False)
    assert proc.stdout is not None
    proc.wait(timeout=15)
    answers = [m for m in _frames(proc.stdout.read()) if m.get("id") == 7]
    assert answers == [
        {
            "jsonrpc": "2.0",
            "id": 7,
            "error": {"code": -32002, "message": "The server is not initialized yet"},
        }
    ]
