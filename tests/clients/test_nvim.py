"""The Neovim plugin in real Neovim 0.11, against the real daemon and the Gemini API emulator."""

from __future__ import annotations

from pathlib import Path

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator

from .nvim_helpers import NvimChat, generate_bodies, last_user_text, start_nvim


def test_hello_shows_the_reply_in_the_chat_buffer(nvim: NvimChat, emulator: Emulator) -> None:
    """`:GeminiChat hello` opens a scratch markdown chat buffer and shows the reply and usage."""
    emulator.script({"reply": "Hello from the emulator, friend."})
    nvim.cmd("GeminiChat hello")
    nvim.wait_text("Hello from the emulator, friend.")
    nvim.wait_text("_tokens:")
    text = nvim.chat_text()
    assert "## You\nhello\n\n## Gemini\n" in text
    opts = nvim.lua(
        "local b = ... return {vim.bo[b].filetype, vim.bo[b].buftype, vim.bo[b].modeline}",
        nvim.chat_buf(),
    )
    assert opts == ["markdown", "nofile", False]
    assert nvim.lua("return vim.api.nvim_get_current_buf()") == nvim.chat_buf()
    assert "hello" in last_user_text(generate_bodies(emulator)[-1])


def test_second_turn_typed_in_the_input_area_carries_history(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """A follow-up typed under the last '## You' and sent with <CR> goes with the history."""
    emulator.script({"reply": "First answer."}, {"reply": "Second answer."})
    nvim.cmd("GeminiChat first question")
    nvim.wait_text("First answer.")
    nvim.wait_idle()
    nvim.nvim.input("Gofollow up question<Esc>")
    nvim.wait(
        "require('gemini_chat.input').text(require('gemini_chat.session').sessions["
        "require('gemini_chat.client').workspace_root()]) == 'follow up question'",
        "the typed follow-up in the input area",
    )
    nvim.nvim.input("<CR>")
    nvim.wait_text("Second answer.")
    contents = generate_bodies(emulator)[-1]["contents"]
    assert isinstance(contents, list)
    texts = [(c["role"], "".join(p.get("text", "") for p in c["parts"])) for c in contents]
    assert texts[0] == ("user", "first question")
    assert texts[1][0] == "model" and "First answer." in texts[1][1]
    assert texts[2] == ("user", "follow up question")


def test_range_attaches_the_selection(nvim: NvimChat, emulator: Emulator, workspace: Path) -> None:
    """`:1,2GeminiChat explain this` sends lines 1-2 of the file along (seen upstream)."""
    emulator.script({"reply": "It adds."})
    nvim.cmd("edit src/app.py")
    nvim.cmd("1,2GeminiChat explain this")
    nvim.wait_text("It adds.")
    sent = last_user_text(generate_bodies(emulator)[-1])
    assert "def add(a, b):" in sent
    assert "return a + b" in sent
    assert "print(add(2, 3))" not in sent
    assert "explain this" in sent
    assert "> attached: src/app.py:1-2" in nvim.chat_text()


def test_buffer_grows_while_the_reply_streams(nvim: NvimChat, emulator: Emulator) -> None:
    """Streamed pieces appear one by one before the reply is complete."""
    emulator.script({"chunks": ["alpha ", "beta ", "gamma ", "omega"], "chunkDelay": 0.4})
    nvim.lua(
        """
        _G.progress = {}
        vim.api.nvim_create_autocmd("LspProgress", { callback = function(ev)
          table.insert(_G.progress, ev.data.params.value.kind)
        end })
        """
    )
    nvim.cmd("GeminiChat stream please")
    nvim.wait_text("alpha")
    assert "omega" not in nvim.chat_text(), "the whole reply arrived at once"
    assert "_tokens:" not in nvim.chat_text()
    nvim.wait_text("alpha beta gamma omega")
    nvim.wait_text("_tokens:")
    # Work-done progress reached Neovim's LspProgress event (what fidget.nvim listens to).
    nvim.wait("vim.tbl_contains(_G.progress, 'end')", "LspProgress end")
    assert nvim.lua("return _G.progress")[0] == "begin"


def test_stop_cancels_upstream_and_the_next_message_works(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """:GeminiChatStop closes the upstream stream, says so, and keeps the chat usable."""
    emulator.script({"chunks": [f"piece{i} " for i in range(30)], "chunkDelay": 0.3})
    nvim.cmd("GeminiChat a long story")
    nvim.wait_text("piece0")
    nvim.cmd("GeminiChatStop")
    emulator.wait_for_event("disconnect", timeout=10)
    nvim.wait_text("_Reply stopped._")
    assert "piece29" not in nvim.chat_text()
    emulator.script({"reply": "Fresh answer."})
    nvim.cmd("GeminiChat again")
    nvim.wait_text("Fresh answer.")
    # The stopped exchange was not committed: only the new message goes upstream.
    contents = generate_bodies(emulator)[-1]["contents"]
    assert isinstance(contents, list) and len(contents) == 1


def test_reset_starts_a_fresh_conversation(nvim: NvimChat, emulator: Emulator) -> None:
    """:GeminiChatReset clears the buffer and the next turn has no history."""
    emulator.script({"reply": "Before reset."}, {"reply": "After reset."})
    nvim.cmd("GeminiChat one")
    nvim.wait_text("Before reset.")
    nvim.wait_idle()
    nvim.cmd("GeminiChatReset")
    nvim.wait_note("chat reset (2 entries archived)")
    assert "Before reset." not in nvim.chat_text()
    nvim.cmd("GeminiChat two")
    nvim.wait_text("After reset.")
    contents = generate_bodies(emulator)[-1]["contents"]
    assert isinstance(contents, list) and len(contents) == 1


def test_model_picker_sets_the_model_for_next_turns(nvim: NvimChat, emulator: Emulator) -> None:
    """:GeminiChatModel offers gemini/models through vim.ui.select; the pick is used upstream."""
    nvim.lua(
        """
        vim.ui.select = function(items, opts, on_choice)
          _G.offered = vim.tbl_map(function(m) return m.name end, items)
          _G.labels = vim.tbl_map(opts.format_item, items)
          for _, m in ipairs(items) do
            if m.name == "gemini-2.5-pro" then return on_choice(m) end
          end
          on_choice(nil)
        end
        """
    )
    nvim.cmd("GeminiChatModel")
    nvim.wait_note("model gemini-2.5-pro")
    offered = nvim.lua("return _G.offered")
    assert "gemini-2.5-flash" in offered and "gemini-2.5-pro" in offered
    emulator.script({"reply": "Pro here."})
    nvim.cmd("GeminiChat which model?")
    nvim.wait_text("Pro here.")
    paths = [r.path for r in emulator.requests("enerateContent")]
    assert "gemini-2.5-pro:" in paths[-1]
    nvim.wait_text("_tokens:")
    assert " · gemini-2.5-pro · $" in nvim.chat_text()


def test_missing_key_says_how_to_set_it(
    server_env: dict[str, str], workspace: Path, tmp_path: Path, emulator: Emulator
) -> None:
    """Without a key the reply fails with an error naming GEMINI_API_KEY and api_key_cmd."""
    env = {k: v for k, v in server_env.items() if k != "GEMINI_API_KEY"}
    with start_nvim(env, workspace, tmp_path / "nvim") as nvim:
        nvim.cmd("GeminiChat hello")
        note = nvim.wait_note("GEMINI_API_KEY")
        assert note["level"] == 4  # vim.log.levels.ERROR
        assert "api_key_cmd" in note["msg"]
        nvim.wait_text("**Error:**")
        nvim.wait_idle()
        # The message is handed back for another try.
        assert nvim.input_text() == "hello"
    assert emulator.requests("enerateContent") == []


def test_api_key_cmd_feeds_only_the_daemon(
    server_env: dict[str, str], workspace: Path, tmp_path: Path, emulator: Emulator
) -> None:
    """api_key_cmd's output reaches the daemon, not Neovim's environment nor its LSP log."""
    env = {k: v for k, v in server_env.items() if k != "GEMINI_API_KEY"}
    state = tmp_path / "nvim"
    with start_nvim(env, workspace, state) as nvim:
        nvim.lua("vim.lsp.set_log_level('debug')")
        nvim.lua(
            "require('gemini_chat').setup({ api_key_cmd = { 'printf', '%s', ... } })", EMULATOR_KEY
        )
        emulator.script({"reply": "Key accepted."})
        nvim.cmd("GeminiChat hello")
        nvim.wait_text("Key accepted.")
        assert nvim.lua("return vim.env.GEMINI_API_KEY") is None
        log = nvim.lua("return vim.lsp.get_log_path()")
    assert emulator.requests("enerateContent")[-1].headers.get("x-goog-api-key") == EMULATOR_KEY
    assert EMULATOR_KEY not in Path(log).read_text()


def test_checkhealth_reports_neovim_server_key_and_status(nvim: NvimChat) -> None:
    """:checkhealth gemini_chat shows versions, the key as yes/no and gemini/status."""
    nvim.cmd("checkhealth gemini_chat")
    report = "\n".join(nvim.nvim.current.buffer[:])
    assert "Neovim 0.11.4" in report
    assert "gemini-chat-server" in report
    assert "API key set: yes" in report
    assert "gemini/status: version" in report
    assert "daemon has an API key: yes" in report
    assert "ERROR" not in report
    assert EMULATOR_KEY not in report


def test_missing_daemon_says_why(nvim: NvimChat) -> None:
    """A server command that is not installed gives a clear error, not a stack trace."""
    nvim.lua("require('gemini_chat').setup({ cmd = { 'no-such-gemini-server' } })")
    nvim.cmd("GeminiChat hello")
    note = nvim.wait_note("no-such-gemini-server")
    assert "not found on PATH" in note["msg"]
    assert note["level"] == 4


def test_unknown_option_warns_once(nvim: NvimChat) -> None:
    """setup() warns once about an unknown key and keeps working with the defaults."""
    nvim.lua("require('gemini_chat').setup({ colour = 'blue' })")
    nvim.lua("require('gemini_chat').setup({ colour = 'blue' })")
    notes = [n for n in nvim.notes() if "colour" in n["msg"]]
    assert len(notes) == 1 and notes[0]["level"] == 3  # WARN


def test_reply_with_modeline_and_html_stays_inert_text(nvim: NvimChat, emulator: Emulator) -> None:
    """A reply holding a modeline or HTML is shown verbatim and changes nothing."""
    reply = (
        "vim: set filetype=python nomodifiable:\n"
        "<script>alert('x')</script>\n"
        "<!-- vim: set buftype=help: -->\n"
        "/* vim: set ft=c : */"
    )
    emulator.script({"reply": reply})
    nvim.cmd("GeminiChat show me")
    nvim.wait_text("/* vim: set ft=c : */")
    nvim.wait_idle()
    nvim.cmd("doautocmd BufRead")  # even a re-read must not apply modelines
    buf = nvim.chat_buf()
    text = nvim.chat_text()
    for line in reply.splitlines():
        assert f"\n{line}\n" in text
    opts = nvim.lua(
        "local b = ... return {vim.bo[b].filetype, vim.bo[b].buftype, vim.bo[b].modifiable}", buf
    )
    assert opts == ["markdown", "nofile", True]


def test_range_without_message_waits_for_the_typed_message(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """`:3,4GeminiChat` keeps the lines pending; the next typed message takes them along."""
    emulator.script({"reply": "It prints 5."})
    nvim.cmd("edit src/app.py")
    nvim.cmd("4GeminiChat")
    pending = (
        "vim.tbl_map(function(p) return p.label end, require('gemini_chat.session').sessions["
        "require('gemini_chat.client').workspace_root()].pending)"
    )
    nvim.wait(f"#{pending} > 0", "the pending attachment")
    assert nvim.lua(f"return {pending}") == ["src/app.py:4"]
    nvim.nvim.input("Gowhat does it print?<Esc><CR>")
    nvim.wait_text("It prints 5.")
    sent = last_user_text(generate_bodies(emulator)[-1])
    assert "print(add(2, 3))" in sent and "what does it print?" in sent
    assert "def add" not in sent


def test_help_file_has_tags(nvim: NvimChat, tmp_path: Path) -> None:
    """doc/gemini_chat.txt builds help tags for the commands, options and health."""
    doc = tmp_path / "doc"
    doc.mkdir()
    source = Path(nvim.lua("return vim.api.nvim_get_runtime_file('doc/gemini_chat.txt', false)[1]"))
    (doc / "gemini_chat.txt").write_text(source.read_text())
    nvim.cmd(f"helptags {doc}")
    tags = {line.split("\t")[0] for line in (doc / "tags").read_text().splitlines()}
    for tag in (
        "gemini_chat",
        ":GeminiChat",
        ":GeminiChatStop",
        ":GeminiChatReset",
        ":GeminiChatModel",
        ":GeminiChatExport",
        "gemini_chat.setup()",
        "gemini_chat-api-key",
        "gemini_chat-health",
        "gemini_chat-extras",
        "gemini_chat-thoughts",
        "gemini_chat-tools",
        "gemini_chat-compaction",
        "gemini_chat-images",
        ":GeminiChatResend",
        ":GeminiChatHistory",
        ":GeminiChatRename",
        ":GeminiChatDelete",
        ":GeminiChatAttach",
        ":GeminiChatDetach",
        "gemini_chat-keys",
        "gemini_chat-live",
        "gemini_chat-interrupted",
        "gemini_chat-conversations",
        "gemini_chat-attach",
        "gemini_chat-code",
        "gemini_chat-secrets",
    ):
        assert tag in tags


def test_daemon_that_dies_at_start_says_why(nvim: NvimChat) -> None:
    """A daemon that exits at once is reported with its exit code and its last stderr line."""
    nvim.lua(
        "require('gemini_chat').setup({ cmd = { 'sh', '-c', "
        "'echo \"fatal: bad settings for gemini\" >&2; exit 3' } })"
    )
    nvim.cmd("GeminiChat hello")
    note = nvim.wait_note("exited (code 3")
    assert "fatal: bad settings for gemini" in note["msg"]
    assert note["level"] == 4
    # The message waits in the input area; with a working daemon the chat goes on.
    assert nvim.input_text() == "hello"
    nvim.lua("require('gemini_chat').setup({})")
    nvim.cmd("GeminiChat")
    nvim.nvim.input("<CR>")
    nvim.wait_text("## Gemini")
    nvim.wait_idle()
    assert "**Error:**" not in nvim.chat_text()


def test_second_workspace_shares_the_daemon(
    nvim: NvimChat, emulator: Emulator, tmp_path: Path
) -> None:
    """After :cd to another project, its own chat runs on the same single daemon."""
    emulator.script({"reply": "In project."}, {"reply": "In other."})
    nvim.cmd("GeminiChat one")
    nvim.wait_text("In project.")
    nvim.wait_idle()
    other = tmp_path / "other"
    (other / ".git").mkdir(parents=True)
    (other / "sub").mkdir()
    nvim.cmd(f"cd {other / 'sub'}")
    nvim.cmd("GeminiChat two")
    nvim.wait_text("In other.")
    assert "In project." not in nvim.chat_text()  # each workspace has its own chat
    assert nvim.lua("return #vim.lsp.get_clients({ name = 'gemini_chat' })") == 1
    assert nvim.lua("return require('gemini_chat.client').workspace_root()") == str(other)
    contents = generate_bodies(emulator)[-1]["contents"]
    assert isinstance(contents, list) and len(contents) == 1
