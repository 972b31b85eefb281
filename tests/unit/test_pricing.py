"""Cost arithmetic against a small fixed table (the pricing page's rules: per 1M tokens,
input/output, a second rate above the long-prompt threshold, thinking as output, cached tokens
at the cache price, image tokens at the image price), the shipped table, the running total,
and a turn through the chat service keeping cachedTokens and pricing each call."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gemini_chat import pricing
from gemini_chat.gemini import wire
from gemini_chat.pricing import Price
from gemini_chat.settings import Settings, SettingsManager
from gemini_chat.store import Entry

from .core_fakes import MODEL, Rig, function_call, ok, response

LONG = 1000
"""The long-prompt threshold of these tests (the shipped table's is 200,000)."""
FLAT = Price(input=1.0, output=10.0)
TIERED = Price(input=(1.0, 2.0), output=(10.0, 20.0), cached=(0.5, 0.7), image_output=(30.0, 60.0))


def meta(**counts: Any) -> wire.UsageMetadata:
    """usageMetadata from camelCase counts, as the API sends them."""
    return wire.UsageMetadata.model_validate(counts)


def test_prompt_at_input_reply_at_output_per_million() -> None:
    """1000 prompt tokens at $1/1M and 100 reply tokens at $10/1M cost $0.002."""
    cost = pricing.call_cost(FLAT, meta(promptTokenCount=1000, candidatesTokenCount=100), LONG)
    assert cost == pytest.approx(0.002)


def test_thinking_tokens_are_priced_as_output() -> None:
    """Thinking tokens cost what reply tokens cost: 50 + 50 at $10/1M is $0.001."""
    usage = meta(candidatesTokenCount=50, thoughtsTokenCount=50)
    assert pricing.call_cost(FLAT, usage, LONG) == pytest.approx(0.001)


def test_cached_tokens_at_the_cache_price_not_as_fresh_input() -> None:
    """Of 800 prompt tokens, 600 came from the cache: 200 at $1/1M plus 600 at $0.5/1M."""
    usage = meta(promptTokenCount=800, cachedContentTokenCount=600)
    assert pricing.call_cost(TIERED, usage, LONG) == pytest.approx((200 * 1.0 + 600 * 0.5) / 1e6)


def test_without_a_cache_price_cached_tokens_cost_the_input_price() -> None:
    """A model with no cache price bills its cached tokens as input."""
    usage = meta(promptTokenCount=800, cachedContentTokenCount=600)
    assert pricing.call_cost(FLAT, usage, LONG) == pytest.approx(800 / 1e6)


def test_the_second_rates_apply_above_the_threshold_only() -> None:
    """A prompt of exactly the threshold pays the first rates; one token more pays the second
    rate on every token: input, cached, output and thinking alike."""
    at = meta(promptTokenCount=LONG, candidatesTokenCount=10, thoughtsTokenCount=10)
    assert pricing.call_cost(TIERED, at, LONG) == pytest.approx((LONG * 1.0 + 20 * 10.0) / 1e6)
    above = meta(
        promptTokenCount=LONG + 1,
        cachedContentTokenCount=1,
        candidatesTokenCount=10,
        thoughtsTokenCount=10,
    )
    expected = (LONG * 2.0 + 1 * 0.7 + 20 * 20.0) / 1e6
    assert pricing.call_cost(TIERED, above, LONG) == pytest.approx(expected)


def test_image_tokens_of_a_reply_at_the_image_price() -> None:
    """1290 image tokens and 10 text tokens of a reply: the image tokens at $30/1M, the text at
    $10/1M (candidatesTokensDetails says which are which)."""
    usage = meta(
        candidatesTokenCount=1300,
        candidatesTokensDetails=[
            {"modality": "TEXT", "tokenCount": 10},
            {"modality": "IMAGE", "tokenCount": 1290},
        ],
    )
    assert pricing.call_cost(TIERED, usage, LONG) == pytest.approx((1290 * 30 + 10 * 10) / 1e6)


def test_tool_use_prompt_tokens_at_the_input_price() -> None:
    """toolUsePromptTokenCount (tokens of tool results the API added) is billed as input."""
    usage = meta(promptTokenCount=100, toolUsePromptTokenCount=900)
    assert pricing.call_cost(FLAT, usage, LONG) == pytest.approx(1000 / 1e6)


def test_a_per_image_price_has_no_token_cost() -> None:
    """An Imagen price (per image only) prices images, not tokens."""
    imagen = Price(per_image=0.04)
    assert pricing.call_cost(imagen, meta(promptTokenCount=5), LONG) is None
    assert pricing.images_cost("anything", {"anything": imagen}, 3) == pytest.approx(0.12)


def test_a_turn_is_the_sum_of_its_calls_each_at_its_own_tier() -> None:
    """A tool loop of two calls, the second over the shipped threshold: each call is priced on
    its own and the costs added, rounded to 8 decimals."""
    threshold = pricing.shipped().long_prompt
    small = meta(promptTokenCount=100, candidatesTokenCount=10)
    big = meta(promptTokenCount=threshold + 1, candidatesTokenCount=10)
    cost = pricing.reply_cost("m", {"m": TIERED}, [small, big])
    expected = (100 * 1 + 10 * 10) / 1e6 + ((threshold + 1) * 2 + 10 * 20) / 1e6
    assert cost == round(expected, 8)


def test_unknown_models_are_unpriced_and_the_setting_wins() -> None:
    """A model in neither table is unpriced (None); an entry of the setting replaces the
    table's for that model, an alias included."""
    usage = [meta(promptTokenCount=1_000_000)]
    assert pricing.reply_cost("no-such-model", {}, usage) is None
    assert pricing.images_cost("no-such-model", {}, 1) is None
    assert pricing.reply_cost(MODEL, {MODEL: Price(input=7.0, output=1.0)}, usage) == 7.0
    alias = "gemini-2.0-flash-001"
    assert (
        pricing.reply_cost(alias, {"gemini-2.0-flash": Price(input=3.0, output=1.0)}, usage) == 3.0
    )


def _reply(turn: int, usage: dict[str, object] | None, hidden: bool = False) -> Entry:
    m: dict[str, object] = {"hidden": True} if hidden else {"usage": usage or {}}
    return Entry(turn * 2, turn, "model", {"role": "model", "parts": []}, m, "t")


def test_the_running_total_is_the_newest_priced_replys() -> None:
    """The conversation's total so far is the newest reply's `cost.conversation`, looking past
    unpriced replies and hidden tool rounds; 0 for a conversation with none."""
    priced = {"cost": {"reply": 0.5, "conversation": 1.25, "currency": "USD"}}
    history = [_reply(1, priced), _reply(2, {"promptTokens": 3}), _reply(3, None, hidden=True)]
    assert pricing.running_total(history) == 1.25
    assert pricing.running_total([]) == 0.0
    usage = pricing.priced({"promptTokens": 3}, 0.25, history)
    assert usage == {
        "promptTokens": 3,
        "cost": {"reply": 0.25, "conversation": 1.5, "currency": "USD"},
    }
    assert pricing.priced({"promptTokens": 3}, None, history) == {"promptTokens": 3}


def test_the_shipped_table_is_dated_sourced_and_whole() -> None:
    """prices.json names the pricing page and a date, its threshold is 200k tokens, every
    entry validates, every alias names an entry, and the default model and every Imagen model
    of the emulator's catalog are priced."""
    table = pricing.shipped()
    assert table.source == "https://ai.google.dev/gemini-api/docs/pricing"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table.as_of)
    assert table.long_prompt == 200_000
    assert set(table.aliases.values()) <= set(table.models)
    assert table.price(Settings().model, {}) is not None
    listed = json.loads((resources.files("gemini_chat.emulator.data") / "models.json").read_text())
    names = [str(m["name"]).removeprefix("models/") for m in listed["models"]]
    imagen = [n for n in names if n.startswith("imagen-")]
    assert imagen and all(table.price(m, {}) is not None for m in imagen)


def test_price_entries_are_checked() -> None:
    """A price needs input and output, or perImage; negative or unknown fields are refused;
    the prices setting with a bad entry is reported and the table kept."""
    for bad in ({"input": 1.0}, {"perImage": -1}, {"input": 1, "output": 1, "typo": 2}):
        with pytest.raises(ValidationError):
            Price.model_validate(bad)
    assert Price.model_validate({"input": [1, 2], "output": 3}).input == (1.0, 2.0)
    warned: list[str] = []
    manager = SettingsManager({}, warn=warned.append)
    manager.update({"prices": {MODEL: {"input": 1.0}}})
    assert manager.current.prices == {}
    assert len(warned) == 1 and "gemini.prices" in warned[0]


async def test_a_turn_keeps_cached_tokens_and_prices_each_call(tmp_path: Path) -> None:
    """A tool loop through the chat service: usage keeps cachedContentTokenCount as
    cachedTokens (summed over the calls), and the cost is the two calls' costs added, with the
    cached tokens at the cache price; the stored model turn holds the same usage."""
    prices = {MODEL: Price(input=1.0, output=10.0, cached=0.1)}
    async with Rig(tmp_path, prices=prices) as rig:
        (rig.ws.root / "src").mkdir(parents=True)
        (rig.ws.root / "src" / "a.py").write_text("x = 1\n")
        first = {"promptTokenCount": 100, "cachedContentTokenCount": 40, "candidatesTokenCount": 5}
        second = {
            "promptTokenCount": 300,
            "cachedContentTokenCount": 200,
            "candidatesTokenCount": 7,
        }
        rig.gemini.script(
            ok(response(function_call("read_file", {"path": "src/a.py"}), usage=first)),
            ok(response({"text": "x is 1."}, usage=second)),
        )
        result = await rig.turn("what is x?")
        usage: dict[str, Any] = result["usage"]  # type: ignore[assignment]
        assert usage["cachedTokens"] == 240
        expected = ((60 + 40 * 0.1 + 5 * 10) + (100 + 200 * 0.1 + 7 * 10)) / 1e6
        assert usage["cost"] == {
            "reply": round(expected, 8),
            "conversation": round(expected, 8),
            "currency": "USD",
        }
        stored = rig.store.history(rig.ws.key)[-1].meta["usage"]
        assert json.loads(json.dumps(stored)) == usage
