"""The REPL's newer features in tmux against the real daemon and the emulator: Markdown
rendering, the retry countdown, conversations, the line editor, attachments, models, secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

from gemini_chat.emulator import Emulator
from samples import MARKDOWN_REPLY

from .test_terminal_live import is_dim, last_request
from .tmux import EXITED, Tmux, at_prompt, shows, start_repl


def pieces(text: str) -> list[str]:
    """`text` in word-sized pieces, as a stream brings it."""
    words = text.split(" ")
    return [w + " " for w in words[:-1]] + [words[-1]]


async def test_a_markdown_reply_renders_a_table_and_highlighted_code(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """A streamed Markdown reply ends rendered: the heading without `##`, a framed table
    (no `|---|`), code without fences and in colour, bullets; exactly once on screen."""
    await start_repl(tmux, server_env, workspace)
    emulator.script({"chunks": pieces(MARKDOWN_REPLY), "chunkDelay": 0.02})
    tmux.type("what does add do?")
    screen = await shows(tmux, "turn 1", "the reply")
    reply = screen.split("what does add do?", 1)[1]
    assert "Adding numbers" in reply and "##" not in reply
    assert re.search(r"│ 1 +│ 2 +│ 3 +│", reply)
    assert "╭" in reply and "|---|" not in reply and "```" not in reply
    assert "• numbers add" in reply
    assert reply.count("def add(a, b):") == 1 and reply.count("Adding numbers") == 1
    raw = tmux.raw_screen()
    code = next(line for line in raw.splitlines() if "add" in line and "def" in line)
    assert "\x1b[" in code.split("add", 1)[0], "the code is highlighted"


async def test_the_rate_limit_wait_counts_down(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """A 429 asking for 3 s shows `rate limited: retrying in N s` counting down on the status
    line, then the reply replaces it."""
    await start_repl(tmux, server_env, workspace)
    emulator.script({"status": 429, "retryDelay": "3s"}, {"reply": "Worth the wait."})
    tmux.type("hello?")
    await shows(tmux, "retrying in 2 s", "the countdown")
    screen = await shows(tmux, "retrying in 1 s", "a second later")
    assert "retrying in 2 s" not in screen, "the count replaces itself on one line"
    screen = await shows(tmux, "turn 1", "the reply after the wait")
    assert "gemini> Worth the wait." in screen
    assert "retrying" not in screen, "the status line is gone once the reply begins"


async def test_chats_open_rename_export_delete(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path, tmp_path: Path
):
    """/chats numbers the folder's conversations (* the active one); /open N continues an
    archived one; /rename titles it; /export prints it as Markdown or writes FILE; /delete N
    asks, then deletes it for good."""
    await start_repl(tmux, server_env, workspace)
    emulator.script({"reply": "Paris."}, {"reply": "Two dogs."})
    tmux.type("Capital of France?")
    await shows(tmux, "turn 1")
    tmux.type("/reset")
    await shows(tmux, "Started a fresh conversation")
    tmux.type("How many dogs?")
    await shows(tmux, "Two dogs.")
    tmux.type("/chats")
    screen = await shows(tmux, "* the active one", "the list")
    listing = screen.split("you> /chats", 1)[1]
    assert re.search(r"^  1 \* How many dogs\? +1 turn · just now$", listing, re.M), listing
    assert re.search(r"^  2   Capital of France\? +1 turn · just now$", listing, re.M), listing
    tmux.type("/open 2")
    await shows(tmux, "Opened “Capital of France?”")
    tmux.type("/rename Geography")
    await shows(tmux, "Renamed: “Geography”")
    tmux.type("/export")
    screen = await shows(tmux, "# Geography", "the Markdown")
    assert "## You" in screen and "Capital of France?" in screen.split("# Geography", 1)[1]
    out = tmp_path / "geo.md"
    tmux.type(f"/export {out}")
    await shows(tmux, f"Exported “Geography” to {out}")
    assert out.read_text().startswith("# Geography")
    tmux.type("/chats")
    await shows(tmux, lambda s: s.count("* the active one") == 2, "the list again")
    tmux.type("/delete 1")  # the most recently updated first: the other one
    await shows(tmux, "for good? [y/N]", "the question")
    tmux.type("y")
    await shows(tmux, "Deleted “How many dogs?” (1 turn).")
    tmux.type("/chats")
    screen = await shows(tmux, lambda s: s.count("* the active one") == 3, "the last list")
    last = screen.rsplit("you> /chats", 1)[1]
    assert "How many dogs?" not in last and "Geography" in last


async def test_multi_line_questions_and_history_across_sessions(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path, tmp_path: Path
):
    """Alt-Enter starts a new line (the question goes whole, both lines); after a restart the
    Up key brings the two-line question back whole."""
    await start_repl(tmux, server_env, workspace)
    emulator.script({"reply": "Both lines."})
    tmux.keys("-l", "line one")
    tmux.keys("Escape", "Enter")
    tmux.keys("-l", "line two")
    await shows(tmux, "...> line two", "the second line in the editor")
    tmux.keys("Enter")
    await shows(tmux, "Both lines.")
    assert last_request(emulator) == ["user: line one\nline two"]
    tmux.type("/quit")
    await shows(tmux, f"{EXITED}0]")
    again = Tmux(tmp_path / "again.sock")
    try:
        await start_repl(again, server_env, workspace)
        again.keys("Up")
        again.keys("Up")
        screen = await shows(again, lambda s: s.rstrip().endswith("...> line two"), "recalled")
    finally:
        again.stop()
    assert "you> line one\n...> line two" in screen


async def test_tab_completes_commands_paths_and_models(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """Tab completes a slash command, an `@path` inside the folder and, once the daemon is up,
    a model name."""
    await start_repl(tmux, server_env, workspace)
    tmux.keys("-l", "/ch")
    tmux.keys("Tab")
    await shows(tmux, at_prompt("/chats"), "the command completed")
    tmux.keys("C-u")
    tmux.keys("-l", "explain @src/a")
    tmux.keys("Tab")
    await shows(tmux, at_prompt("explain @src/app.py"), "the path completed")
    tmux.keys("C-u")
    tmux.type("/status")  # the daemon is up: model names are not fetched while it starts
    await shows(tmux, "none met since the daemon started", "the status")
    tmux.keys("-l", "/model gemini-2.5-pr")
    tmux.keys("Tab")
    await shows(
        tmux,
        lambda s: "you> /model gemini-2.5-pro\n" in s and "gemini-2.5-pro-preview-tts" in s,
        "the common part completed, the menu offering the rest",
    )


async def test_at_path_and_attach_send_files(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """`@src/app.py` in a question and `/attach PATH` both attach the file: a dim `attached:`
    line names it and its text goes upstream; /history lists it with the question."""
    (workspace / "notes.txt").write_text("remember the milk\n")
    await start_repl(tmux, server_env, workspace)
    emulator.script({"reply": "It adds."}, {"reply": "Milk."})
    tmux.type("what does @src/app.py do?")
    screen = await shows(tmux, "It adds.")
    assert "  attached: src/app.py" in screen
    assert "return a + b" in json.dumps(emulator.requests(":streamGenerateContent")[-1].body)
    tmux.type("/attach notes.txt")
    await shows(tmux, "Attached to the next question: notes.txt")
    tmux.type("what should I buy?")
    await shows(tmux, "Milk.")
    assert "remember the milk" in json.dumps(emulator.requests(":streamGenerateContent")[-1].body)
    tmux.type("/history")
    screen = await shows(tmux, lambda s: s.count("Milk.") == 2, "the history")
    assert "  attached: notes.txt" in screen.rsplit("you> /history", 1)[1]


async def test_model_lists_chat_models_first_and_the_rest_behind_all(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """/model lists only chat models and says how many more /model all shows; /model all
    lists the speech, robotics and Gemma ones too, never an image model."""
    await start_repl(tmux, server_env, workspace)
    tmux.type("/model")
    screen = await shows(tmux, "this folder's model", "the chat models")
    assert "gemini-2.5-flash " in screen and "tts" not in screen
    more = re.search(r"… and (\d+) more \(speech, robotics, …\): /model all", screen)
    assert more, screen
    tmux.type("/model all")
    screen = await shows(tmux, lambda s: s.count("this folder's model") == 2, "every model")
    every = screen.rsplit("you> /model all", 1)[1]
    assert "gemini-2.5-flash-preview-tts" in every and "gemma-3-1b-it" in every
    assert "imagen" not in every


async def test_a_masked_secret_is_said_in_one_dim_line(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """A question holding an AWS access key: one dim line says it was masked before sending,
    and the key never went upstream."""
    await start_repl(tmux, server_env, workspace)
    emulator.script({"reply": "Rotate it."})
    key = "AKIA" + "Q7WZ4R2T9YHX3KLM"
    tmux.type(f"is {key} safe to commit?")
    screen = await shows(tmux, "Rotate it.")
    assert "1 secret masked before sending (aws-access-key in message)" in screen
    assert is_dim(tmux.raw_screen(), "1 secret masked")
    assert key not in json.dumps(emulator.requests(":streamGenerateContent")[-1].body)
