"""The terminal client in one-shot and stdin modes: real `gemini-chat`, real daemon, emulator."""

from __future__ import annotations

import ctypes
import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator, RecordedRequest

from .test_storage import tiny_disk
from .tmux import GEMINI_CHAT

RUN_TIMEOUT = 60
GENERATE_SUFFIXES = (":generateContent", ":streamGenerateContent")


def gemini_chat(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the terminal client to completion (stdin not a tty: a pipe, or /dev/null)."""
    return subprocess.run(
        [str(GEMINI_CHAT), *args],
        env=env,
        cwd=cwd,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def generate_calls(emulator: Emulator) -> list[RecordedRequest]:
    """Every :generateContent and :streamGenerateContent call the emulator received."""
    return [r for r in emulator.requests() if r.path.endswith(GENERATE_SUFFIXES)]


def upstream_bodies(emulator: Emulator) -> list[dict[str, object]]:
    """The JSON bodies of every generate call, oldest first."""
    return [r.body for r in generate_calls(emulator) if isinstance(r.body, dict)]


def user_texts(body: dict[str, object]) -> list[str]:
    """Each content of a request as "role: text" (a streamed reply's parts joined), in order."""
    contents = body.get("contents")
    assert isinstance(contents, list)
    return [
        f"{c.get('role')}: "
        + "".join(p["text"] for p in c.get("parts", []) if "text" in p and not p.get("thought"))
        for c in contents
    ]


def child_pids(pid: int) -> list[int]:
    """The children of process `pid`, whichever of its threads started them (Linux /proc)."""
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return [int(c) for task in tasks for c in (task / "children").read_text().split()]


def assert_no_key(result: subprocess.CompletedProcess[str]) -> None:
    """The API key appears in neither stdout nor stderr."""
    assert EMULATOR_KEY not in result.stdout
    assert EMULATOR_KEY not in result.stderr


def test_one_shot_prints_the_reply(emulator: Emulator, server_env: dict[str, str], workspace: Path):
    """`gemini-chat "question"` prints the reply on stdout and exits 0."""
    emulator.script({"reply": "You have two dogs, so 8 paws."})
    result = gemini_chat("How many paws are in my house?", env=server_env, cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "You have two dogs, so 8 paws."
    assert_no_key(result)
    [body] = upstream_bodies(emulator)
    assert user_texts(body) == ["user: How many paws are in my house?"]


def test_second_one_shot_carries_the_history(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """A second run in the same workspace sends the first exchange upstream before the new turn."""
    emulator.script({"reply": "Two dogs."}, {"reply": "8 paws."})
    first = gemini_chat("What pets do I have?", env=server_env, cwd=workspace)
    second = gemini_chat("How many paws?", env=server_env, cwd=workspace)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert second.stdout.strip() == "8 paws."
    assert user_texts(upstream_bodies(emulator)[-1]) == [
        "user: What pets do I have?",
        "model: Two dogs.",
        "user: How many paws?",
    ]


def test_replies_stream_unless_no_stream(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """By default the client asks for a streamed reply; --no-stream asks for a whole one."""
    emulator.script({"chunks": ["Hello, ", "world."]}, {"reply": "Whole."})
    streamed = gemini_chat("hi", env=server_env, cwd=workspace)
    whole = gemini_chat("--no-stream", "hi again", env=server_env, cwd=workspace)
    assert streamed.stdout.strip() == "Hello, world."
    assert whole.stdout.strip() == "Whole."
    paths = [r.path for r in generate_calls(emulator)]
    assert ":streamGenerateContent" in paths[0]
    assert paths[1].endswith(":generateContent")


def test_question_from_stdin(emulator: Emulator, server_env: dict[str, str], workspace: Path):
    """`echo question | gemini-chat` asks the piped text as one question."""
    emulator.script({"reply": "Piped answer."})
    result = gemini_chat(env=server_env, cwd=workspace, stdin="What is in src/app.py?\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Piped answer."
    assert user_texts(upstream_bodies(emulator)[0]) == ["user: What is in src/app.py?"]


def test_piped_stdin_and_a_question_are_both_sent(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """`git diff | gemini-chat "review this"`: the question is the message and stdin goes with
    it as an attachment named stdin (it used to be dropped silently)."""
    emulator.script({"reply": "Looks fine."})
    diff = "--- a/src/app.py\n+++ b/src/app.py\n-    return a + b\n+    return a - b\n"
    result = gemini_chat("review this", env=server_env, cwd=workspace, stdin=diff)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Looks fine."
    sent = json.dumps(upstream_bodies(emulator)[0])
    assert "review this" in sent
    assert "return a - b" in sent


def test_new_starts_a_fresh_conversation_for_the_question(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """--new archives the folder's conversation first: the request carries only the new
    question, and the old conversation is still listed (archived, not deleted)."""
    emulator.script({"reply": "Old answer."}, {"reply": "Fresh answer."})
    gemini_chat("an old question", env=server_env, cwd=workspace)
    result = gemini_chat("--new", "review this", env=server_env, cwd=workspace, stdin="x = 1\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Fresh answer."
    texts = user_texts(upstream_bodies(emulator)[-1])
    assert len(texts) == 1 and texts[0].startswith("user: "), texts
    assert "an old question" not in json.dumps(upstream_bodies(emulator)[-1])


def test_at_path_attaches_the_file(emulator: Emulator, server_env: dict[str, str], workspace: Path):
    """`@src/app.py` in a question attaches that file (its text goes upstream); an `@word`
    naming no file stays plain text."""
    emulator.script({"reply": "It adds."})
    result = gemini_chat("what does @src/app.py do? and @property?", env=server_env, cwd=workspace)
    assert result.returncode == 0, result.stderr
    sent = json.dumps(upstream_bodies(emulator)[0])
    assert "return a + b" in sent, "the file's text was attached"
    assert "and @property?" in sent


def test_an_image_named_with_at_goes_as_an_image(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """`@shot.png` attaches the image by path: the daemon reads it and sends it as inline
    image data (image/png), not as text."""
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
    (workspace / "shot.png").write_bytes(png)
    emulator.script({"reply": "A single pixel."})
    result = gemini_chat("what is in @shot.png?", env=server_env, cwd=workspace)
    assert result.returncode == 0, result.stderr
    parts = upstream_bodies(emulator)[0]["contents"][-1]["parts"]  # type: ignore[index]
    inline = [p["inlineData"] for p in parts if "inlineData" in p]
    assert [i["mimeType"] for i in inline] == ["image/png"]


def test_a_video_too_big_to_go_inline_is_uploaded_with_progress(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """`@clip.mp4` of 21 MB (over the 20 MB inline budget) goes through the Files API: stderr
    says `uploading clip.mp4: … of 21.0 MB…` (once, not per chunk), the request carries a
    fileData part, stdout only the reply."""
    (workspace / "clip.mp4").write_bytes(b"\0" * 21_000_000)
    emulator.script({"reply": "A dark clip."})
    result = gemini_chat("what is in @clip.mp4?", env=server_env, cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "A dark clip."
    uploading = [line for line in result.stderr.splitlines() if line.startswith("uploading")]
    assert len(uploading) == 1 and uploading[0].endswith("of 21.0 MB…"), result.stderr
    parts = upstream_bodies(emulator)[0]["contents"][-1]["parts"]  # type: ignore[index]
    assert [p["fileData"]["mimeType"] for p in parts if "fileData" in p] == ["video/mp4"]


def test_a_reply_the_store_cannot_keep_is_shown_once_and_marked(
    emulator: Emulator, server_env: dict[str, str], workspace: Path, data_dir: Path
):
    """The store on a full disk (a 256 kB tmpfs in a private mount namespace): the finished
    reply is on stdout once, whole; stderr names the storage failure and says the reply was
    not saved; exit 1."""
    reply = "paws " * 120_000  # 600 kB: more than the disk holds
    emulator.script({"reply": reply.strip()})
    server = shlex.join(
        [*tiny_disk(data_dir, "256k"), str(GEMINI_CHAT.with_name("gemini-chat-server"))]
    )
    result = gemini_chat("--server", server, "count the paws", env=server_env, cwd=workspace)
    assert result.returncode == 1
    assert result.stdout.strip() == reply.strip()
    assert "full" in result.stderr
    assert "not saved" in result.stderr


def test_rate_limit_countdown_is_said_once_without_a_terminal(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """Piped, a 3 s retry countdown is one stderr line, not one a second; stdout is the reply."""
    emulator.script({"status": 429, "retryDelay": "3s"}, {"reply": "Worth the wait."})
    result = gemini_chat("hello?", env=server_env, cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Worth the wait."
    lines = [line for line in result.stderr.splitlines() if "retrying in" in line]
    assert len(lines) == 1, result.stderr


def test_model_option_is_used_upstream(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """--model NAME picks the model of the turn."""
    emulator.script({"reply": "From pro."})
    result = gemini_chat("--model", "gemini-2.5-pro", "hi", env=server_env, cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "models/gemini-2.5-pro:" in generate_calls(emulator)[0].path


def test_workspace_option_names_the_conversation(
    emulator: Emulator, server_env: dict[str, str], workspace: Path, tmp_path: Path
):
    """--workspace DIR continues DIR's conversation wherever the client runs."""
    emulator.script({"reply": "One."}, {"reply": "Two."})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    gemini_chat("first", env=server_env, cwd=workspace)
    result = gemini_chat("--workspace", str(workspace), "second", env=server_env, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert user_texts(upstream_bodies(emulator)[-1])[0] == "user: first"


def test_invalid_key_prints_the_daemons_message(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """A key the API rejects: exit 1, the daemon's helpful message on stderr, the key nowhere."""
    bad_key = "not-a-valid-key-5b2e"
    env = {**server_env, "GEMINI_API_KEY": bad_key}
    result = gemini_chat("hello", env=env, cwd=workspace)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "key" in result.stderr.lower()
    assert "GEMINI_API_KEY" in result.stderr or "apiKey" in result.stderr
    assert bad_key not in result.stdout + result.stderr


def test_no_key_uses_the_bundled_emulator(data_dir: Path, workspace: Path):
    """Without any key the client starts its own emulator and says so on stderr: stdout carries
    only the (canned) reply."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"}
    }
    env["GEMINI_CHAT_DATA_DIR"] = str(data_dir)
    result = gemini_chat("Say hello", env=env, cwd=workspace)
    assert result.returncode == 0, result.stderr
    first = result.stderr.splitlines()[0]
    assert "No GEMINI_API_KEY set" in first
    assert "emulator" in first
    assert "No GEMINI_API_KEY set" not in result.stdout
    assert result.stdout.startswith("This is the gemini-chat emulator"), "only the reply"


def test_daemon_that_cannot_start_is_explained(server_env: dict[str, str], workspace: Path):
    """A daemon that dies at start: exit 1, its status and the tail of its stderr are shown."""
    crash = (
        f"{sys.executable} -c \"import sys; sys.stderr.write('store is locked\\n'); sys.exit(3)\""
    )
    result = gemini_chat("--server", crash, "hello", env=server_env, cwd=workspace)
    assert result.returncode == 1
    assert "status 3" in result.stderr
    assert "store is locked" in result.stderr


def _slow_one_shot(
    emulator: Emulator, env: dict[str, str], workspace: Path
) -> subprocess.Popen[str]:
    """`gemini-chat count` against a reply that streams one piece every 3 s."""
    emulator.script({"chunks": ["one ", "two ", "three"], "chunkDelay": 3.0})
    return subprocess.Popen(
        [str(GEMINI_CHAT), "count"],
        env=env,
        cwd=workspace,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _interrupt_one_shot(
    emulator: Emulator, env: dict[str, str], workspace: Path, interrupt: Callable[[int], None]
) -> subprocess.CompletedProcess[str]:
    """A slow one-shot reply, `interrupt`ed (given the client's pid) once its request is
    upstream; the client's result once it ended, after the emulator saw the disconnect."""
    client = _slow_one_shot(emulator, env, workspace)
    try:
        emulator.wait_for_event("request", timeout=RUN_TIMEOUT)
        interrupt(client.pid)
        out, err = client.communicate(timeout=RUN_TIMEOUT)
    finally:
        client.kill()
    emulator.wait_for_event("disconnect", timeout=RUN_TIMEOUT)
    return subprocess.CompletedProcess(client.args, client.returncode, out, err)


def test_ctrl_c_stops_a_one_shot_reply(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """SIGINT while a one-shot reply streams cancels it upstream: "(stopped)", exit 130."""
    ended = _interrupt_one_shot(
        emulator, server_env, workspace, lambda pid: os.kill(pid, signal.SIGINT)
    )
    assert ended.returncode == 130
    assert ended.stdout.rstrip().endswith("(stopped)")


TGKILL = {"x86_64": 234, "aarch64": 131}
"""tgkill(2)'s syscall number: a signal to one thread of another process."""


def _sigint_another_thread(pid: int) -> None:
    """SIGINT to a thread of process `pid` that is not its main thread."""
    number = TGKILL.get(os.uname().machine)
    assert number is not None, f"no tgkill syscall number known for {os.uname().machine}"
    others = sorted(int(t.name) for t in Path(f"/proc/{pid}/task").iterdir() if t.name != str(pid))
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall(number, pid, others[0], signal.SIGINT) == 0, os.strerror(ctypes.get_errno())


def test_ctrl_c_that_lands_on_another_thread_still_stops_the_reply(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """The OS may deliver Ctrl-C's SIGINT to any thread of the client: sent to one that is not
    the main thread while a one-shot reply streams, it still cancels the reply upstream and
    ends with "(stopped)", exit 130 (before, the main thread's endless wait held the
    KeyboardInterrupt back until the whole reply had streamed)."""
    ended = _interrupt_one_shot(emulator, server_env, workspace, _sigint_another_thread)
    assert ended.returncode == 130
    assert ended.stdout.rstrip().endswith("(stopped)")
    assert not any(e["type"] == "done" for e in emulator.events()), "the reply was not cut"


def test_daemon_dying_mid_reply_is_explained(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """The daemon killed while a reply streams: exit 1, and the client says the daemon died."""
    client = _slow_one_shot(emulator, server_env, workspace)
    try:
        emulator.wait_for_event("request", timeout=RUN_TIMEOUT)
        [daemon] = child_pids(client.pid)
        os.kill(daemon, signal.SIGKILL)
        out, err = client.communicate(timeout=RUN_TIMEOUT)
    finally:
        client.kill()
    assert client.returncode == 1
    assert "exited with status -9" in err
    assert EMULATOR_KEY not in out + err


def test_missing_daemon_command_is_explained(server_env: dict[str, str], workspace: Path):
    """A --server that does not exist: exit 1 with the reason."""
    result = gemini_chat("--server", "/nonexistent/daemon", "hello", env=server_env, cwd=workspace)
    assert result.returncode == 1
    assert "cannot start the daemon" in result.stderr
    assert "No such file" in result.stderr


@pytest.mark.parametrize("flag", ["--version"])
def test_version(flag: str, server_env: dict[str, str], workspace: Path):
    """--version prints the client's version."""
    result = gemini_chat(flag, env=server_env, cwd=workspace)
    assert result.returncode == 0
    assert result.stdout.startswith("gemini-chat ")
