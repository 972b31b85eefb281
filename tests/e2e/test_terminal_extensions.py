"""The terminal client and the protocol's extensions (docs/protocol.md section 6), one-shot mode:
tool calls, images, blocked turns and --setting, with the real daemon and the emulator."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from gemini_chat.emulator import Emulator

from .test_terminal import assert_no_key, gemini_chat, upstream_bodies

# A 1x1 PNG, as an image step of the emulator sends it.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()
IMAGE_OPTIONS = (
    "--model",
    "gemini-2.5-flash-image",
    "--setting",
    'generationConfig={"responseModalities": ["TEXT", "IMAGE"]}',
)
STREAMING = pytest.mark.parametrize("stream", [True, False], ids=["streamed", "no-stream"])


def stream_flag(stream: bool) -> tuple[str, ...]:
    """The command-line flag for a streamed or whole reply."""
    return () if stream else ("--no-stream",)


@STREAMING
def test_a_tool_call_is_announced_on_its_own_line(
    stream: bool, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """A read_file round prints one `↳ read src/app.py` line (stderr: not part of the reply)."""
    emulator.script(
        {"functionCall": {"name": "read_file", "args": {"path": "src/app.py"}}},
        {"reply": "It adds."},
    )
    result = gemini_chat(
        *stream_flag(stream), "what does app.py do?", env=server_env, cwd=workspace
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "It adds."
    assert result.stderr.splitlines().count("  ↳ read src/app.py") == 1
    assert "return a + b" in json.dumps(upstream_bodies(emulator)[-1]), "the tool's answer"
    assert_no_key(result)


@STREAMING
def test_an_image_in_the_reply_is_saved_and_its_path_printed(
    stream: bool, emulator: Emulator, server_env: dict[str, str], workspace: Path, data_dir: Path
):
    """Each image of the reply prints `image saved: PATH`; the file holds the image's bytes."""
    emulator.script({"image": {"mimeType": "image/png", "data": PNG}, "reply": "pic"})
    result = gemini_chat(
        *stream_flag(stream), *IMAGE_OPTIONS, "draw a dot", env=server_env, cwd=workspace
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pic"
    [path] = re.findall(r"^  image saved: (.+)$", result.stderr, re.MULTILINE)
    assert Path(path).read_bytes() == base64.b64decode(PNG)
    assert data_dir in Path(path).parents


def test_a_blocked_reply_names_the_category_and_the_setting(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """A reply stopped for SAFETY: exit 1, the daemon's message naming the category, and the
    --setting that would relax it."""
    emulator.script({"reply": "", "finishReason": "SAFETY"})
    result = gemini_chat("something risky", env=server_env, cwd=workspace)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Gemini blocked the reply (SAFETY: dangerous content" in result.stderr
    assert "--setting 'safetySettings=" in result.stderr
    assert "HARM_CATEGORY_DANGEROUS_CONTENT" in result.stderr
    assert "error:" not in result.stderr, "a refusal is not an error of ours"


def test_a_blocked_prompt_names_the_reason(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """A prompt blocked as PROHIBITED_CONTENT says so, and asks to rephrase."""
    emulator.script({"block": "PROHIBITED_CONTENT"})
    result = gemini_chat("something forbidden", env=server_env, cwd=workspace)
    assert result.returncode == 1
    assert "Gemini blocked the message (PROHIBITED_CONTENT)" in result.stderr
    assert "Rephrase" in result.stderr


def test_settings_from_the_command_line_reach_the_daemon(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """--setting KEY=JSON is an initialization option: here, a system instruction."""
    emulator.script({"reply": "Oui."})
    result = gemini_chat(
        "--setting", 'systemInstruction="Answer in French."', "hi", env=server_env, cwd=workspace
    )
    assert result.returncode == 0, result.stderr
    body = upstream_bodies(emulator)[-1]
    assert json.dumps(body["systemInstruction"]).count("Answer in French.") == 1


def test_a_bad_setting_is_reported_by_the_daemon(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """A setting the daemon refuses is shown (its window/showMessage); the turn still runs."""
    emulator.script({"reply": "Fine."})
    result = gemini_chat("--setting", 'maxToolCalls="many"', "hi", env=server_env, cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "gemini-chat-server warning:" in result.stderr
    assert "maxToolCalls" in result.stderr


def test_the_api_key_is_refused_as_a_setting(server_env: dict[str, str], workspace: Path):
    """--setting apiKey=... would put the key in the process list: refused, exit 2."""
    result = gemini_chat("--setting", "apiKey=abc123", "hi", env=server_env, cwd=workspace)
    assert result.returncode == 2
    assert "GEMINI_API_KEY" in result.stderr
    assert "abc123" not in result.stderr
