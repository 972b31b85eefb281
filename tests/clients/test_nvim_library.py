"""The conversations of a folder in real Neovim 0.11 (against the real daemon and the emulator):
:GeminiChatHistory through vim.ui.select, :GeminiChatRename, :GeminiChatDelete (asks first) and
:GeminiChatExport through gemini/export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gemini_chat.emulator import Emulator

from .nvim_helpers import NvimChat

# vim.ui.select replaced by one that records what it was offered and picks by label.
PICKER = """
_G.pick = ...
vim.ui.select = function(items, opts, on_choice)
  _G.offered = { prompt = opts.prompt, kind = opts.kind, labels = {} }
  for i, item in ipairs(items) do
    local label = opts.format_item and opts.format_item(item) or tostring(item)
    _G.offered.labels[i] = label
    if label:find(_G.pick, 1, true) then return on_choice(item, i) end
  end
  on_choice(nil)
end
"""


def conversations(nvim: NvimChat) -> dict[str, Any]:
    """`gemini/conversations` of the workspace, asked from Neovim."""
    return nvim.lua(
        "local c = require('gemini_chat.client') local root = c.workspace_root() "
        "return c.request_sync(root, 'gemini/conversations', "
        "{ workspace = vim.uri_from_fname(root) }, 5000)"
    )


def ask(nvim: NvimChat, emulator: Emulator, question: str, answer: str) -> None:
    """One exchange, answered and stored."""
    emulator.script({"reply": answer})
    nvim.cmd(f"GeminiChat {question}")
    nvim.wait_text(answer)
    nvim.wait_idle()


def test_history_lists_conversations_and_opens_the_pick(nvim: NvimChat, emulator: Emulator) -> None:
    """:GeminiChatHistory offers every conversation through vim.ui.select (title, exchanges,
    when; the active one marked ●, newest first); picking the archived one makes it the
    folder's conversation and the chat shows it."""
    ask(nvim, emulator, "the old question", "Old answer.")
    nvim.cmd("GeminiChatReset")
    nvim.wait("not _G.chat_has('Old answer.')", "the reset")
    ask(nvim, emulator, "the new question", "New answer.")
    nvim.lua(PICKER, "the old question")
    nvim.cmd("GeminiChatHistory")
    nvim.wait_note("opened “the old question”")
    offered = nvim.lua("return _G.offered")
    assert offered["kind"] == "gemini_chat.conversation"
    assert offered["prompt"] == "Gemini conversations of project"
    assert offered["labels"] == [
        "● the new question  · 1 exchange · just now",
        "  the old question  · 1 exchange · just now",
    ]
    nvim.wait_text("Old answer.")
    assert "New answer." not in nvim.chat_text()
    listed = conversations(nvim)
    active = next(c for c in listed["conversations"] if c["id"] == listed["active"])
    assert active["title"] == "the old question"


def test_rename_retitles_the_active_conversation(nvim: NvimChat, emulator: Emulator) -> None:
    """:GeminiChatRename {title} renames the active conversation in the store and says so."""
    ask(nvim, emulator, "first line of the question", "Answer.")
    nvim.cmd("GeminiChatRename Parser bug hunt")
    nvim.wait_note("renamed to “Parser bug hunt”")
    listed = conversations(nvim)
    assert [c["title"] for c in listed["conversations"]] == ["Parser bug hunt"]


def test_delete_asks_first_then_deletes_for_good(nvim: NvimChat, emulator: Emulator) -> None:
    """:GeminiChatDelete asks (vim.ui.select); "Keep it" keeps the conversation, "Delete it"
    deletes it from the store and empties the chat."""
    ask(nvim, emulator, "doomed question", "Doomed answer.")
    nvim.lua(PICKER, "Keep it")
    nvim.cmd("GeminiChatDelete")
    nvim.wait("_G.offered ~= nil", "the confirmation")
    assert nvim.lua("return _G.offered.prompt") == "Delete “doomed question” (1 exchange) for good?"
    assert conversations(nvim)["total"] == 1
    nvim.lua(PICKER, "Delete it")
    nvim.cmd("GeminiChatDelete")
    nvim.wait_note("deleted “doomed question”")
    nvim.wait("not _G.chat_has('Doomed answer.')", "the chat to empty")
    assert conversations(nvim)["total"] == 0


def test_export_goes_under_the_data_folder_unless_a_path_is_given(
    nvim: NvimChat, emulator: Emulator, workspace: Path, tmp_path: Path
) -> None:
    """:GeminiChatExport writes gemini/export's Markdown to a new file under
    stdpath("data")/gemini-chat/exports and names it; nothing lands in the workspace. With a
    path it writes there."""
    ask(nvim, emulator, "export me", "Exported answer.")
    before = set(workspace.rglob("*"))
    nvim.cmd("GeminiChatExport")
    note = nvim.wait_note("exported to ")
    written = Path(note["msg"].split(" to ", 1)[1]).expanduser()
    data = Path(nvim.lua("return vim.fn.stdpath('data')"))
    assert written.parent == data / "gemini-chat" / "exports"
    assert written.name.startswith("project-export-me-") and written.suffix == ".md"
    text = written.read_text()
    assert text.startswith("# export me\n")
    assert "## You\n\nexport me\n" in text and "## Gemini\n\nExported answer.\n" in text
    assert set(workspace.rglob("*")) == before
    target = tmp_path / "out" / "chat.md"
    nvim.cmd(f"GeminiChatExport {target}")
    nvim.wait_note(f"to {target}")
    assert target.read_text() == text
