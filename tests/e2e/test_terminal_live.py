"""The REPL with another editor on the same folder: a second real daemon (same store) sends
turns while `gemini-chat` runs in tmux; what the REPL shows is read with capture-pane."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gemini_chat.emulator import Emulator
from polling import INTERVAL, until

from .conftest import StartDaemon
from .tmux import GEMINI_CHAT, Tmux, at_prompt, shows, start_repl

SLOW = ["First ", "part, ", "then ", "the ", "rest."]
QUESTION = "What about the other editor?"


async def stays(tmux: Tmux, check: Callable[[str], bool], seconds: float, what: str) -> None:
    """Assert `check` holds on every look at the pane for `seconds` (absence needs a window:
    the daemon promises its notifications within 500 ms, so this is 3x that)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        screen = tmux.screen()
        assert check(screen), f"{what}; screen:\n{screen}"
        await asyncio.sleep(INTERVAL)


def is_dim(raw: str, text: str) -> bool:
    """Whether `text` shows dim in `raw` (capture-pane -e only sends changes of style)."""
    dim = False
    for match in re.finditer(r"\x1b\[([0-9;]*)m", raw[: raw.index(text)]):
        for code in match.group(1).split(";"):
            if code in ("", "0", "22"):
                dim = False
            elif code == "2":
                dim = True
    return dim


def other_turn(daemon: Any, message: str = QUESTION) -> Any:
    """The other editor sends a streamed turn; the future of its answer."""
    _id, future = daemon.send(
        "gemini/chat", {"message": message, "partialResultToken": "p", "workDoneToken": "w"}
    )
    return future


def last_request(emulator: Emulator) -> list[str]:
    """Each content of the last generate request as "role: text"."""
    body = emulator.requests(":streamGenerateContent")[-1].body
    assert isinstance(body, dict)
    return [
        f"{c['role']}: " + "".join(p.get("text", "") for p in c["parts"]) for c in body["contents"]
    ]


async def test_another_editors_turn_streams_into_the_idle_repl(
    tmux: Tmux,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    daemons: StartDaemon,
):
    """At an empty prompt, a turn sent by another editor shows at once: a dim "from another
    editor" header, its question, its reply streaming (the first piece before the last one
    exists), an end line naming the turn, then the prompt again."""
    await start_repl(tmux, server_env, workspace)
    other = await daemons()
    emulator.script({"chunks": SLOW, "chunkDelay": 0.6})
    answer = other_turn(other)
    screen = await shows(tmux, "First", "the first mirrored piece")
    assert "rest." not in screen, "it streamed: the reply was not finished yet"
    assert "── from another editor ──" in screen
    assert f"you> {QUESTION}" in screen
    await answer
    screen = await shows(tmux, "from another editor · turn 1", "the end of the mirrored turn")
    assert "gemini> First part, then the rest." in screen
    await shows(tmux, at_prompt(), "the prompt again")  # drawn just after the end line
    assert is_dim(tmux.raw_screen(), "── from another editor ──"), "the header is dim"


async def test_output_waits_while_the_user_types_and_shows_once_the_line_is_cleared(
    tmux: Tmux,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    daemons: StartDaemon,
):
    """With a half-typed question at the prompt, another editor's turn is held back (the input
    line stays as typed, a dim note under it says something waits); clearing the line (Ctrl-U)
    shows it."""
    await start_repl(tmux, server_env, workspace)
    other = await daemons()
    tmux.keys("-l", "half a question")
    await shows(tmux, at_prompt("half a question"))
    emulator.script({"reply": "Mirrored reply."})
    await other_turn(other)
    await shows(
        tmux, "waits: it shows when this line is sent or cleared", "the note under the line"
    )
    await stays(
        tmux,
        lambda s: "Mirrored reply." not in s and "\nyou> half a question\n" in s,
        1.5,
        "the mirrored turn must wait while the user types",
    )
    tmux.keys("C-u")
    screen = await shows(
        tmux,
        lambda s: "Mirrored reply." in s and at_prompt()(s),
        "the held turn, once the line is cleared, then the prompt",
    )
    assert "half a question" not in screen


async def test_a_line_sent_while_output_waits_follows_it_and_carries_its_exchange(
    tmux: Tmux,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    daemons: StartDaemon,
):
    """A question sent while another editor's turn is held: that turn prints first, then the
    question (echoed after it) and its reply; the request carries the other's exchange."""
    await start_repl(tmux, server_env, workspace)
    other = await daemons()
    tmux.keys("-l", "and mine?")
    emulator.script({"reply": "Theirs."}, {"reply": "Yours."})
    await other_turn(other)
    await shows(tmux, "waits: it shows when this line is sent or cleared", "their turn held")
    tmux.keys("Enter")
    screen = await shows(tmux, "Yours.", "our reply")
    assert screen.index("Theirs.") < screen.index("you> and mine?") < screen.index("Yours.")
    assert last_request(emulator) == [f"user: {QUESTION}", "model: Theirs.", "user: and mine?"]


async def test_keys_typed_while_a_mirrored_reply_streams_wait_for_the_prompt(
    tmux: Tmux,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    daemons: StartDaemon,
):
    """Typing while another editor's reply streams does not land in that reply: the text
    shows at the next prompt, intact."""
    await start_repl(tmux, server_env, workspace)
    other = await daemons()
    emulator.script({"chunks": SLOW, "chunkDelay": 0.6})
    answer = other_turn(other)
    await shows(tmux, "First", "the first mirrored piece")
    tmux.keys("-l", "typed meanwhile")
    await answer
    screen = await shows(tmux, at_prompt("typed meanwhile"), "the typed text at the prompt")
    assert "gemini> First part, then the rest." in screen
    assert screen.count("typed meanwhile") == 1


async def test_an_interrupted_turn_is_said_then_shown_in_history_and_sent_again(
    tmux: Tmux,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    daemons: StartDaemon,
):
    """The other editor's daemon killed mid-reply: the REPL says so and that /retry asks again;
    /history shows the interrupted turn (question and partial reply); /retry asks the question
    again."""
    await start_repl(tmux, server_env, workspace)
    other = await daemons()
    emulator.script({"chunks": [*SLOW, "never"], "chunkDelay": 1.0}, {"reply": "Whole now."})
    other_turn(other)
    await shows(tmux, "First part,", "two mirrored pieces")
    os.kill(other.process.pid, signal.SIGKILL)
    screen = await shows(tmux, "the other editor stopped mid-reply", "the interruption")
    assert "/history shows what came, /retry asks again)" in screen
    tmux.type("/history")
    screen = await shows(tmux, "── interrupted at ", "the interrupted turn in /history")
    shown = screen.split("you> /history", 1)[1]
    assert "── interrupted at " in shown
    assert f"you> {QUESTION}" in shown
    assert "gemini> First part," in shown
    tmux.type("/retry")
    screen = await shows(tmux, "Whole now.", "the question sent again")
    assert last_request(emulator) == [f"user: {QUESTION}"]


async def test_a_question_typed_while_a_reply_streams_is_sent_after_it(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """Typing the next question (and Enter) while a reply streams queues it: it is not echoed
    into the reply, and it is sent when the reply has ended, carrying that exchange."""
    await start_repl(tmux, server_env, workspace)
    emulator.script({"chunks": SLOW, "chunkDelay": 0.5}, {"reply": "Second reply."})
    tmux.type("first question")
    await shows(tmux, "First", "the first piece")
    tmux.type("second question")
    screen = await shows(tmux, "Second reply.", "the queued question's reply")
    assert "gemini> First part, then the rest." in screen
    assert screen.index("turn 1") < screen.index("you> second question")
    assert last_request(emulator)[-1] == "user: second question"
    assert len(last_request(emulator)) == 3


async def test_history_and_reset_by_another_editor_are_noted(
    tmux: Tmux,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    daemons: StartDaemon,
):
    """Another editor's reset and model choice show as dim notes; the REPL's own do not."""
    await start_repl(tmux, server_env, workspace)
    other = await daemons()
    emulator.script({"reply": "One."})
    tmux.type("a question")
    await shows(tmux, "turn 1")
    await other.request("gemini/reset", {})
    await other.request("gemini/setModel", {"model": "gemini-2.5-pro"})
    screen = await shows(tmux, "changed this folder's model", "the notes")
    assert "(another editor started a fresh conversation)" in screen
    tmux.type("/reset")
    await shows(tmux, "Started a fresh conversation")
    tmux.type("/model gemini-2.5-flash")
    screen = await shows(tmux, "Model for this folder: gemini-2.5-flash")
    await stays(
        tmux,
        lambda s: s.count("another editor") == 2,
        1.5,
        "our own /reset and /model are not announced as another editor's",
    )


RELAY = """
import os, subprocess, sys, threading, time
hold, seen, *cmd = sys.argv[1:]
child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def up():
    while data := os.read(0, 65536):
        if b"$/cancelRequest" in data:
            open(seen, "w").close()
        child.stdin.write(data)
        child.stdin.flush()
    child.stdin.close()
threading.Thread(target=up, daemon=True).start()
while data := os.read(child.stdout.fileno(), 65536):
    while os.path.exists(hold):  # the test holds the daemon's answers back (deadline: 60 s)
        time.sleep(0.01)
    os.write(1, data)
sys.exit(child.wait())
"""


async def test_ctrl_c_racing_the_end_of_a_reply_shows_the_whole_reply(
    tmux: Tmux,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    daemons: StartDaemon,
    tmp_path: Path,
):
    """Ctrl-C after the reply finished in the daemon but before its last pieces reached the
    screen (held back by a relay on the daemon's stdout): "(stopped; the reply had already
    finished…)" and the whole stored reply on screen, its last piece included."""
    relay, hold, seen = tmp_path / "relay.py", tmp_path / "hold", tmp_path / "seen"
    relay.write_text(RELAY)
    server = Path(GEMINI_CHAT).with_name("gemini-chat-server")
    python = Path(GEMINI_CHAT).with_name("python")
    command = shlex.join([str(python), str(relay), str(hold), str(seen), str(server)])
    await start_repl(tmux, server_env, workspace, f"--server {shlex.quote(command)}")
    emulator.script({"chunks": ["One ", "two ", "three ", "four."], "chunkDelay": 0.5})
    tmux.type("count to four")
    await shows(tmux, "One", "the first piece")
    hold.touch()
    watcher = await daemons()
    await until_turns(watcher, 2)
    tmux.keys("C-c")
    await until(seen.exists, "the client's $/cancelRequest")
    hold.unlink()
    screen = await shows(tmux, "(stopped; the reply had already finished", "the late result")
    assert "One two three four." in screen
    assert "turn 1" in screen


async def until_turns(daemon: Any, count: int) -> None:
    """Poll `daemon`'s history until it holds `count` entries (the turn was committed)."""

    async def committed() -> bool:
        return len(await daemon.history()) >= count

    await until(committed, f"the history to hold {count} entries", 30.0)
