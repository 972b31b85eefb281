"""The VS Code client: its Node test suites (protocol, webview, real VS Code) run from pytest."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import EMULATOR_KEY, REPO, tool
from gemini_chat.emulator import Emulator

EXT = REPO / "editor-clients" / "vscode"
ARTIFACTS = REPO / "test-artifacts" / "vscode"
SETUP_HINT = "run `make setup-clients` (scripts/setup-vscode-tests.sh)"
CODE_SERVER_VERSION = "4.100.3"
VSCE_FLAGS = ["--no-dependencies", "--allow-missing-repository", "--no-rewrite-relative-links"]


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


def _run(argv: list[str], env: dict[str, str], timeout: float) -> None:
    """Run a Node command in the extension folder; fail with its whole output on error."""
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


def _node_env(server_env: dict[str, str], emulator: Emulator, tmp_path: Path) -> dict[str, str]:
    env = dict(server_env)
    env.update(
        EMULATOR_URL=emulator.url,
        GEMINI_CHAT_SERVER=str(REPO / ".venv" / "bin" / "gemini-chat-server"),
        GEMINI_CHAT_TEST_TMP=str(tmp_path),
        GEMINI_CHAT_ARTIFACTS=str(ARTIFACTS),
        GEMINI_CHAT_SCREENSHOTS=str(EXT / "media" / "screenshots"),
    )
    return env


def test_protocol_layer_against_real_daemon(
    built: str, server_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    """GeminiApi over vscode-jsonrpc: streaming, stop, errors, tools, thoughts, images, setModel
    (null: the default model package.json contributes)."""
    env = _node_env(server_env, emulator, tmp_path)
    _run([built, "--test", "--test-reporter=spec", "test/protocol.test.mjs"], env, timeout=110)


def _chromium() -> str:
    """Debian's Chromium, which playwright-core drives."""
    return tool("chromium", f"apt-get install chromium, or {SETUP_HINT}")


def test_webview_in_headless_chromium(built: str, tmp_path: Path) -> None:
    """The webview streams answers and thoughts, shows tools, images, compaction; inert HTML."""
    env = dict(os.environ)
    env.update(
        GEMINI_CHAT_CHROMIUM=_chromium(),
        GEMINI_CHAT_ARTIFACTS=str(ARTIFACTS),
        GEMINI_CHAT_SCREENSHOTS=str(EXT / "media" / "screenshots"),
    )
    _run([built, "--test", "--test-reporter=spec", "test/webview.test.mjs"], env, timeout=110)


@pytest.fixture(scope="module")
def vsix(built: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension packaged with vsce, as `make vsix` builds it."""
    out = tmp_path_factory.mktemp("vsix") / "gemini-chat.vsix"
    env = dict(os.environ)
    _run([built, "scripts/build.mjs", "--production"], env, timeout=120)
    vsce = str(EXT / "node_modules" / "@vscode" / "vsce" / "vsce")
    _run([built, vsce, "package", *VSCE_FLAGS, "--out", str(out)], env, timeout=120)
    # Leave a development build behind for the other suites.
    _run([built, "scripts/build.mjs"], env, timeout=120)
    return out


# Each of the 13 tests starts a VS Code of its own (about 8 s each on 2 cores, more when busy).
@pytest.mark.timeout(600)
def test_end_to_end_in_code_server(
    built: str, vsix: Path, server_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    """In real VS Code, each test in a fresh window: replies, tools, thoughts, images, safety,
    sticky model, selection, stop, new chat, API key, missing server."""
    env = _node_env(server_env, emulator, tmp_path)
    env.update(
        CODE_SERVER=_code_server(), GEMINI_CHAT_VSIX=str(vsix), GEMINI_CHAT_CHROMIUM=_chromium()
    )
    _run([built, "--test", "--test-reporter=spec", "test/e2e.test.mjs"], env, timeout=560)
