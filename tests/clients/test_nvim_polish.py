"""What a new Neovim user meets, in real Neovim 0.11 against the real daemon and the emulator:
errors in the buffer and in one line, masked secrets, storage failures that lose nothing, the
model picker and a mistyped model, the rate-limit countdown, help after a manual install, the
lazy.nvim snippet, and :checkhealth with no daemon installed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from conftest import REPO, tool
from gemini_chat.emulator import Emulator

from .nvim_helpers import PLUGIN, NvimChat, generate_bodies, start_nvim

# vim.notify recording whether the reply still said "waiting" when the notification came.
NOTIFY_SEES_BUFFER = """
vim.notify = function(msg, level)
  local s = require('gemini_chat.session').all()[1]
  local ns = vim.api.nvim_get_namespaces().gemini_chat_status
  local waiting = s and #vim.api.nvim_buf_get_extmarks(s.buf, ns, 0, -1, {}) > 0
  table.insert(_G.notes, { msg = tostring(msg), level = level, waiting = waiting,
    room = vim.v.echospace })
end
"""


def sent_text(emulator: Emulator) -> str:
    """All text of the last generate request."""
    body = generate_bodies(emulator)[-1]
    return "\n".join(p.get("text", "") for c in body["contents"] for p in c["parts"])


def assert_one_line(note: dict[str, Any]) -> None:
    """The notification is one line that fits the command line, sent once the buffer no longer
    said "waiting" (a longer one makes Neovim stop at a "Press ENTER" prompt)."""
    assert "\n" not in note["msg"]
    assert len(note["msg"]) <= note["room"]
    assert note["waiting"] is False


def test_a_missing_key_is_told_in_the_buffer_and_in_one_line(
    server_env: dict[str, str], workspace: Path, tmp_path: Path
) -> None:
    """Without a key the reply ends with the error and how to set a key in Neovim; the
    notification is one short line, sent after the "waiting" note is gone."""
    env = {k: v for k, v in server_env.items() if k != "GEMINI_API_KEY"}
    with start_nvim(env, workspace, tmp_path / "nvim") as nvim:
        nvim.lua(NOTIFY_SEES_BUFFER)
        nvim.cmd("GeminiChat hello")
        note = nvim.wait_note("no API key")
        assert_one_line(note)
        assert note["level"] == 4
        text = nvim.chat_text()
        assert "## Gemini\n**Error:** No Gemini API key.\nIn Neovim: export GEMINI_API_KEY" in text
        assert "api_key_cmd" in text


def test_a_bad_model_is_told_in_the_buffer_and_in_one_line(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """A 404 for the model ends the reply with the daemon's whole message and the command that
    picks another, and notifies one line (shortened to fit), after the "waiting" note is gone;
    the question is given back."""
    nvim.lua(NOTIFY_SEES_BUFFER)
    emulator.script({"status": 404})
    nvim.cmd("GeminiChat hello")
    nvim.wait_text("**Error:**")
    note = nvim.wait_note("Gemini: ")
    assert_one_line(note)
    assert note["level"] == 4
    line = next(x for x in nvim.chat_text().split("\n") if x.startswith("**Error:**"))
    assert len(line) > len("**Error:** ") + 20
    assert "\nIn Neovim, :GeminiChatModel picks another.\n" in nvim.chat_text()
    nvim.wait_idle()
    assert nvim.input_text() == "hello"


def test_masked_secrets_show_one_dim_line(nvim: NvimChat, emulator: Emulator) -> None:
    """A message holding an AWS key and a GitHub token goes masked, and the reply starts with one
    dim line naming what was masked where."""
    emulator.script({"reply": "Noted."})
    token = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    nvim.cmd(f"GeminiChat deploy with AKIAZ3MQLXQ7RJ4VBN2K and {token}")
    nvim.wait_text("_tokens:")
    line = "🔒 2 secrets masked before sending (aws-access-key in message, github-token in message)"
    assert f"## Gemini\n{line}\n\nNoted." in nvim.chat_text()
    assert nvim.line_hl("🔒") == "GeminiChatHint"
    assert "AKIAZ3MQLXQ7RJ4VBN2K" not in sent_text(emulator)
    assert "[REDACTED:aws-access-key]" in sent_text(emulator)


def test_a_reply_the_full_disk_cannot_keep_stays_on_screen(
    nvim: NvimChat, emulator: Emulator, data_dir: Path
) -> None:
    """The daemon's store on a 256 kB disk: a 600 kB reply streams, cannot be saved, and stays
    in the chat whole, followed by "Not saved:" and the daemon's message; the notification says
    it was not saved."""
    unshare = tool("unshare", "apt-get install util-linux")
    mount = 'mount -t tmpfs -o size="$1" tmpfs "$0" && shift && exec "$@"'
    cmd = [unshare, "--mount", "--map-root-user", "sh", "-c", mount, str(data_dir), "256k"]
    nvim.lua("require('gemini_chat').setup({ cmd = ... })", [*cmd, "gemini-chat-server"])
    line = "paws " * 19 + "paws\n"
    emulator.script({"chunks": [line * 1000] * 6})
    nvim.cmd("GeminiChat count the paws")
    nvim.wait_text("**Not saved:**", timeout=30)
    note = nvim.wait_note("was not saved")
    assert note["level"] == 4
    text = nvim.chat_text()
    assert text.count(line.strip()) == 6000
    assert "full" in text.split("**Not saved:**")[1]
    assert nvim.input_text() == ""


def test_a_mistyped_model_is_refused_with_the_closest_names(nvim: NvimChat) -> None:
    """:GeminiChatModel gemini-2.5-flsh is refused with the daemon's message naming the closest
    models; the workspace keeps its model."""
    nvim.cmd("GeminiChatModel gemini-2.5-flsh")
    note = nvim.wait_note("is not a model")
    assert "did you mean gemini-2.5-flash" in note["msg"]
    assert note["level"] == 4
    assert "\n" not in note["msg"]
    nvim.cmd("GeminiChat")
    nvim.wait_winbar("gemini-2.5-flash")


def test_the_model_picker_offers_chat_models_then_all(nvim: NvimChat) -> None:
    """:GeminiChatModel lists the chat models, then "All models…"; picking that lists the others
    too (marked by kind), never an image model; the pick is set."""
    nvim.lua(
        """
        _G.lists = {}
        vim.ui.select = function(items, opts, on_choice)
          local labels = vim.tbl_map(opts.format_item, items)
          table.insert(_G.lists, labels)
          for i, label in ipairs(labels) do
            local tts = label:find("(gemini-2.5-flash-preview-tts)", 1, true)
            if label:find("All models", 1, true) or tts then return on_choice(items[i]) end
          end
        end
        """
    )
    models = nvim.lua(
        "local c = require('gemini_chat.client') return c.request_sync(c.workspace_root(), "
        "'gemini/models', vim.empty_dict(), 5000).models"
    )
    kinds = {m["name"]: m["kind"] for m in models}
    nvim.cmd("GeminiChatModel")
    nvim.wait_note("model gemini-2.5-flash-preview-tts")
    first, everything = nvim.lua("return _G.lists")
    names = [re.findall(r"\(([^()]+)\)", label)[-1] for label in first[:-1]]
    assert names == [n for n, k in kinds.items() if k == "chat"]
    assert first[-1].startswith("  All models… (")
    others = [label for label in everything if "· special" in label]
    assert len(everything) == len(first) - 1 + len(others) > len(first)
    assert not any(kinds[n] == "image" for n in kinds if any(f"({n})" in x for x in everything))


def test_the_rate_limit_countdown_reaches_lspprogress(nvim: NvimChat, emulator: Emulator) -> None:
    """A 429 with a 3 s retry delay: LspProgress reports count down ("rate limited: retrying in
    3 s", then fewer seconds), the reply shows the same note, and the answer comes after."""
    nvim.lua(
        """
        _G.reports = {}
        vim.api.nvim_create_autocmd("LspProgress", { callback = function(ev)
          local v = ev.data.params.value
          if v.kind == "report" then table.insert(_G.reports, v.message) end
        end })
        """
    )
    emulator.script({"status": 429, "retryDelay": "3s"}, {"reply": "After the wait."})
    nvim.cmd("GeminiChat hello")
    nvim.wait("#_G.reports >= 1", "a rate-limit report")
    status = nvim.virt_text(nvim.line_of("## Gemini", last=True) + 1)
    assert "rate limited: retrying in" in status
    nvim.wait_text("After the wait.")
    seconds = [int(m) for r in nvim.lua("return _G.reports") for m in re.findall(r"in (\d+) s", r)]
    assert len(seconds) >= 2 and seconds == sorted(seconds, reverse=True) and seconds[0] >= 2


def test_help_works_after_the_manual_install(
    server_env: dict[str, str], workspace: Path, tmp_path: Path
) -> None:
    """With only the README's `runtimepath:append(...)` (no :helptags), `:help gemini_chat` and
    the new tags open the plugin's help: doc/tags ships, and it is what :helptags makes of the
    help file today."""
    with start_nvim(server_env, workspace, tmp_path / "nvim", load_plugin=False) as nvim:
        nvim.lua("vim.opt.runtimepath:append(...)", str(PLUGIN))
        for tag in ("gemini_chat", ":GeminiChatAttach", "gemini_chat-keys", "gemini_chat-live"):
            nvim.cmd(f"help {tag}")
            assert nvim.lua("return vim.fn.expand('%:t')") == "gemini_chat.txt"
        doc = tmp_path / "doc"
        doc.mkdir()
        shutil.copy(PLUGIN / "doc" / "gemini_chat.txt", doc)
        nvim.cmd(f"helptags {doc}")
    assert (doc / "tags").read_text() == (PLUGIN / "doc" / "tags").read_text()


def test_the_lazy_snippets_load_on_every_command(nvim: NvimChat) -> None:
    """The lazy.nvim specs of the README and of :help list every command the plugin defines in
    `cmd`, suggest keymaps (`keys`) and install the daemon with `build = ":GeminiChatInstall"`."""
    defined = set(nvim.lua("return vim.tbl_keys(vim.api.nvim_get_commands({}))"))
    defined = {c for c in defined if c.startswith("GeminiChat")}
    assert len(defined) == 15
    for source in (PLUGIN / "README.md", PLUGIN / "doc" / "gemini_chat.txt"):
        text = source.read_text()
        spec = re.search(r"cmd = \{(.*?)\}", text, re.S)
        assert spec is not None, source
        assert set(re.findall(r'"(GeminiChat\w*)"', spec.group(1))) == defined, source
        assert "keys = {" in text and "<Cmd>GeminiChat<CR>" in text, source
        assert 'build = ":GeminiChatInstall",' in text, source


def test_checkhealth_says_how_to_install_a_missing_daemon(nvim: NvimChat) -> None:
    """With no server on PATH, :checkhealth says to run :GeminiChatInstall, names the commands
    that install it from this checkout by hand (uv, else pipx) and the `cmd` option."""
    nvim.lua("require('gemini_chat').setup({ cmd = { 'no-such-gemini-server' } })")
    nvim.cmd("checkhealth gemini_chat")
    report = "\n".join(nvim.nvim.current.buffer[:])
    assert "server 'no-such-gemini-server' not found on PATH" in report
    assert "Run :GeminiChatInstall" in report
    assert f"uv tool install '{REPO}'" in report and f"pipx install '{REPO}'" in report
    assert "cmd = { '/path/to/gemini-chat-server' }" in report
