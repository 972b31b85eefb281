"""The terminal client's REPL as a person sees it: driven through tmux, read with capture-pane."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from gemini_chat.terminal.completion import COMMANDS

from .test_terminal import GEMINI_CHAT, gemini_chat
from .tmux import EXITED, Tmux

COST = r"\$[\d.]+ reply, \$[\d.]+ conversation"
"""The cost part of a usage line (the shipped price table prices gemini-2.5-flash)."""
SEP = r"(?: · |\n  )"
"""Between two parts of a usage line: it breaks between them to fit 80 columns."""
TURN_END = re.compile(r"(?: · |^  )turn \d+$", re.M)
"""The end of a usage line, on its first line or broken onto the next one."""


@pytest.fixture
def repl(tmux: Tmux, server_env: dict[str, str], workspace: Path) -> Tmux:
    """`gemini-chat` running in the workspace, at its first prompt."""
    tmux.start(shlex.quote(str(GEMINI_CHAT)), server_env, workspace)
    tmux.wait_for(lambda s: s.rstrip().endswith("you>"), "the first prompt")
    return tmux


def test_banner_names_the_workspace_and_how_to_get_help(repl: Tmux, workspace: Path):
    """The REPL opens with a banner: version, folder, and how to pick a model and get help."""
    screen = repl.screen()
    assert "gemini-chat" in screen
    assert workspace.name in screen
    assert "/model" in screen
    assert "/help" in screen


def test_banner_names_the_model_given_with_the_option(
    tmux: Tmux, server_env: dict[str, str], workspace: Path
):
    """With --model the banner names it (known without asking the daemon)."""
    tmux.start(f"{shlex.quote(str(GEMINI_CHAT))} --model gemini-2.5-pro", server_env, workspace)
    screen = tmux.wait_for(lambda s: s.rstrip().endswith("you>"), "the first prompt")
    assert "gemini-2.5-pro" in screen.split("you>", 1)[0]


def test_reply_then_usage_line_then_a_fresh_prompt(repl: Tmux, emulator: Emulator):
    """A question shows the labelled reply, a usage line (tokens, the reply's cost and the
    conversation's, broken between its parts to fit 80 columns) with the turn, and a new
    prompt."""
    emulator.script({"reply": "Two dogs, so 8 paws."})
    repl.type("How many paws?")
    screen = repl.wait_for(lambda s: "turn 1" in s and s.rstrip().endswith("you>"), "turn 1")
    assert "gemini> Two dogs, so 8 paws." in screen
    assert re.search(f"gemini-2\\.5-flash · \\d+ in · \\d+ out{SEP}{COST}{SEP}turn 1", screen)
    assert EMULATOR_KEY not in screen


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
def test_colours_only_without_no_color(
    no_color: bool, tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """On a terminal the prompt and usage line are styled, unless NO_COLOR is set."""
    env = {k: v for k, v in server_env.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = "1"
    emulator.script({"reply": "Plain."})
    tmux.start(shlex.quote(str(GEMINI_CHAT)), env, workspace)
    tmux.wait_for(lambda s: s.rstrip().endswith("you>"), "the first prompt")
    tmux.type("hi")
    tmux.wait_for("turn 1")
    assert ("\x1b[" in tmux.raw_screen()) is not no_color


def test_no_key_repl_says_so_first_and_answers(tmux: Tmux, data_dir: Path, workspace: Path):
    """Without a key the first line on screen names the bundled emulator; questions still work."""
    hidden = {"GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["GEMINI_CHAT_DATA_DIR"] = str(data_dir)
    tmux.start(shlex.quote(str(GEMINI_CHAT)), env, workspace)
    screen = tmux.wait_for(lambda s: s.rstrip().endswith("you>"), "the first prompt")
    assert screen.lstrip().startswith("No GEMINI_API_KEY set: using the bundled emulator")
    tmux.type("hello")
    tmux.wait_for("turn 1", "the canned reply")


def test_history_and_reset(repl: Tmux, emulator: Emulator):
    """/history lists the exchange; /reset clears it and the next turn starts afresh upstream."""
    emulator.script({"reply": "Paris."}, {"reply": "Hello again."})
    repl.type("Capital of France?")
    repl.wait_for("turn 1")
    repl.type("/history")
    screen = repl.wait_for(lambda s: s.count("Paris.") >= 2, "the exchange in /history")
    assert "you> Capital of France?" in screen.split("/history", 1)[1]
    repl.type("/reset")
    repl.wait_for("fresh conversation")
    repl.type("/history")
    repl.wait_for("no conversation yet")
    repl.type("Hi")
    repl.wait_for("Hello again.")
    body = emulator.requests(":streamGenerateContent")[-1].body
    assert isinstance(body, dict)
    assert len(body["contents"]) == 1


def test_a_reset_with_no_conversation_leaves_another_editors_reset_noted(
    repl: Tmux, server_env: dict[str, str], workspace: Path
):
    """/reset with no conversation changes nothing (no change is sent), so it expects none:
    another editor (a one-shot `gemini-chat`) then asks a question and starts afresh with
    `--new`, and the REPL notes `(another editor started a fresh conversation)`."""
    repl.type("/reset")
    repl.wait_for("Started a fresh conversation.")
    for args in (["first"], ["--new", "second"]):
        done = gemini_chat(*args, env=server_env, cwd=workspace)
        assert done.returncode == 0, done.stderr
    screen = repl.wait_for(lambda s: s.count("from another editor · turn 1") == 2, "both turns")
    assert "(another editor started a fresh conversation)" in screen


def test_model_command_sticks_to_the_folder(repl: Tmux, emulator: Emulator):
    """/model NAME makes NAME the folder's model; /model alone then marks it in the list."""
    emulator.script({"reply": "From pro."})
    repl.type("/model")
    screen = repl.wait_for("this folder's model", "the model list")
    assert re.search(r"^\* gemini-2\.5-flash ", screen, re.MULTILINE)
    repl.type("/model gemini-2.5-pro")
    repl.wait_for("Model for this folder: gemini-2.5-pro")
    repl.type("hi")
    repl.wait_for("From pro.")
    assert "models/gemini-2.5-pro:" in emulator.requests(":streamGenerateContent")[-1].path
    repl.type("/model")
    screen = repl.wait_for(lambda s: s.count("this folder's model") == 2, "the list again")
    assert re.search(r"^\* gemini-2\.5-pro ", screen.split("From pro.")[1], re.MULTILINE)
    assert "not in this key's model list" not in screen


def test_a_model_missing_from_the_list_is_refused(repl: Tmux):
    """/model with a name the key's list lacks is refused with the closest names; not set."""
    repl.type("/model gemini-2.5-flsh")
    screen = repl.wait_for("is not a model this API key can use", "the refusal")
    assert "did you mean gemini-2.5-flash" in " ".join(screen.split())
    assert "Model for this folder: gemini-2.5-flsh" not in screen


def test_streaming_shows_text_before_the_reply_finished(repl: Tmux, emulator: Emulator):
    """With slow chunks, the first words are on screen while the usage line is not yet."""
    words = ["Streaming ", "arrives ", "piece ", "by ", "piece."]
    emulator.script({"chunks": words, "chunkDelay": 1.0})
    repl.type("stream please")
    screen = repl.wait_for("Streaming", "the first chunk")
    assert "turn 1" not in screen, "the reply was already complete: nothing streamed"
    screen = repl.wait_for("turn 1", "the end of the reply")
    assert "gemini> Streaming arrives piece by piece." in screen


def test_ctrl_c_stops_a_slow_reply_and_the_next_question_works(repl: Tmux, emulator: Emulator):
    """Ctrl-C mid-reply cancels upstream and says (stopped); the REPL goes on, history untouched."""
    slow = ["Once ", "upon ", "a ", "time ", "there ", "was ", "a ", "very ", "long ", "story."]
    emulator.script({"chunks": slow, "chunkDelay": 2.0}, {"reply": "Short answer."})
    repl.type("Tell me a long story")
    repl.wait_for("Once", "the first chunk")
    repl.keys("C-c")
    repl.wait_for("(stopped)")
    emulator.wait_for_event("disconnect")
    repl.type("Something short?")
    screen = repl.wait_for("Short answer.")
    assert EXITED not in screen
    body = emulator.requests(":streamGenerateContent")[-1].body
    assert isinstance(body, dict)
    assert len(body["contents"]) == 1, "the stopped turn must not be in the history"


def test_rate_limit_retry_shows_on_the_status_line(repl: Tmux, emulator: Emulator):
    """A 429 with a retry delay shows the daemon's progress report until the reply replaces it."""
    # Long enough for the poll to see the report, short enough not to slow the suite.
    emulator.script({"status": 429, "retryDelay": "1s"}, {"reply": "Worth the wait."})
    repl.type("hello?")
    repl.wait_for("retrying", "the work-done report")
    screen = repl.wait_for("turn 1", "the reply after the retry")
    assert "gemini> Worth the wait." in screen
    assert "retrying" not in screen, "the status line is cleared when the reply begins"


def test_thoughts_are_shown_before_the_reply(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """With --thoughts the thought summary streams first, then the reply on its own line."""
    emulator.script({"thought": "They want a greeting.", "chunks": ["Hi ", "there."]})
    tmux.start(f"{shlex.quote(str(GEMINI_CHAT))} --thoughts", server_env, workspace)
    tmux.wait_for(lambda s: s.rstrip().endswith("you>"), "the first prompt")
    tmux.type("greet me")
    screen = tmux.wait_for("turn 1")
    assert "gemini> They want a greeting.\nHi there.\n" in screen
    body = emulator.requests(":streamGenerateContent")[-1].body
    assert isinstance(body, dict)
    assert body["generationConfig"]["thinkingConfig"]["includeThoughts"] is True


def test_ctrl_c_at_the_prompt_clears_then_quits(repl: Tmux):
    """One Ctrl-C at the prompt drops the typed text; a second one in a row quits with 0."""
    repl.keys("-l", "half a thought")
    repl.keys("C-c")
    repl.wait_for("Ctrl-C again")
    repl.keys("C-c")
    repl.wait_for(f"{EXITED}0]", "a clean exit")


def test_ctrl_d_quits(repl: Tmux):
    """Ctrl-D at the prompt quits with status 0."""
    repl.keys("C-d")
    repl.wait_for(f"{EXITED}0]", "a clean exit")


def test_quit_command(repl: Tmux):
    """/quit leaves with status 0."""
    repl.type("/quit")
    repl.wait_for(f"{EXITED}0]", "a clean exit")


def test_help_lists_the_commands(repl: Tmux):
    """/help names every command (each one Tab completes), in lines that fit the 80-column
    pane (none wrapped by the terminal: the text before the next prompt has no line of 80)."""
    repl.type("/help")
    screen = repl.wait_for(lambda s: "(or Ctrl-D)" in s and s.rstrip().endswith("you>"))
    for name in COMMANDS:
        assert f"  {name} " in screen
    shown = screen.split("you> /help", 1)[1].rsplit("you>", 1)[0]
    assert max(len(line) for line in shown.splitlines()) < 80


def gated_server(tmp_path: Path, then: str) -> tuple[str, Path]:
    """A --server command that waits for a gate file to appear, then runs `then`; the gate."""
    gate = tmp_path / "gate"
    script = tmp_path / "gated-server"
    # Polls with a deadline (60 s) so a test that never opens the gate leaves nothing behind.
    script.write_text(
        "#!/bin/sh\n"
        f"i=0; while [ ! -e {shlex.quote(str(gate))} ] && [ $i -lt 1200 ]; do"
        " sleep 0.05; i=$((i+1)); done\n"
        f"{then}\n"
    )
    script.chmod(0o755)
    return f"{shlex.quote(str(GEMINI_CHAT))} --server {shlex.quote(str(script))}", gate


def test_the_prompt_does_not_wait_for_the_daemon(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path, tmp_path: Path
):
    """The banner and prompt show while the daemon is still starting; a question waits for it."""
    server = GEMINI_CHAT.with_name("gemini-chat-server")
    command, gate = gated_server(tmp_path, f'exec {shlex.quote(str(server))} "$@"')
    emulator.script({"reply": "Ready now."})
    tmux.start(command, server_env, workspace)
    tmux.wait_for(lambda s: s.rstrip().endswith("you>"), "the prompt, daemon held back")
    tmux.type("are you there?")
    tmux.wait_for("starting gemini-chat-server", "the question waiting for the daemon")
    gate.touch()
    screen = tmux.wait_for("turn 1", "the reply once the daemon is up")
    assert "gemini> Ready now." in screen


def test_a_daemon_failing_behind_the_prompt_is_explained_at_once(
    tmux: Tmux, server_env: dict[str, str], workspace: Path, tmp_path: Path
):
    """A daemon that dies while the user sits at the prompt: the reason shows, exit 1."""
    command, gate = gated_server(tmp_path, "echo 'store is locked' >&2; exit 3")
    tmux.start(command, server_env, workspace)
    tmux.wait_for(lambda s: s.rstrip().endswith("you>"), "the prompt, daemon held back")
    tmux.keys("-l", "half a question")
    gate.touch()
    screen = tmux.wait_for(f"{EXITED}1]", "the client giving up")
    assert "exited with status 3" in screen
    assert "store is locked" in screen


def test_a_tool_call_shows_a_dim_line_in_the_reply_and_in_history(repl: Tmux, emulator: Emulator):
    """`↳ read src/app.py` shows (dim) as the tool runs, before the answer; /history repeats it."""
    emulator.script(
        {"functionCall": {"name": "read_file", "args": {"path": "src/app.py"}}},
        {"reply": "It adds."},
    )
    repl.type("what does app.py do?")
    screen = repl.wait_for("turn 1")
    assert "  ↳ read src/app.py\ngemini> It adds.\n" in screen
    assert "\x1b[2m↳ read src/app.py" in repl.raw_screen()
    repl.type("/history")
    screen = repl.wait_for(lambda s: s.count("It adds.") == 2, "the turn in /history")
    assert "  ↳ read src/app.py\ngemini> It adds.\n" in screen.split("/history", 1)[1]


LONG = "Please remember this long detail about the project. " * 12  # about 150 tokens


def test_compaction_is_announced_and_shown_in_history(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """Past --setting compactThreshold of a small input limit the reply says how many exchanges
    were summarised; /history then opens with that line and the summary."""
    emulator.set_input_token_limit(1500)
    options = "--setting compactThreshold=0.5 --setting tools=false"
    tmux.start(f"{shlex.quote(str(GEMINI_CHAT))} {options}", server_env, workspace)
    tmux.wait_for(lambda s: s.rstrip().endswith("you>"), "the first prompt")
    line = re.compile(
        r"^  \((\d+) earlier exchanges? summarised to fit the context window\)$", re.M
    )
    for i in range(6):
        tmux.type(f"{i}: {LONG}")
        screen = tmux.wait_for(lambda s, n=i + 1: len(TURN_END.findall(s)) == n, f"reply {i + 1}")
        if line.search(screen):
            break
    else:
        pytest.fail(f"no compaction in six turns:\n{screen}")
    tmux.type("/history")
    screen = tmux.wait_for(lambda s: "/history" in s and s.rstrip().endswith("you>"))
    shown = screen.split("/history", 1)[1].strip("\n").splitlines()
    assert line.match(shown[0]), shown[0]
    assert shown[1].startswith("summary> ")


def test_thoughts_are_dimmed_in_history_and_counted_in_usage(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """--thoughts: the usage line counts thinking tokens (and the cost); /history shows the
    thoughts dimmed."""
    emulator.script({"thought": "They want a greeting.", "chunks": ["Hi ", "there."]})
    tmux.start(f"{shlex.quote(str(GEMINI_CHAT))} --thoughts", server_env, workspace)
    tmux.wait_for(lambda s: s.rstrip().endswith("you>"), "the first prompt")
    tmux.type("greet me")
    screen = tmux.wait_for("turn 1")
    assert re.search(f"\\d+ in · \\d+ thinking · \\d+ out{SEP}{COST}{SEP}turn 1", screen)
    tmux.type("/history")
    screen = tmux.wait_for(lambda s: s.count("Hi there.") == 2, "the turn in /history")
    assert "gemini> They want a greeting.\nHi there.\n" in screen.split("/history", 1)[1]
    assert "\x1b[2mThey want a greeting." in tmux.raw_screen().split("/history", 1)[1]


def test_the_folder_model_outlives_the_session_but_not_the_option(
    repl: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """/model NAME is remembered for the folder (a later one-shot uses it); --model overrides
    it for one session only."""
    repl.type("/model gemini-2.5-pro")
    repl.wait_for("Model for this folder: gemini-2.5-pro")
    repl.type("/quit")
    repl.wait_for(f"{EXITED}0]")
    emulator.script({"reply": "a"}, {"reply": "b"}, {"reply": "c"})
    for args in ([], ["--model", "gemini-2.5-flash-lite"], []):
        result = subprocess.run(
            [str(GEMINI_CHAT), *args, "which model?"],
            env=server_env,
            cwd=workspace,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    models = [r.path.split("/models/")[1].split(":")[0] for r in emulator.requests("enerate")]
    assert models == ["gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-2.5-pro"]
