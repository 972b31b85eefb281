"""The VS Code client: its Node suites (units, protocol, webview, real VS Code) run from pytest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import EMULATOR_KEY, REPO, tool
from gemini_chat.emulator import Emulator

EXT = REPO / "editor-clients" / "vscode"
ARTIFACTS = REPO / "test-artifacts" / "vscode"
SETUP_HINT = "run `make setup-clients` (scripts/setup-vscode-tests.sh)"
CODE_SERVER_VERSION = "4.100.3"
VSCE_FLAGS = ["--no-dependencies", "--allow-missing-repository", "--no-rewrite-relative-links"]
PYTHON = Path(sys.base_prefix) / "bin" / "python3"
"""The Python these tests run on, outside any venv: the "user's Python" of the venv install."""
UV_HINT = "run scripts/ensure-uv.sh (make setup does)"


def _code_server() -> str:
    """The cached code-server the setup script installs."""
    cache = Path(os.environ.get("GEMINI_CHAT_CACHE", Path.home() / ".cache" / "gemini-chat"))
    path = cache / f"code-server-{CODE_SERVER_VERSION}" / "node_modules" / ".bin" / "code-server"
    if not path.exists():
        pytest.fail(
            f"code-server {CODE_SERVER_VERSION} is not installed: {SETUP_HINT}", pytrace=False
        )
    return str(path)


@pytest.fixture(scope="module")
def built() -> str:
    """Node, the extension's packages, and a fresh build of the extension; returns node's path."""
    node = tool("node", "apt-get install nodejs (Node 20+)")
    if not (EXT / "node_modules" / ".package-lock.json").exists():
        pytest.fail(
            f"the VS Code extension's npm packages are missing: {SETUP_HINT}", pytrace=False
        )
    _run([node, "scripts/build.mjs"], dict(os.environ), timeout=120)
    return node


def _run(argv: list[str], env: dict[str, str], timeout: float) -> str:
    """Run a Node command in the extension folder and return its output; fail with the whole
    output on error."""
    proc = subprocess.run(
        argv, cwd=EXT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = f"{proc.stdout}\n{proc.stderr}"
    if proc.returncode != 0:
        shown = output.replace(EMULATOR_KEY, "<key>")
        pytest.fail(
            f"{' '.join(argv[1:])} failed (exit {proc.returncode}):\n{shown}", pytrace=False
        )
    assert EMULATOR_KEY not in output, "the API key appeared in the Node tests' output"
    return output


def _node_test(node: str, files: tuple[str, ...], env: dict[str, str], timeout: float) -> None:
    """`node --test` over `files`, one file at a time (each real VS Code takes a core); fails
    unless tests ran and every one passed (none skipped, none left as todo)."""
    argv = [node, "--test", "--test-concurrency=1", "--test-reporter=spec", *files]
    output = _run(argv, env, timeout)
    counts = dict(re.findall(r"^ℹ (tests|pass) (\d+)$", output, re.M))
    ran, passed = int(counts.get("tests", "0")), int(counts.get("pass", "-1"))
    assert ran > 0 and passed == ran, f"{' '.join(files)}: not every test ran and passed:\n{output}"


def _node_env(server_env: dict[str, str], emulator: Emulator, tmp_path: Path) -> dict[str, str]:
    env = dict(server_env)
    env.update(
        EMULATOR_URL=emulator.url,
        GEMINI_CHAT_SERVER=str(REPO / ".venv" / "bin" / "gemini-chat-server"),
        GEMINI_CHAT_TEST_TMP=str(tmp_path),
        GEMINI_CHAT_ARTIFACTS=str(ARTIFACTS),
        GEMINI_CHAT_SCREENSHOTS=str(EXT / "media" / "screenshots"),
        GEMINI_CHAT_UV=tool("uv", UV_HINT),
        GEMINI_CHAT_PYTHON=str(PYTHON),
    )
    return env


def test_host_logic_units(built: str) -> None:
    """Without VS Code or a daemon: Insert's re-indenting (a method at a blank line of a class
    body takes the body's indent; tabs; text after the cursor), replaced lines keeping indent and
    line breaks, the whole-file test, the changed span, attachment names, a storage error's text;
    `/image`'s options and refusals, which models edit images, the Imagen label; money (two
    decimals from a cent, else two significant digits), the usage line (cached tokens, images, no
    cost for an unpriced model); the rate limit in words (per-minute, daily, lifted, unknown);
    which conversation change replaces the one shown (by id); the context meter's size (the last
    chat reply's prompt plus reply, Imagen's images since counted apart, unknown after a summary;
    an image result, which has `text` too, never taken for a chat reply); where the server is
    found (the setting alone when set, else PATH, the private venv, uv's bin folder) and how it
    is installed (uv, else pipx, else a venv with Python 3.11+, else what to do)."""
    files = ("test/units.test.mjs", "test/units-more.test.mjs")
    _node_test(built, files, dict(os.environ), timeout=60)


def test_protocol_layer_against_real_daemon(
    built: str, server_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    """GeminiApi over vscode-jsonrpc against real daemons: streaming, stop, errors, tools,
    thoughts, images, setModel (null: package.json's default model); with a second daemon on the
    folder: turnProgress started/streaming (whole text)/finished then conversationChanged, no
    mirror of a daemon's own turn; conversations listed, opened, renamed, exported, deleted (an
    unknown id: -32602 naming id); countTokens of a draft in one call; redacted secrets;
    generateImage (images as progress and in the result, :predict's parameters, the per-image
    cost, history's imagen marker and conversation id); a JSON turn (responseMimeType and the
    converted schema sent, the check in the result and history)."""
    env = _node_env(server_env, emulator, tmp_path)
    files = ("test/protocol.test.mjs", "test/protocol-live.test.mjs")
    _node_test(built, files, env, timeout=150)


def _chromium() -> str:
    """Debian's Chromium, which playwright-core drives."""
    return tool("chromium", f"apt-get install chromium, or {SETUP_HINT}")


def test_webview_in_headless_chromium(built: str, tmp_path: Path) -> None:
    """The webview on VS Code's default styles: streaming answers and thoughts, tools, images,
    compaction, inert HTML; another editor's turn (marked, whole text replacing), an interrupted
    turn's Send again (an image request's Draw again), Enter queueing while busy, masked secrets,
    Not saved, the retry countdown, chips (size, thumbnail, remove), the active file, paste, drop,
    `#`, no band behind code lines and sideways scrolling, All models…, the draft told after a
    pause, the meter's click; an Imagen request (its label, images, filtered reason, cost) and
    "Drawing 1 image…" in place of a text cursor; a JSON reply pretty-printed and highlighted
    with its mismatches listed (or valid, or not JSON), streaming into a json block; JSON mode's
    toggle and schema chip; /image's hint and refused text put back; tokens only for an unpriced
    model."""
    env = dict(os.environ)
    env.update(
        GEMINI_CHAT_CHROMIUM=_chromium(),
        GEMINI_CHAT_ARTIFACTS=str(ARTIFACTS),
        GEMINI_CHAT_SCREENSHOTS=str(EXT / "media" / "screenshots"),
    )
    files = ("test/webview.test.mjs", "test/webview-features.test.mjs")
    files += ("test/webview-structured.test.mjs",)
    _node_test(built, files, env, timeout=150)


@pytest.fixture(scope="module")
def wheel(built: str) -> Path:
    """The daemon's wheel built by the package step (scripts/wheel.mjs) into wheel/."""
    _run([built, "scripts/wheel.mjs"], dict(os.environ), timeout=120)
    return next((EXT / "wheel").glob("*.whl"))


@pytest.fixture(scope="module")
def vscode_env(built: str, wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The extension packaged with vsce (as `make vsix` builds it, the daemon's wheel inside) and
    installed once into an extensions folder every real VS Code of the module loads."""
    out = tmp_path_factory.mktemp("vsix")
    vsix = out / "gemini-chat.vsix"
    env = dict(os.environ)
    _run([built, "scripts/build.mjs", "--production"], env, timeout=120)
    vsce = str(EXT / "node_modules" / "@vscode" / "vsce" / "vsce")
    _run([built, vsce, "package", *VSCE_FLAGS, "--out", str(vsix)], env, timeout=120)
    with zipfile.ZipFile(vsix) as z:
        assert f"extension/wheel/{wheel.name}" in z.namelist(), "the .vsix carries the wheel"
    # Leave a development build behind for the other suites.
    _run([built, "scripts/build.mjs"], env, timeout=120)
    extensions = out / "extensions"
    code_server = _code_server()
    install = [code_server, "--user-data-dir", str(out / "profile")]
    install += ["--extensions-dir", str(extensions), "--install-extension", str(vsix)]
    proc = subprocess.run(
        install, env={**env, "VSCODE_CLI": "1"}, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"install-extension failed:\n{proc.stdout}\n{proc.stderr}"
    return {
        "CODE_SERVER": code_server,
        "GEMINI_CHAT_VSIX": str(vsix),
        "GEMINI_CHAT_EXTENSIONS": str(extensions),
        "GEMINI_CHAT_CHROMIUM": _chromium(),
    }


Suite = Callable[[str], None]
"""Runs one suite file of test/ (e.g. "e2e.test.mjs")."""

TEARDOWN = 20
"""Seconds of a test's timeout kept for the suite's teardown: its own budget is the rest."""


@pytest.fixture
def in_code_server(
    request: pytest.FixtureRequest,
    built: str,
    vscode_env: dict[str, str],
    server_env: dict[str, str],
    emulator: Emulator,
    tmp_path: Path,
) -> Suite:
    """Runs a suite in real VS Code (the packaged extension) against the emulator, within the
    test's timeout mark less TEARDOWN."""
    marker = request.node.get_closest_marker("timeout")
    assert marker is not None, f"{request.node.name} needs a @pytest.mark.timeout"
    budget = float(marker.args[0]) - TEARDOWN

    def run(file: str) -> None:
        env = _node_env(server_env, emulator, tmp_path) | vscode_env
        _node_test(built, (f"test/{file}",), env, timeout=budget)

    return run


@pytest.mark.timeout(300)
def test_chatting_in_code_server(in_code_server: Suite) -> None:
    """Real VS Code, one window: the model in view and status bar, Ctrl+Alt+C focusing the chat,
    a streamed reply costing one upstream call with the meter from its usage, a tool round,
    thoughts and an image, a blocked message, sticky/All models…/a refused mistyped model, the
    rate-limit countdown, Stop, hide/show, New Chat. Without a key (a second window): the message
    names Set API Key, which keeps and resends the question (wrong key, then the right one). A
    missing server (a third)."""
    in_code_server("e2e.test.mjs")


@pytest.mark.timeout(200)
def test_code_in_and_out_in_code_server(in_code_server: Suite) -> None:
    """Real VS Code: Ask about Selection sends the lines; Insert puts a method into a class body
    at its indent (saved file compared); Apply opens a diff of the asked lines, writes nothing
    until Accept, then the file has it and Undo takes it back; Discard writes nothing."""
    in_code_server("e2e-code.test.mjs")


@pytest.mark.timeout(200)
def test_attachments_in_code_server(in_code_server: Suite) -> None:
    """Real VS Code: the file picker (an image), a pasted image, a file dropped as a uri-list and
    one picked after `#` show as chips and reach the emulator as inlineData / file text parts in
    order; the active editor's file is attached with one click."""
    in_code_server("e2e-attach.test.mjs")


@pytest.mark.timeout(200)
def test_live_conversation_in_code_server(in_code_server: Suite) -> None:
    """Real VS Code plus a second daemon on the folder: its turn appears and streams marked as
    another editor's and stays once stored; hidden then shown mid-turn, the view catches up;
    its generateImage (2, 16:9), while :predict is held, shows its prompt under its Imagen line
    and "Drawing 2 images…" with no text cursor, then its two images and "2 images";
    kill -9 of that daemon mid-turn leaves the interrupted turn with Send again, which asks it
    here; killed while Imagen draws, its image request shows interrupted under its Imagen line
    with Draw again, which asks :predict here (prompt, count, shape, model; no generateContent)
    and shows the images; Enter while a reply streams queues; the other's reset and model show
    at once."""
    in_code_server("e2e-live.test.mjs")


@pytest.mark.timeout(200)
def test_conversation_history_in_code_server(in_code_server: Suite) -> None:
    """Real VS Code: History lists the folder's conversations (title, when, turns) and opens the
    one picked; its row buttons rename and delete (confirmed); Export Chat… writes the Markdown
    through the save dialog and opens it."""
    in_code_server("e2e-history.test.mjs")


@pytest.mark.timeout(200)
def test_multi_root_folders_in_code_server(in_code_server: Suite) -> None:
    """Real VS Code on a .code-workspace of two folders (alpha, beta; own GEMINI.md each), plus
    a second daemon on both; each test with both conversations new: with alpha.py active a
    question goes to alpha's conversation (its GEMINI.md upstream, only alpha's history has it)
    and the header says alpha, following the active file; beta.py opened shows beta's own empty
    conversation, whose question sends no alpha turn; back and forth each folder shows only its
    turns; beta.py opened while alpha's reply streams switches once the reply ends (stored in
    alpha), and the next question goes to beta; the other daemon's turn on alpha does not show
    while beta is shown (its beta turn does, live) and is there back on alpha, where its next
    turn streams live; with no editor open the folder button picks beta, shown with a pin, asked,
    kept while alpha.py is active; picking alpha there follows the editor again."""
    in_code_server("e2e-folders.test.mjs")


@pytest.mark.timeout(300)
def test_images_json_cost_in_code_server(in_code_server: Suite) -> None:
    """Real VS Code, one window: `/image -n 2 --aspect 16:9 PROMPT` says "Drawing 2 images…"
    (no text cursor) while :predict is held, reaches it with those parameters and shows both
    images (Imagen's size for 16:9) with the prompt's Imagen line and "2 images · $0.08 reply,
    $0.08 conversation"; Gemini: Generate Image… (prompt, then 3:4) adds one more; another
    daemon's generateImage shows marked as another editor's, with its image. The context meter
    after a chat reply ("324 / 1M"), then /image, another daemon's image and the view reopened:
    every state it shows is the reply's number, then that number marked "+" (its tooltip: 2
    images drawn since, not counted), never hidden or 0; the upstream calls are one
    streamGenerateContent and two :predict (no countTokens); New Chat shows "0 / 1M". With
    gemini-2.5-flash-image: a pasted picture and "make
    the sky blue" send the picture, responseModalities TEXT+IMAGE and no thinkingConfig, and
    the edited image shows; the next turn sends that image back in the history and shows the
    new one. JSON mode: the toggle, the chip's picker choosing schemas/person.schema.json, the
    request's responseMimeType and converted responseSchema, the reply pretty-printed and
    highlighted with "Does not match …: 1 problem" and the place; a valid one says so; off
    again, text. Two replies' cost lines equal the daemon's costs (money format), the second
    total adding both. A used-up daily quota: the status bar says "daily quota · lifts at"."""
    in_code_server("e2e-structured.test.mjs")


@pytest.mark.timeout(300)
def test_install_offer_in_code_server(in_code_server: Suite) -> None:
    """Real VS Code with the packaged .vsix, PATH holding only uv and the system's /usr/bin and
    /bin, a fresh HOME, no serverPath set: the "was not found" notification offers "Install it
    now (uv tool install)?"; taking it shows "Installing gemini-chat-server" progress, installs
    the bundled wheel into the temporary UV_TOOL_DIR / UV_TOOL_BIN_DIR (nothing there before),
    says it is installed; a message is then answered by the daemon running from that bin
    folder."""
    in_code_server("e2e-install.test.mjs")


@pytest.mark.timeout(300)
def test_server_install_into_a_private_venv(
    built: str, wheel: Path, server_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    """Without VS Code, for real: with only Python 3.11+ on PATH the extension's installer
    plans a private venv, makes it and pip-installs the bundled wheel, telling pip's lines; the
    server is then found in the venv and answers --version. A failing step is reported with its
    program, exit code and last line."""
    env = _node_env(server_env, emulator, tmp_path)
    _node_test(built, ("test/install.test.mjs",), env, timeout=280)
