"""What a reply costs: prices per model and the arithmetic of the Gemini API's pricing page.

The prices come from prices.json beside this module (dated, its source named); the `prices`
setting replaces or adds whole entries. A model in neither is unpriced: its replies show tokens
only. Each call is priced on its own (the higher rates apply to a call whose prompt passes the
long-prompt threshold), and a turn's cost is the sum of its calls.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Self, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from .gemini import wire
from .protocol import Json

if TYPE_CHECKING:  # settings import this module: keep it light
    from .store import Entry

PER_TOKENS = 1_000_000
"""Prices are in USD per this many tokens."""
DIGITS = 8
"""Costs are rounded to this many decimals (a hundredth of a micro-dollar)."""
CURRENCY = "USD"

Usd = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Rate = Usd | tuple[Usd, Usd]
"""USD per 1M tokens, or a pair: (prompts up to the long-prompt threshold, longer prompts)."""


class Price(BaseModel):
    """One model's prices, as the table and the `prices` setting write them (camelCase)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    input: Rate | None = None
    output: Rate | None = None
    """Reply and thinking tokens."""
    cached: Rate | None = None
    """Prompt tokens served from the context cache; the input price when not given."""
    image_output: Rate | None = None
    """Image tokens of a reply; the output price when not given."""
    per_image: Usd | None = None
    """Imagen: each image made."""

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.per_image is None and (self.input is None or self.output is None):
            raise ValueError("give input and output (USD per 1M tokens), or perImage")
        return self


@dataclass(frozen=True)
class PriceTable:
    """The prices shipped with the package."""

    source: str
    as_of: str
    long_prompt: int
    """Prompt tokens above which a call is billed at the second rate of a pair."""
    models: dict[str, Price]
    aliases: dict[str, str]

    def price(self, model: str, overrides: Mapping[str, Price]) -> Price | None:
        """The model's price: the setting's entry, else the table's (through an alias)."""
        name = self.aliases.get(model, model)
        return overrides.get(model) or overrides.get(name) or self.models.get(name)


@functools.cache
def shipped() -> PriceTable:
    """prices.json, read once."""
    text = (resources.files("gemini_chat") / "prices.json").read_text(encoding="utf-8")
    raw = cast(Json, json.loads(text))
    models = cast(dict[str, object], raw["models"])
    return PriceTable(
        source=str(raw["source"]),
        as_of=str(raw["asOf"]),
        long_prompt=int(cast(int, raw["longPromptTokens"])),
        models={name: Price.model_validate(p) for name, p in models.items()},
        aliases={str(k): str(v) for k, v in cast(dict[str, object], raw["aliases"]).items()},
    )


def _at(rate: Rate, long: bool) -> float:
    return rate if isinstance(rate, float | int) else rate[1 if long else 0]


def call_cost(price: Price, usage: wire.UsageMetadata, long_prompt: int) -> float | None:
    """One call's cost from its usage metadata; None when the price has no token rates.

    Cached tokens are part of the prompt count and billed at the cache price; tool-use prompt
    tokens at the input price; thinking tokens at the output price; image tokens of the reply
    (candidatesTokensDetails, modality IMAGE) at the image output price.
    """
    if price.input is None or price.output is None:
        return None
    long = usage.prompt_token_count > long_prompt
    inp, out = _at(price.input, long), _at(price.output, long)
    cached_rate = inp if price.cached is None else _at(price.cached, long)
    image_rate = out if price.image_output is None else _at(price.image_output, long)
    cached = min(usage.cached_content_token_count, usage.prompt_token_count)
    fresh = usage.prompt_token_count - cached + usage.tool_use_prompt_token_count
    details = usage.candidates_tokens_details or []
    image = min(
        sum(d.token_count for d in details if d.modality == "IMAGE"),
        usage.candidates_token_count,
    )
    text = usage.candidates_token_count - image + usage.thoughts_token_count
    return (fresh * inp + cached * cached_rate + text * out + image * image_rate) / PER_TOKENS


def reply_cost(
    model: str, overrides: Mapping[str, Price], usages: Sequence[wire.UsageMetadata]
) -> float | None:
    """A turn's cost: the sum of its calls (a tool loop makes several); None if unpriced."""
    table = shipped()
    price = table.price(model, overrides)
    if price is None:
        return None
    costs = [call_cost(price, u, table.long_prompt) for u in usages]
    if any(c is None for c in costs):
        return None
    return round(sum(c for c in costs if c is not None), DIGITS)


def images_cost(model: str, overrides: Mapping[str, Price], count: int) -> float | None:
    """What `count` Imagen images cost; None if the model has no per-image price."""
    price = shipped().price(model, overrides)
    if price is None or price.per_image is None:
        return None
    return round(price.per_image * count, DIGITS)


def running_total(history: Sequence[Entry]) -> float:
    """The conversation's cost so far: the total its newest priced reply carries (a compacted
    conversation keeps its recent replies, and so the total)."""
    for entry in reversed(history):
        usage = entry.meta.get("usage")
        cost = cast(Json, usage).get("cost") if isinstance(usage, dict) else None
        total = cast(Json, cost).get("conversation") if isinstance(cost, dict) else None
        if isinstance(total, float | int) and not isinstance(total, bool):
            return float(total)
    return 0.0


def priced(usage: Mapping[str, object], cost: float | None, history: Sequence[Entry]) -> Json:
    """The usage object with its `cost` (this reply, the conversation's total with it), or as
    it was when the model is unpriced."""
    out: Json = dict(usage)
    if cost is not None:
        total = round(running_total(history) + cost, DIGITS)
        out["cost"] = {"reply": cost, "conversation": total, "currency": CURRENCY}
    return out
