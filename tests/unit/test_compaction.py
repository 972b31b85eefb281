"""Context-window arithmetic: estimates, the split into summarised and kept exchanges."""

from __future__ import annotations

from gemini_chat.compaction import (
    IMAGE_TOKENS,
    estimate_tokens,
    exchanges,
    split,
    summary_exchange,
    too_long,
)
from gemini_chat.store import Entry


def _entry(
    seq: int, turn: int, role: str, text: str, meta: dict[str, object] | None = None
) -> Entry:
    return Entry(seq, turn, role, {"role": role, "parts": [{"text": text}]}, meta or {}, "t")


def test_estimate_uses_the_last_usage_plus_what_came_after() -> None:
    """The last reply's usage counts the history up to it; the draft adds characters / 4."""
    usage = {"promptTokens": 100, "replyTokens": 20, "thoughtsTokens": 5, "totalTokens": 125}
    history = [_entry(0, 1, "user", "q"), _entry(1, 1, "model", "a", {"usage": usage})]
    draft = {"role": "user", "parts": [{"text": "x" * 400}]}
    assert 125 + 100 <= estimate_tokens(history, draft) <= 125 + 120


def test_estimate_without_usage_counts_characters() -> None:
    """No recorded usage (e.g. after compaction): characters / 4 of everything."""
    history = [_entry(0, 1, "user", "y" * 4000), _entry(1, 1, "model", "z")]
    assert estimate_tokens(history, {"role": "user", "parts": []}) > 1000


def _imagen_exchange(seq: int, turn: int, count: int) -> list[Entry]:
    """An exchange as `gemini/generateImage` stores it: the prompt, then `count` images of a
    megabyte of base64 each, with Imagen's usage (every count zero, `images`)."""
    image = {"inlineData": {"mimeType": "image/png", "data": "A" * 1_000_000}}
    usage = {"promptTokens": 0, "replyTokens": 0, "thoughtsTokens": 0, "images": count}
    reply = Entry(seq + 1, turn, "model", {"role": "model", "parts": [image] * count},
                  {"usage": usage, "images": []}, "t")  # fmt: skip
    return [_entry(seq, turn, "user", "a lighthouse at dusk"), reply]


def test_estimate_after_an_image_request_still_counts_the_conversation_before_it() -> None:
    """An Imagen exchange after a chat reply: the estimate is that reply's usage plus the
    prompt and one IMAGE_TOKENS per image, not Imagen's all-zero usage (which made the
    conversation before it count nothing, so compaction could not start)."""
    usage = {"promptTokens": 90_000, "replyTokens": 10_000, "thoughtsTokens": 0}
    history = [_entry(0, 1, "user", "q"), _entry(1, 1, "model", "a", {"usage": usage})]
    history += _imagen_exchange(2, 2, 2)
    estimate = estimate_tokens(history, {"role": "user", "parts": [{"text": "and now?"}]})
    assert 100_000 + 2 * IMAGE_TOKENS <= estimate <= 100_000 + 2 * IMAGE_TOKENS + 100


def test_estimate_counts_an_inline_image_as_tokens_not_its_base64() -> None:
    """Images and no chat reply yet (nothing says a size): each image counts IMAGE_TOKENS,
    the prompts their characters / 4, not the 4 MB of base64 (a million "tokens", which would
    summarise a conversation of two pictures); an image attached to the draft counts alike."""
    history = _imagen_exchange(0, 1, 2) + _imagen_exchange(2, 2, 2)
    image = {"inlineData": {"mimeType": "image/jpeg", "data": "B" * 500_000}}
    draft = {"role": "user", "parts": [{"text": "what differs?"}, image]}
    assert 5 * IMAGE_TOKENS <= estimate_tokens(history, draft) <= 5 * IMAGE_TOKENS + 100


def test_split_keeps_the_two_latest_exchanges_with_their_tool_rounds() -> None:
    """Exchanges group by turn, tool rounds included; the newest two are kept."""
    history = [
        _entry(0, 1, "user", "1"), _entry(1, 1, "model", "1"),
        _entry(2, 2, "user", "2"), _entry(3, 2, "model", "call"), _entry(4, 2, "user", "resp"),
        _entry(5, 2, "model", "2"),
        _entry(6, 3, "user", "3"), _entry(7, 3, "model", "3"),
    ]  # fmt: skip
    assert [len(g) for g in exchanges(history)] == [2, 4, 2]
    old, recent = split(history)
    assert [g[0].turn for g in old] == [1]
    assert [g[0].turn for g in recent] == [2, 3]


def test_short_histories_are_summarised_whole() -> None:
    """With two exchanges or fewer there is nothing to keep apart."""
    history = [_entry(0, 1, "user", "1"), _entry(1, 1, "model", "1")]
    old, recent = split(history)
    assert (len(old), recent) == (1, [])


def test_summary_exchange_is_marked() -> None:
    """The summary's user entry says how many exchanges it stands for."""
    (_, user, user_meta), (_, model, model_meta) = summary_exchange("They like cats.", 3)
    assert user_meta["compacted"] == 3
    assert "They like cats." in user["parts"][0]["text"]  # type: ignore[index]
    assert model_meta["text"] == "They like cats."
    assert model["role"] == "model"


def test_too_long_recognises_the_apis_wording() -> None:
    """The real API's message for an over-long prompt is recognised; other 400s are not."""
    assert too_long(
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."
    )
    assert not too_long("Request contains an invalid argument.")
