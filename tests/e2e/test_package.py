"""Install without cloning: the wheel and the sdist carry everything the three commands need."""

from __future__ import annotations

import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, tool


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel and an sdist built from the working tree with `uv build`."""
    out = tmp_path_factory.mktemp("dist")
    uv = tool("uv", "run scripts/ensure-uv.sh (make setup does)")
    subprocess.run([uv, "build", "--out-dir", str(out)], cwd=REPO, check=True, capture_output=True)
    return out


def test_the_wheel_installs_the_three_commands(dist: Path, tmp_path: Path) -> None:
    """`uv tool install` of the built wheel puts gemini-chat, gemini-chat-server and
    gemini-chat-emulator on PATH, and each runs from there: the daemon answers --version, the
    emulator finds its bundled API data (it lists models), the terminal client prints its help."""
    uv = tool("uv", "run scripts/ensure-uv.sh (make setup does)")
    wheel = next(dist.glob("*.whl"))
    env = {
        **os.environ,
        "UV_TOOL_DIR": str(tmp_path / "tools"),
        "UV_TOOL_BIN_DIR": str(tmp_path / "bin"),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    subprocess.run([uv, "tool", "install", str(wheel)], env=env, check=True, capture_output=True)
    bin_dir = tmp_path / "bin"
    assert sorted(p.name for p in bin_dir.iterdir()) == [
        "gemini-chat",
        "gemini-chat-emulator",
        "gemini-chat-server",
    ]
    version = subprocess.run(
        [bin_dir / "gemini-chat-server", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("gemini-chat-server ")
    helped = subprocess.run(
        [bin_dir / "gemini-chat", "--help"], capture_output=True, text=True, check=True
    )
    assert "usage: gemini-chat" in helped.stdout
    python = next((tmp_path / "tools").glob("gemini-chat/bin/python"))
    probe = (
        "from gemini_chat.emulator import Emulator\n"
        "import httpx\n"
        "e = Emulator(); url = e.start()\n"
        "r = httpx.get(url + '/v1beta/models', headers={'x-goog-api-key': 'emulator-key'})\n"
        "print(len(r.json()['models'])); e.stop()\n"
    )
    listed = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    assert int(listed.stdout) > 10


def test_the_packages_describe_themselves(dist: Path) -> None:
    """The wheel's metadata has a README that renders on a package index (Markdown, no links
    into the repository), classifiers and the license; the sdist holds the package, not the
    repository's tests or clients."""
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith("METADATA"))
        text = z.read(meta).decode()
        assert "gemini_chat/py.typed" in z.namelist()
    assert "Description-Content-Type: text/markdown" in text
    assert "Classifier: License :: OSI Approved :: MIT License" in text
    assert "uv tool install gemini-chat" in text
    assert "](docs/" not in text and "](editor-clients" not in text
    with tarfile.open(next(dist.glob("*.tar.gz"))) as t:
        names = t.getnames()
    assert any(n.endswith("gemini_chat/cli.py") for n in names)
    assert not any("/tests/" in n or "/editor-clients/" in n for n in names)
