"""A conversation as Markdown (gemini/export) and a stored entry as a gemini/history turn."""

from __future__ import annotations

from gemini_chat import transcript
from gemini_chat.protocol import Json
from gemini_chat.store import Entry

STAMP = "2025-03-04T05:06:07.890Z"


def entry(role: str, **meta: object) -> Entry:
    """A stored entry with this meta (the content is not shown by either)."""
    return Entry(0, 1, role, {"role": role, "parts": []}, meta, STAMP)


def doc(*exchanges: list[Entry], title: str = "T") -> list[str]:
    """The exported document's lines after the title and the summary line."""
    text = transcript.markdown(title, (STAMP, "2025-03-05T10:11:12.000Z"), exchanges)
    assert text.endswith("\n") and not text.endswith("\n\n")
    return text.split("\n")[4:-1]


def test_the_head_names_the_title_turns_and_dates() -> None:
    """Title on one line (whitespace collapsed; blank: Untitled), then the turn count (1 turn,
    2 turns) and the first and last dates to the minute, UTC."""
    one = transcript.markdown(" Sorting \n lists ", (STAMP, STAMP), [[entry("user", text="q")]])
    assert one.split("\n")[:3] == [
        "# Sorting lists",
        "",
        "_1 turn, started 2025-03-04 05:06, last 2025-03-04 05:06 UTC._",
    ]
    two = transcript.markdown("", (STAMP, "2025-03-05T10:11:12.000Z"), [[], []])
    assert two == "# Untitled\n\n_2 turns, started 2025-03-04 05:06, last 2025-03-05 10:11 UTC._\n"


def test_you_shows_the_question_and_names_the_attachments() -> None:
    """`## You`, the question, then `Attached:` with each attachment's name in backticks; a
    summary exchange is `## You (summary)`; a question without text shows only attachments."""
    attached = entry(
        "user",
        text="  Review these  ",
        attachments=[{"name": "app.py", "mimeType": "text/x-python"}, {"name": "cat.png"}, "x"],
    )
    assert doc([attached]) == [
        "## You", "", "Review these", "", "Attached: `app.py`, `cat.png`",
    ]  # fmt: skip
    assert doc([entry("user", text="Summary of 3", compacted=3)]) == [
        "## You (summary)", "", "Summary of 3",
    ]  # fmt: skip
    assert doc([entry("user", text="", attachments=[{"name": "a.txt"}])]) == [
        "## You", "", "Attached: `a.txt`",
    ]  # fmt: skip


def test_gemini_shows_thoughts_tools_text_images_and_usage_in_order() -> None:
    """`## Gemini`: thoughts in a collapsed <details>, each tool call with its summary, the
    reply, each image as a link (<...> keeps a path with spaces one link), then the model and
    usage with the reply's cost."""
    reply = entry(
        "model",
        text="Here it is.",
        thoughts="Reading the file first.",
        toolCalls=[{"name": "read_file", "summary": "src/app.py (12 lines)"}],
        images=[{"mimeType": "image/png", "path": "/data/my images/ab12.png"}],
        model="gemini-2.5-pro",
        usage={"promptTokens": 120, "replyTokens": 30, "thoughtsTokens": 8,
               "cost": {"reply": 0.00123, "conversation": 0.002, "currency": "USD"}},
    )  # fmt: skip
    assert doc([reply]) == [
        "## Gemini",
        "",
        "<details><summary>Thoughts</summary>",
        "",
        "Reading the file first.",
        "",
        "</details>",
        "",
        "- `read_file`: src/app.py (12 lines)",
        "",
        "Here it is.",
        "",
        "![ab12.png](</data/my images/ab12.png>)",
        "",
        "_gemini-2.5-pro: 120 prompt, 30 reply, 8 thinking tokens, $0.001230_",
    ]


def test_imagen_usage_counts_images_and_an_unpriced_reply_has_no_cost() -> None:
    """Imagen's usage reads `N image(s)`; a reply without a cost, or without a model, shows
    the tokens alone, attributed to Gemini."""
    drawn = entry("model", text="", model="imagen-4.0-generate-001",
                  usage={"images": 2, "cost": {"reply": 0.08}})  # fmt: skip
    assert doc([drawn])[-1] == "_imagen-4.0-generate-001: 2 images, $0.080000_"
    single = entry("model", text="", model="imagen-4.0", usage={"images": 1})
    assert doc([single])[-1] == "_imagen-4.0: 1 image_"
    plain = entry("model", text="ok", usage={"promptTokens": 1})
    assert doc([plain])[-1] == "_Gemini: 1 prompt, 0 reply, 0 thinking tokens_"
    assert doc([entry("model", text="no usage")]) == ["## Gemini", "", "no usage"]


def test_hidden_entries_are_left_out_of_the_export() -> None:
    """Entries marked hidden (tool rounds) are not exported; the exchange's others are."""
    exchange = [
        entry("user", text="q"),
        entry("model", text="calling", hidden=True),
        entry("user", text="tool result", hidden=True),
        entry("model", text="answer"),
    ]
    assert doc(exchange) == ["## You", "", "q", "", "", "## Gemini", "", "answer"]


def test_a_history_turn_shows_the_fields_of_its_role() -> None:
    """shown(): role, text, attachments (default []), time; a user turn adds compacted and
    imagen, a model turn usage, thoughts, model, finishReason, toolCalls, images, filtered,
    json, each only when set."""
    user = entry("user", text="q", compacted=2, imagen={"model": "imagen"}, usage={"x": 1})
    assert transcript.shown(user) == {
        "role": "user", "text": "q", "attachments": [], "time": STAMP,
        "compacted": 2, "imagen": {"model": "imagen"},
    }  # fmt: skip
    fields: Json = {
        "usage": {"promptTokens": 1}, "thoughts": "t", "model": "m", "finishReason": "STOP",
        "toolCalls": [], "images": [], "filtered": ["x"], "json": {"valid": True},
    }  # fmt: skip
    model = entry("model", text="a", attachments=[{"name": "n"}], compacted=2, **fields)
    assert transcript.shown(model) == {
        "role": "model", "text": "a", "attachments": [{"name": "n"}], "time": STAMP, **fields,
    }  # fmt: skip
    assert transcript.shown(entry("model", thoughts=None)) == {
        "role": "model", "text": "", "attachments": [], "time": STAMP,
    }  # fmt: skip
