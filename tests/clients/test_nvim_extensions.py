"""The Neovim plugin and the protocol's extensions (docs/protocol.md section 6): thoughts,
safety blocks, tool calls, compaction, images, the sticky model and GEMINI.md, in real
Neovim 0.11 against the real daemon and the Gemini API emulator."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gemini_chat.emulator import Emulator

from .nvim_helpers import NvimChat, generate_bodies, start_nvim

USAGE = re.compile(r"_tokens: (\d+) prompt")

# A 1x1 PNG, as an image step of the emulator sends it.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


ROOT = "require('gemini_chat.client').workspace_root()"


@contextmanager
def reopened(
    server_env: dict[str, str], workspace: Path, tmp_path: Path, name: str
) -> Iterator[NvimChat]:
    """A second Neovim (and daemon) on the same store, with the chat open and its history in."""
    with start_nvim(server_env, workspace, tmp_path / name) as chat:
        chat.cmd("GeminiChat")
        chat.wait(f"require('gemini_chat.session').sessions[{ROOT}].loaded", "the history")
        yield chat


def test_show_thoughts_asks_for_them_and_folds_them(nvim: NvimChat, emulator: Emulator) -> None:
    """With show_thoughts, the turn asks for thoughts; they stream, then fold above the answer."""
    nvim.lua("require('gemini_chat').setup({ show_thoughts = true })")
    emulator.script(
        {
            "thought": "The user wants a sum.\n\nI will explain add().",
            "chunks": ["It ", "adds."],
            "chunkDelay": 0.3,
        }
    )
    nvim.cmd("GeminiChat what does add do?")
    nvim.wait_text("> [!thought]- Thinking…")  # the thought block shows while it streams
    nvim.wait_text("_tokens:")
    config = generate_bodies(emulator)[-1]["generationConfig"]
    assert config["thinkingConfig"] == {"includeThoughts": True}
    text = nvim.chat_text()
    assert (
        "## Gemini\n> [!thought]- Thoughts\n> The user wants a sum.\n>\n"
        "> I will explain add().\n\nIt adds.\n" in text
    )
    header = nvim.line_of("> [!thought]- Thoughts")
    assert nvim.fold_closed("> [!thought]- Thoughts") == header
    assert nvim.fold_closed("> I will explain add().") == header
    assert nvim.fold_closed("It adds.") == -1
    usage = text.split("\n")[nvim.line_of("_tokens:") - 1]
    assert " thinking · " in usage
    # A window that shows the chat again gets the block folded again.
    nvim.cmd("close")
    nvim.cmd("GeminiChat")
    assert nvim.fold_closed("> I will explain add().") == header


def test_thoughts_off_by_default(nvim: NvimChat, emulator: Emulator) -> None:
    """Without show_thoughts, no thinkingConfig goes upstream and no thought block shows."""
    emulator.script({"reply": "Plain."})
    nvim.cmd("GeminiChat hi")
    nvim.wait_text("_tokens:")
    assert "thinkingConfig" not in generate_bodies(emulator)[-1].get("generationConfig", {})
    assert "[!thought]" not in nvim.chat_text()


def test_thoughts_from_history_are_folded_after_a_restart(
    nvim: NvimChat,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    tmp_path: Path,
) -> None:
    """A reopened chat shows the stored thoughts folded, the answer open."""
    nvim.lua("require('gemini_chat').setup({ show_thoughts = true })")
    emulator.script({"thought": "Thinking about sums.", "reply": "It adds."})
    nvim.cmd("GeminiChat what does add do?")
    nvim.wait_text("_tokens:")
    with reopened(server_env, workspace, tmp_path, "nvim2") as again:
        again.wait_text("It adds.")
        assert "## Gemini\n> [!thought]- Thoughts\n> Thinking about sums.\n\nIt adds." in (
            again.chat_text()
        )
        header = again.line_of("> [!thought]- Thoughts")
        assert again.fold_closed("> Thinking about sums.") == header
        assert again.fold_closed("It adds.") == -1


def test_blocked_prompt_warns_with_its_reason(nvim: NvimChat, emulator: Emulator) -> None:
    """A blocked prompt is a WARN naming the block reason, and a note in the reply."""
    emulator.script({"block": "PROHIBITED_CONTENT"})
    nvim.cmd("GeminiChat something forbidden")
    note = nvim.wait_note("PROHIBITED_CONTENT")
    assert note["level"] == 3  # vim.log.levels.WARN
    nvim.wait_text("**Blocked:**")
    assert "PROHIBITED_CONTENT" in nvim.chat_text()
    nvim.wait_idle()
    assert nvim.input_text() == "something forbidden"


def test_blocked_reply_names_the_categories(nvim: NvimChat, emulator: Emulator) -> None:
    """A reply stopped for SAFETY names the harm category, whole, at WARN."""
    emulator.script({"reply": "", "finishReason": "SAFETY"})
    nvim.cmd("GeminiChat something risky")
    note = nvim.wait_note("SAFETY")
    assert note["level"] == 3
    assert "dangerous content" in note["msg"].lower()
    nvim.wait_text("**Blocked:**")
    assert "dangerous content" in nvim.chat_text()


def test_tool_call_shows_a_tool_line_and_the_final_reply(
    nvim: NvimChat,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    tmp_path: Path,
) -> None:
    """A read_file round shows one dim tool line, then the answer; the history shows it too."""
    emulator.script(
        {"functionCall": {"name": "read_file", "args": {"path": "src/app.py"}}},
        {"reply": "It adds."},
    )
    nvim.cmd("GeminiChat what does app.py do?")
    nvim.wait_text("_tokens:")
    assert "## Gemini\n🔧 read src/app.py\n\nIt adds.\n" in nvim.chat_text()
    assert nvim.line_hl("🔧 read src/app.py") == "GeminiChatTool"
    # The file went upstream as the tool's answer.
    assert "return a + b" in json.dumps(generate_bodies(emulator)[-1])
    with reopened(server_env, workspace, tmp_path, "nvim2") as again:
        again.wait_text("It adds.")
        assert "## Gemini\n🔧 read src/app.py\n\nIt adds.\n" in again.chat_text()


def test_compaction_shows_a_line_and_a_folded_summary(
    server_env: dict[str, str], workspace: Path, tmp_path: Path, emulator: Emulator
) -> None:
    """Past compactThreshold of a small input limit, older exchanges are summarised: the reply
    says so, and a reopened chat shows the line with the summary folded under it."""
    settings = "require('gemini_chat').setup({ settings = { compactThreshold = 0.5 } })"
    # Three exchanges stay under half of 1700 tokens (about 710 with the third message); the
    # long fourth message passes it, and the whole turn, or a summary, still fits.
    emulator.set_input_token_limit(1700)
    with start_nvim(server_env, workspace, tmp_path / "nvim") as nvim:
        nvim.lua(settings)
        for i in range(3):
            emulator.script({"reply": f"Answer {i}: " + "words " * 60})
            nvim.cmd(f"GeminiChat question {i} " + "padding " * 40)
            nvim.wait_text(f"Answer {i}:")
            nvim.wait_idle()
        assert "summarised" not in nvim.chat_text()
        prompt = int(USAGE.findall(nvim.chat_text())[-1])
        assert prompt < 850, "the emulator's token counts changed: adjust the limit"
        nvim.cmd("GeminiChat one more " + "padding " * 150)
        nvim.wait_text("summarised to fit the context window —", timeout=30)
        nvim.wait_idle()
        assert "**Error:**" not in nvim.chat_text()
    with reopened(server_env, workspace, tmp_path, "nvim2") as again:
        line = next(x for x in again.chat_text().split("\n") if "summarised to fit" in x)
        assert line.startswith("— ") and "earlier exchange" in line
        header = again.line_of("> [!summary]- Summary of ")
        assert header == again.line_of("summarised to fit") + 1
        assert again.fold_closed("> [!summary]- Summary of ") == header


def test_image_in_a_reply_shows_its_path(
    nvim: NvimChat, emulator: Emulator, data_dir: Path
) -> None:
    """An image part of the reply is saved by the daemon and shown as a Markdown image line."""
    nvim.lua(
        "require('gemini_chat').setup({ model = 'gemini-2.5-flash-image', settings = {"
        " generationConfig = { responseModalities = { 'TEXT', 'IMAGE' } } } })"
    )
    emulator.script({"reply": "Here is a dot.", "image": {"mimeType": "image/png", "data": PNG}})
    nvim.cmd("GeminiChat draw a dot")
    nvim.wait_text("_tokens:")
    text = nvim.chat_text()
    assert "Here is a dot.\n\n![image](" in text
    line = next(x for x in text.split("\n") if x.startswith("![image]("))
    path = Path(line.removeprefix("![image](").removesuffix(")").strip("<>"))
    assert path.is_file() and path.read_bytes() == base64.b64decode(PNG)
    assert data_dir in path.parents


def test_model_choice_sticks_to_the_workspace_across_restarts(
    server_env: dict[str, str], workspace: Path, tmp_path: Path, emulator: Emulator
) -> None:
    """:GeminiChatModel NAME is remembered for the folder: a new Neovim shows it in the winbar
    and its next turn goes to that model."""
    with start_nvim(server_env, workspace, tmp_path / "nvim") as nvim:
        nvim.cmd("GeminiChatModel gemini-2.5-pro")
        nvim.wait_note("model gemini-2.5-pro")
    with reopened(server_env, workspace, tmp_path, "nvim2") as again:
        again.wait_winbar("gemini-2.5-pro")
        emulator.script({"reply": "Pro here."})
        again.cmd("GeminiChat which model?")
        again.wait_text("Pro here.")
        again.wait_text("_tokens:")
        assert " · gemini-2.5-pro · $" in again.chat_text()
    assert "/models/gemini-2.5-pro:" in emulator.requests("enerateContent")[-1].path


def test_forgetting_the_model_goes_back_to_the_default(nvim: NvimChat, emulator: Emulator) -> None:
    """:GeminiChatModel! drops the workspace's model: the next turn uses the setting's."""
    nvim.cmd("GeminiChat")
    nvim.cmd("GeminiChatModel gemini-2.5-pro")
    nvim.wait_note("model gemini-2.5-pro")
    assert "gemini-2.5-pro" in nvim.winbar()
    nvim.cmd("GeminiChatModel!")
    nvim.wait_note("uses the default model again")
    nvim.wait_winbar("gemini-2.5-flash")
    emulator.script({"reply": "Flash here."})
    nvim.cmd("GeminiChat which model?")
    nvim.wait_text("Flash here.")
    assert "/models/gemini-2.5-flash:" in emulator.requests("enerateContent")[-1].path


def test_checkhealth_lists_the_context_file(nvim: NvimChat, workspace: Path) -> None:
    """:checkhealth gemini_chat names the workspace's GEMINI.md (from gemini/status)."""
    (workspace / "GEMINI.md").write_text("Answer in French.\n")
    nvim.cmd("checkhealth gemini_chat")
    report = "\n".join(nvim.nvim.current.buffer[:])
    assert f"context file: {(workspace / 'GEMINI.md').resolve()}" in report
    assert "ERROR" not in report


def test_checkhealth_says_when_there_is_no_context_file(nvim: NvimChat) -> None:
    """Without GEMINI.md, :checkhealth says none is used and how to add one."""
    nvim.cmd("checkhealth gemini_chat")
    report = "\n".join(nvim.nvim.current.buffer[:])
    assert "context files: none" in report


def test_typing_while_thoughts_fold_keeps_the_draft(nvim: NvimChat, emulator: Emulator) -> None:
    """Insert mode in the input area while the thoughts fold and the reply finishes: the typed
    draft, the cursor's line and the mode are kept."""
    nvim.lua("require('gemini_chat').setup({ show_thoughts = true })")
    emulator.script({"thought": "Hmm.", "chunks": ["Done ", "now."], "chunkDelay": 0.5})
    nvim.cmd("GeminiChat go")
    nvim.wait_text("> [!thought]- Thinking…")
    nvim.nvim.input("Sa draft")
    nvim.wait_text("_tokens:")
    nvim.nvim.input(" more")
    nvim.wait(
        "require('gemini_chat.input').text(require('gemini_chat.session').sessions["
        f"{ROOT}]) == 'a draft more'",
        "the whole draft in the input area",
    )
    assert nvim.lua("return vim.api.nvim_get_mode().mode") == "i"
    assert nvim.fold_closed("> Hmm.") == nvim.line_of("> [!thought]- Thoughts")
