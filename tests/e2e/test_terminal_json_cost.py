"""The terminal client's JSON mode, cost line and rate-limit status with the real daemon and the
emulator: `/json SCHEMA` in the REPL (tmux, 120x40) and `--schema` one-shot, each reply's
cost and the conversation's total, and `/status` after a 429."""

from __future__ import annotations

import datetime
import json
import re
import shlex
from pathlib import Path

import pytest

from gemini_chat.emulator import Emulator

from .test_json_mode import PERSON, SENT
from .test_terminal import gemini_chat, upstream_bodies
from .test_terminal_images import prompt_after
from .test_terminal_live import is_dim
from .tmux import Tmux, shows, start_repl

SCHEMA = "schemas/person.schema.json"
ADA = {"name": "Ada", "age": 36, "role": "admin"}
BOB = {"name": "Bob", "age": -1, "role": "owner"}
PRICES = {"gemini-2.5-flash": {"input": 1.0, "output": 10.0}}
"""USD per 1M tokens: a prompt token costs $0.000001, a reply token $0.00001."""
USAGE = re.compile(
    r"gemini-2\.5-flash · ([\d,]+) in · ([\d,]+) out · \$([\d.]+) reply, "
    r"\$([\d.]+) conversation · turn (\d+)"
)


@pytest.fixture
def tmux_width() -> int:
    """A 120x40 pane for this module's screens."""
    return 120


@pytest.fixture
def schemas(workspace: Path) -> Path:
    """The workspace with `schemas/person.schema.json` and a JSON file that is no schema."""
    (workspace / "schemas").mkdir()
    (workspace / SCHEMA).write_text(json.dumps(PERSON))
    (workspace / "package.json").write_text("{}")
    return workspace


def at_json_prompt(screen: str) -> bool:
    """The pane ends at the prompt of JSON mode with the person schema."""
    return screen.rstrip().endswith("you [json: person]>")


async def test_json_mode_sends_the_schema_and_shows_the_reply_pretty_and_checked(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], schemas: Path
):
    """`/json ` + Tab offers `off` and the folder's *.schema.json (not other JSON files);
    `/json schemas/person.schema.json` turns JSON mode on and the prompt says so. A question
    then asks for application/json with the schema converted (and no tools); the reply shows
    as indented, highlighted JSON with a dim `✓ valid JSON, matches ...`; a mismatching reply
    lists each error with its place in yellow; a reply that is not JSON is shown as it came
    and told; `/json off` ends it (the next request asks for no JSON); /history shows the
    JSON turns the same way."""
    await start_repl(tmux, server_env, schemas)
    tmux.keys("-l", "/json ")
    tmux.keys("Tab")
    menu = await shows(tmux, SCHEMA, "the schema offered")
    assert "off" in menu.split("/json", 1)[1] and "package.json" not in menu
    tmux.keys("C-u")
    tmux.type(f"/json {SCHEMA}")
    screen = await shows(tmux, at_json_prompt, "JSON mode's prompt")
    assert f"JSON mode on: questions ask for matching {SCHEMA} until /json off." in screen
    emulator.script(
        {"reply": json.dumps(ADA)}, {"reply": json.dumps(BOB)}, {"reply": "Sure! {name: Ada}"}
    )
    tmux.type("who is Ada?")
    screen = await shows(tmux, lambda s: "turn 1" in s and at_json_prompt(s), "the JSON reply")
    body = upstream_bodies(emulator)[-1]
    assert body["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseSchema": SENT,
    }
    assert "tools" not in body
    reply = screen.split("who is Ada?", 1)[1]
    assert "gemini>\n  {\n" in reply and '\n    "name": "Ada",\n' in reply
    assert f"✓ valid JSON, matches {SCHEMA}" in reply
    raw = tmux.raw_screen()
    line = next(r for r in raw.splitlines() if '"name"' in r and "Ada" in r)
    assert "\x1b[" in line.split('"name"', 1)[0], "the JSON is highlighted"
    assert is_dim(raw, "✓ valid JSON")
    tmux.type("who is Bob?")
    screen = await shows(tmux, lambda s: "turn 2" in s and at_json_prompt(s), "the mismatch")
    reply = screen.split("who is Bob?", 1)[1]
    assert f"✗ the reply does not match {SCHEMA}:" in reply
    assert "    $.age: -1 is less than the minimum of 0" in reply
    assert "    $.role: 'owner' is not one of ['admin', 'user']" in reply
    assert "\x1b[33m" in tmux.raw_screen(), "the mismatch is yellow"
    tmux.type("and again?")
    screen = await shows(tmux, lambda s: "turn 3" in s and at_json_prompt(s), "not JSON")
    reply = screen.split("and again?", 1)[1]
    assert "Sure! {name: Ada}" in reply and "✗ The reply is not JSON: Expecting value" in reply
    tmux.type("/json off")
    await shows(tmux, prompt_after("JSON mode off"), "JSON mode off")
    tmux.type("plain again")
    await shows(tmux, prompt_after("turn 4"), "a plain turn")
    assert "responseMimeType" not in json.dumps(upstream_bodies(emulator)[-1])
    tmux.type("/history")
    # The screen already ends at a prompt after "plain again": wait for it after the command.
    listing = prompt_after("plain again")
    screen = await shows(
        tmux, lambda s: "you> /history" in s and listing(s.rsplit("you> /history", 1)[1]), "history"
    )
    listed = screen.rsplit("/history", 1)[1]
    assert '\n    "name": "Ada",\n' in listed and "✓ valid JSON" in listed
    assert "✗ the reply does not match the schema:" in listed


async def test_a_schema_the_api_cannot_take_is_named_and_nothing_is_sent(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], schemas: Path
):
    """A schema with `not` (the API cannot express it): the question shows the daemon's error
    naming the keyword's place, a dim hint that the file is re-read (fix it, or /json off),
    and nothing goes upstream; JSON mode stays on."""
    bad = {"type": "object", "properties": {"tags": {"type": "array", "items": {"not": {}}}}}
    (schemas / "bad.schema.json").write_text(json.dumps(bad))
    await start_repl(tmux, server_env, schemas)
    tmux.type("/json bad.schema.json")
    await shows(tmux, lambda s: s.rstrip().endswith("you [json: bad]>"), "JSON mode on")
    tmux.type("tags?")
    screen = await shows(
        tmux,
        lambda s: "fix it, or /json off." in s and s.rstrip().endswith("you [json: bad]>"),
        "the refusal, then JSON mode's prompt again",
    )
    assert "error: json.schema.properties.tags.items.not:" in screen
    assert is_dim(tmux.raw_screen(), "The schema file is read again for each question")
    assert upstream_bodies(emulator) == []


def test_one_shot_json_keeps_stdout_exact_and_exits_3_on_a_mismatch(
    emulator: Emulator, server_env: dict[str, str], schemas: Path
):
    """`--schema FILE` piped: stdout is the reply exactly as the model sent it (for jq) and
    the request carried the schema; a fitting reply exits 0; a mismatching one exits 3 with
    the errors on stderr; a schema file that is not JSON exits 2 before anything is sent."""
    emulator.script({"reply": json.dumps(ADA)}, {"reply": json.dumps(BOB)})
    fits = gemini_chat("--schema", SCHEMA, "who is Ada?", env=server_env, cwd=schemas)
    assert (fits.returncode, fits.stdout) == (0, json.dumps(ADA) + "\n"), fits.stderr
    assert upstream_bodies(emulator)[-1]["generationConfig"]["responseSchema"] == SENT  # type: ignore[index]
    bad = gemini_chat("--schema", SCHEMA, "who is Bob?", env=server_env, cwd=schemas)
    assert (bad.returncode, bad.stdout) == (3, json.dumps(BOB) + "\n")
    assert f"✗ the reply does not match {SCHEMA}:" in bad.stderr
    assert "$.age: -1 is less than the minimum of 0" in bad.stderr
    (schemas / "broken.schema.json").write_text("{nope")
    calls = len(upstream_bodies(emulator))
    broken = gemini_chat("--schema", "broken.schema.json", "x", env=server_env, cwd=schemas)
    assert broken.returncode == 2 and "broken.schema.json is not JSON" in broken.stderr
    assert len(upstream_bodies(emulator)) == calls


def aider_money(amount: float) -> str:
    """Two decimals from a cent up, else two significant digits: how aider prints costs."""
    if amount >= 0.01:
        return f"{amount:.2f}"
    digits = 1
    while amount * 10**digits < 10:
        digits += 1
    return f"{amount:.{digits}f}"


async def test_each_reply_shows_its_cost_and_the_conversations_total(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """With prices set ($1 in, $10 out per 1M tokens), each usage line shows the reply's cost
    (its own tokens priced: in x 1e-6 + out x 1e-5) and the conversation's running total (the
    sum of the replies so far), as aider prints them; a model without a price shows tokens
    only."""
    prices = shlex.quote(f"prices={json.dumps(PRICES)}")
    await start_repl(tmux, server_env, workspace, f"--setting {prices}")
    tmux.type("first question")
    await shows(tmux, prompt_after("turn 1"), "the first reply")
    tmux.type("second, a little longer question")
    screen = await shows(tmux, prompt_after("turn 2"), "the second reply")
    lines = USAGE.findall(screen)
    assert [turn for *_rest, turn in lines] == ["1", "2"]
    costs = [int(i.replace(",", "")) * 1e-6 + int(o.replace(",", "")) * 1e-5 for i, o, *_ in lines]
    assert [reply for _i, _o, reply, _t, _n in lines] == [aider_money(c) for c in costs]
    assert [total for *_r, total, _n in lines] == [aider_money(costs[0]), aider_money(sum(costs))]
    tmux.type("/model gemini-robotics-er-1.5-preview")
    await shows(tmux, prompt_after("Model for this folder"), "an unpriced model")
    tmux.type("third")
    screen = await shows(tmux, prompt_after("turn 3"), "the unpriced reply")
    unpriced = screen.rsplit("you> third", 1)[1]
    assert re.search(r"gemini-robotics-er-1\.5-preview · \d+ in · \d+ out · turn 3", unpriced)
    assert "$" not in unpriced


async def test_status_tells_the_rate_limit_last_met(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """`/status` before any 429 says none was met; a per-minute 429 asking for 30 s (no
    retries) fails the turn with a hint to /status, which then names the quota and the model,
    when it ran out and when it lifts (30 s later, in local time) and how long is left."""
    await start_repl(tmux, server_env, workspace, "--setting maxRetries=0")
    tmux.type("/status")
    screen = await shows(tmux, prompt_after("rate limit"), "the status")
    assert "rate limit  none met since the daemon started" in screen
    assert "model       gemini-2.5-flash (the next turn's; /model changes it)" in screen
    emulator.script({"status": 429, "retryDelay": "30s", "quota": "minute"})
    tmux.type("hello?")
    await shows(tmux, prompt_after("/status says which quota ran out and when it lifts."), "hint")
    tmux.type("/status")
    screen = await shows(tmux, prompt_after("the newest 429"), "the rate limit")
    found = re.search(
        r"rate limit  the per-minute quota of gemini-2\.5-flash ran out at (\d\d:\d\d:\d\d); "
        r"lifts at (\d\d:\d\d:\d\d) \(in (\d+) s\)",
        screen,
    )
    assert found, screen
    at, lifts = (datetime.datetime.strptime(t, "%H:%M:%S") for t in found.group(1, 2))
    assert (lifts - at).total_seconds() % 86400 == 30
    assert 20 <= int(found.group(3)) <= 30
