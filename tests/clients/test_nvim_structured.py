"""JSON replies, cost and rate limits in the Neovim plugin, in real Neovim 0.11 against the real
daemon and the emulator: `:GeminiChatJson` / `:GeminiChat!` (the schema sent in the file's
order, the reply laid out and checked, a mismatch told), the usage line's cost and the
conversation's total, and the rate-limit state in `:GeminiChatStatus` and `:checkhealth`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gemini_chat.emulator import Emulator

from .nvim_helpers import NvimChat, generate_bodies, start_nvim

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "languages": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "age"],
}
ADA = '{"name": "Ada Lovelace", "age": "36", "languages": ["English", "French"], "notes": []}'
USAGE = re.compile(r"_tokens: (\d+) prompt · (\d+) reply · \d+ total · ([\w.-]+)(.*)_$", re.M)


def test_a_json_reply_that_misses_the_schema_is_laid_out_and_told(
    nvim: NvimChat,
    emulator: Emulator,
    workspace: Path,
    server_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """`:GeminiChatJson person.schema.json` turns JSON mode on (the winbar says so); a message
    then goes with responseMimeType application/json, the schema converted with
    propertyOrdering in the file's order, and no tools; the reply shows laid out in a ```json
    block in its own key order, then "✗ JSON reply: 1 problem" and the mismatch at $.age, in
    the error colour; a WARN names it in one line. A second Neovim shows the same from the
    history."""
    (workspace / "person.schema.json").write_text(json.dumps(PERSON, indent=2))
    nvim.cmd("GeminiChat")
    nvim.cmd("GeminiChatJson person.schema.json")
    nvim.wait_note("JSON mode on")
    nvim.wait_winbar("{ } JSON: person.schema.json")
    emulator.script({"reply": ADA})
    nvim.cmd("GeminiChat who was Ada Lovelace?")
    nvim.wait_text("JSON reply:")
    body = generate_bodies(emulator)[-1]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"]["propertyOrdering"] == ["name", "age", "languages"]
    assert config["responseSchema"]["properties"]["age"] == {"type": "INTEGER"}
    assert "tools" not in body
    shown = (
        "## Gemini\n```json\n{\n"
        '  "name": "Ada Lovelace",\n  "age": "36",\n'
        '  "languages": [\n    "English",\n    "French"\n  ],\n'
        '  "notes": []\n}\n```\n'
        "✗ JSON reply: 1 problem\n"
        "  • $.age: '36' is not of type 'integer'\n"
    )
    assert shown in nvim.chat_text()
    assert nvim.line_hl("✗ JSON reply") == "GeminiChatJsonError"
    assert nvim.line_hl("$.age:") == "GeminiChatJsonError"
    note = nvim.wait_note("does not fit")
    assert note["level"] == 3 and "$.age" in note["msg"] and "\n" not in note["msg"]
    with start_nvim(server_env, workspace, tmp_path / "nvim2") as again:
        again.cmd("GeminiChat")
        again.wait_text("JSON reply:")
        assert shown in again.chat_text()


def test_bang_sends_one_message_as_json_and_the_next_goes_plain(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """`:GeminiChat! ...` asks for JSON without a schema (no responseSchema); any JSON is
    valid: "✓ JSON reply: valid" in the ok colour. The next `:GeminiChat` is a plain message."""
    emulator.script({"reply": "[2, 3]"}, {"reply": "Plain."})
    nvim.cmd("GeminiChat! the first two primes")
    nvim.wait_text("✓ JSON reply: valid")
    config = generate_bodies(emulator)[-1]["generationConfig"]
    assert config["responseMimeType"] == "application/json" and "responseSchema" not in config
    assert "```json\n[\n  2,\n  3\n]\n```\n✓ JSON reply: valid\n" in nvim.chat_text()
    assert nvim.line_hl("✓ JSON reply") == "GeminiChatJsonOk"
    nvim.cmd("GeminiChat and in words?")
    nvim.wait_text("Plain.")
    assert "responseMimeType" not in generate_bodies(emulator)[-1].get("generationConfig", {})


def test_json_mode_lasts_until_turned_off(
    nvim: NvimChat, emulator: Emulator, workspace: Path
) -> None:
    """JSON mode applies to typed messages too, until `:GeminiChatJson!`: then the winbar drops
    it and messages go plain. A reply that is not JSON shows as it came, with the daemon's
    "The reply is not JSON" problem."""
    emulator.script({"reply": "Sure! {name: Ada}"}, {"reply": "Plain."})
    nvim.cmd("GeminiChat")
    nvim.cmd("GeminiChatJson")
    nvim.wait_winbar("{ } JSON")
    nvim.nvim.input("itell me about Ada<Esc>")
    nvim.nvim.input("<CR>")
    nvim.wait_text("✗ JSON reply: 1 problem")
    assert (
        generate_bodies(emulator)[-1]["generationConfig"]["responseMimeType"] == "application/json"
    )
    assert "Sure! {name: Ada}\n✗ JSON reply: 1 problem\n  • The reply is not JSON:" in (
        nvim.chat_text()
    )
    nvim.cmd("GeminiChatJson!")
    nvim.wait_note("JSON mode off")
    assert "JSON" not in nvim.winbar()
    nvim.cmd("GeminiChat plain please")
    nvim.wait_text("Plain.")
    assert "responseMimeType" not in generate_bodies(emulator)[-1].get("generationConfig", {})


def test_a_schema_file_that_is_not_json_is_refused_at_once(nvim: NvimChat, workspace: Path) -> None:
    """`:GeminiChatJson bad.schema.json` with a file that is not JSON: an error naming the file,
    and JSON mode stays off."""
    (workspace / "bad.schema.json").write_text("{ not json")
    nvim.cmd("GeminiChat")
    nvim.cmd("GeminiChatJson bad.schema.json")
    note = nvim.wait_note("bad.schema.json")
    assert note["level"] == 4 and "is not JSON" in note["msg"]
    assert nvim.session("json_mode") is None
    assert "JSON" not in nvim.winbar()


def test_a_schema_the_api_cannot_take_is_refused_by_the_daemon(
    nvim: NvimChat, emulator: Emulator, workspace: Path
) -> None:
    """A schema with `not` goes to the daemon, which refuses it before sending: the reply ends
    with its message naming json.schema.properties.tag.not, nothing went upstream, and the
    message is given back in the input area."""
    schema = {"type": "object", "properties": {"tag": {"type": "string", "not": {"const": "x"}}}}
    (workspace / "tag.schema.json").write_text(json.dumps(schema))
    nvim.cmd("GeminiChat")
    nvim.cmd("GeminiChatJson tag.schema.json")
    nvim.cmd("GeminiChat tag this")
    nvim.wait_text("**Error:**")
    assert "json.schema.properties.tag.not" in nvim.chat_text()
    assert emulator.requests("enerateContent") == []
    nvim.wait_idle()
    assert nvim.input_text() == "tag this"


def test_schema_files_complete_first(nvim: NvimChat, workspace: Path) -> None:
    """`:GeminiChatJson <Tab>` offers the workspace's *.schema.json files (relative) first."""
    (workspace / "schemas").mkdir()
    (workspace / "schemas" / "person.schema.json").write_text("{}")
    found = nvim.lua("return vim.fn.getcompletion('GeminiChatJson ', 'cmdline')")
    assert found[0] == "schemas/person.schema.json"


PRICES = {
    "gemini-2.5-flash": {"input": 3000.0, "output": 6000.0},
    "gemini-2.5-pro": {"input": 3000.0, "output": 6000.0},
}
"""USD per 1M tokens: a token of prompt costs $0.003, a token of reply $0.006."""


def test_each_usage_line_adds_its_cost_and_the_conversations(
    server_env: dict[str, str], workspace: Path, tmp_path: Path, emulator: Emulator
) -> None:
    """With the `prices` setting, each reply's usage line ends with its cost (its prompt and
    reply tokens at those prices) and the conversation's total so far, to three significant
    digits (or cents); a model without a price (gemini-flash-latest) shows tokens only, and
    the next priced reply's total carries on without it."""
    with start_nvim(server_env, workspace, tmp_path / "nvim") as nvim:
        nvim.lua("require('gemini_chat').setup({ settings = { prices = ... } })", PRICES)
        costs: list[float] = []
        # Three models, so each "model ... for" note is new and says the last setModel is done.
        for i, model in enumerate(["gemini-2.5-flash", "gemini-flash-latest", "gemini-2.5-pro"]):
            emulator.script({"reply": f"Answer {i}."})
            nvim.cmd(f"GeminiChatModel {model}")
            nvim.wait_note(f"model {model} for")
            nvim.cmd(f"GeminiChat question {i}")
            nvim.wait_text(f"Answer {i}.")
            nvim.wait_idle()
            prompt, reply, shown, cost = USAGE.findall(nvim.chat_text())[-1]
            assert shown == model
            if model == "gemini-flash-latest":
                assert cost == ""
                continue
            costs.append(int(prompt) * 0.003 + int(reply) * 0.006)
            money = re.fullmatch(r" · \$(\d+\.\d+) \(conversation \$(\d+\.\d+)\)", cost)
            assert money is not None, cost
            for text, exact in zip(money.groups(), (costs[-1], sum(costs)), strict=True):
                assert abs(float(text) - exact) <= exact * 0.005, (text, exact)
                assert len(text.replace(".", "").lstrip("0")) in (2, 3), text  # 3 digits, or cents
        assert sum(costs) >= 1, "the totals should reach dollars: adjust PRICES"


def test_money_keeps_three_significant_digits(nvim: NvimChat) -> None:
    """Amounts keep about three significant digits and at least cents: 0 -> $0.00,
    0.00014125 -> $0.000141, 0.08 -> $0.08, 0.0021 -> $0.0021, 1.234 -> $1.23, 12.5 -> $12.50."""
    shown = nvim.lua(
        "local u = require('gemini_chat.usage') return vim.tbl_map(u.money, ...)",
        [0, 0.00014125, 0.08, 0.0021, 1.234, 12.5],
    )
    assert shown == ["$0.00", "$0.000141", "$0.08", "$0.0021", "$1.23", "$12.50"]


def status_note(nvim: NvimChat) -> dict[str, Any]:
    """Run :GeminiChatStatus and return its notification."""
    before = len(nvim.notes())
    nvim.cmd("GeminiChatStatus")
    nvim.wait(f"#_G.notes > {before}", "the status notification")
    return nvim.notes()[-1]


def test_status_and_checkhealth_tell_a_per_minute_limit_and_when_it_lifts(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """Before any 429 both say "none met since the daemon started". A 429 asking for a 90 s
    wait (over maxRetryDelay) fails the turn, whose note points at :GeminiChatStatus; then
    :GeminiChatStatus (a WARN) and :checkhealth (a WARNING) say the per-minute quota of
    gemini-2.5-flash was hit and that it lifts in about 90 s, at a clock time."""
    nvim.cmd("GeminiChat")
    nvim.wait_loaded()
    note = status_note(nvim)
    assert "rate limit: none met since the daemon started" in note["msg"]
    assert "model gemini-2.5-flash · API key set" in note["msg"]
    assert "OK rate limit: none met" in nvim.health_line("rate limit:")
    emulator.script({"status": 429, "retryDelay": "90s", "quota": "minute"})
    nvim.cmd("GeminiChat hello")
    nvim.wait_text("In Neovim, :GeminiChatStatus says when it lifts.")
    note = status_note(nvim)
    assert note["level"] == 3
    limit = re.search(
        r"rate limit: per-minute quota of gemini-2\.5-flash hit at \d\d:\d\d:\d\d; "
        r"lifts in 1 min (\d+) s \(\d\d:\d\d:\d\d\)",
        note["msg"],
    )
    assert limit is not None, note["msg"]
    assert 20 <= int(limit.group(1)) <= 30
    assert "WARNING rate limit: per-minute quota of gemini-2.5-flash" in nvim.health_line(
        "rate limit:"
    )


def test_a_used_up_daily_quota_lifts_at_pacific_midnight(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """A 429 naming the daily quota without a wait (retries off: the daemon would retry it):
    the status says "per-day quota" and that it lifts in hours or minutes (the daemon's next
    Pacific midnight)."""
    nvim.lua("require('gemini_chat').setup({ settings = { maxRetries = 0 } })")
    emulator.script({"status": 429, "quota": "day"})
    nvim.cmd("GeminiChat hello")
    nvim.wait_text("**Error:**")
    note = status_note(nvim)
    assert re.search(
        r"per-day quota of gemini-2\.5-flash hit at .*; lifts in \d+ (h|min)", note["msg"]
    ), note["msg"]


def test_a_limit_waited_out_shows_as_lifted(nvim: NvimChat, emulator: Emulator) -> None:
    """A 429 asking for 1 s is retried and the reply comes; once that second is past, the
    status says the per-minute quota was hit and "lifted at" a clock time (INFO)."""
    emulator.script({"status": 429, "retryDelay": "1s", "quota": "minute"}, {"reply": "ok"})
    nvim.cmd("GeminiChat hello")
    nvim.wait_text("_tokens:")
    nvim.wait(
        "(function() local rl = require('gemini_chat.client').request_sync("
        "require('gemini_chat.client').workspace_root(), 'gemini/status', vim.empty_dict(), "
        "5000).rateLimit local t = require('gemini_chat.status').parse_utc(rl.resetsAt) "
        "return t ~= nil and t < os.time() end)()",
        "the limit's reset time to pass",
    )
    note = status_note(nvim)
    assert note["level"] == 2
    assert re.search(
        r"per-minute quota of gemini-2\.5-flash hit at .*; lifted at \d\d:", note["msg"]
    ), note["msg"]
