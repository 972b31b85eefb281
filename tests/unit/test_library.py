"""The conversations of a folder through the gemini/* handlers (Library over the chat service):
list, open, rename, delete (image files too), export; ids checked; turns in flight respected."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from gemini_chat import protocol
from gemini_chat.library import Library

from .core_fakes import FakeDaemon, Gate, Rig, call, refused, text, usage


async def chat(rig: Rig, *questions: str) -> None:
    """One turn per question, each answered `re: <question>`."""
    for q in questions:
        rig.gemini.script(text(f"re: {q}", usage=usage(10, 3)))
        await rig.turn(q)


def ids(listing: dict[str, object]) -> list[str]:
    """The listed conversations' ids, in order."""
    return [str(c["id"]) for c in listing["conversations"]]  # type: ignore[union-attr]


async def test_list_open_rename_through_the_handlers(rig: Rig, daemon: FakeDaemon) -> None:
    """conversations lists both with the active one named; openConversation switches (the
    next turn continues the opened one); renameConversation answers the shown title."""
    await chat(rig, "First topic")
    await call(daemon, protocol.RESET, {})
    await chat(rig, "Second topic")
    listing = await call(daemon, protocol.CONVERSATIONS, {})
    second, first = ids(listing)
    assert (listing["workspace"], listing["active"], listing["total"]) == (rig.ws.uri, second, 2)
    assert await call(daemon, protocol.OPEN_CONVERSATION, {"id": first}) == {
        "workspace": rig.ws.uri,
        "id": first,
    }
    await chat(rig, "Back to the first")
    assert [t for _, t in rig.stored()][::2] == ["First topic", "Back to the first"]
    renamed = await call(daemon, protocol.RENAME_CONVERSATION, {"id": second, "title": " Two "})
    assert renamed == {"workspace": rig.ws.uri, "id": second, "title": "Two"}
    listing = await call(daemon, protocol.CONVERSATIONS, {"limit": 1, "offset": 1})
    assert (ids(listing), listing["active"], listing["total"]) == ([second], first, 2)


async def test_a_later_page_of_a_folder_without_active_conversation(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """Past the first page with no active conversation (after a reset), `active` is null."""
    await chat(rig, "one")
    await call(daemon, protocol.RESET, {})
    await chat(rig, "two")
    await call(daemon, protocol.RESET, {})
    listing = await call(daemon, protocol.CONVERSATIONS, {"offset": 1})
    assert (len(ids(listing)), listing["active"], listing["total"]) == (1, None, 2)


async def test_the_active_conversation_is_named_when_it_is_not_on_the_first_page(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """Three conversations, the oldest opened (opening does not make it recent): the first page
    of two lists the two newest and still names the opened one as active."""
    await chat(rig, "One")
    await call(daemon, protocol.RESET, {})
    await chat(rig, "Two")
    await call(daemon, protocol.RESET, {})
    await chat(rig, "Three")
    *_, oldest = ids(await call(daemon, protocol.CONVERSATIONS, {}))
    await call(daemon, protocol.OPEN_CONVERSATION, {"id": oldest})
    page = await call(daemon, protocol.CONVERSATIONS, {"limit": 2})
    assert oldest not in ids(page)
    assert page["active"] == oldest


@pytest.mark.parametrize(
    ("method", "params"),
    [
        (protocol.OPEN_CONVERSATION, {"id": "77"}),
        (protocol.RENAME_CONVERSATION, {"id": "77", "title": "x"}),
        (protocol.DELETE_CONVERSATION, {"id": "77"}),
        (protocol.EXPORT, {"id": "77"}),
        (protocol.OPEN_CONVERSATION, {"id": "seventy"}),
        (protocol.EXPORT, {"id": "²"}),
        (protocol.DELETE_CONVERSATION, {"id": "7²"}),
    ],
)
async def test_an_id_not_of_this_folder_is_invalid_params_naming_id(
    rig: Rig, daemon: FakeDaemon, method: str, params: dict[str, object]
) -> None:
    """An unknown id, or one that is no number (a Unicode digit included), is -32602 with
    data.field "id" (never an internal error)."""
    err = await refused(daemon, method, params)
    assert (err.code, err.data) == (-32602, {"reason": "invalidParams", "field": "id"})


async def test_export_of_a_folder_without_conversation_names_id(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """export without id on a folder with no conversation: -32602 on `id`, saying so."""
    err = await refused(daemon, protocol.EXPORT, {})
    assert err.data == {"reason": "invalidParams", "field": "id"}
    assert "no conversation yet" in err.message


async def test_export_gives_the_active_conversation_as_markdown(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """export without id: the active conversation's title and Markdown, its turns in order with
    the model and usage (runs of blank lines compared as one, as Markdown reads them); with
    the id of an archived one, that one."""
    await chat(rig, "How do I sort a list?", "And reverse it?")
    exported = await call(daemon, protocol.EXPORT, {})
    active = (await call(daemon, protocol.CONVERSATIONS, {}))["active"]
    assert (exported["id"], exported["title"]) == (active, "How do I sort a list?")
    markdown = str(exported["markdown"])
    assert markdown.startswith("# How do I sort a list?\n\n_2 turns, started ")
    turns = (await call(daemon, protocol.HISTORY, {}))["turns"]
    cost = turns[1]["usage"]["cost"]["reply"]  # type: ignore[index]
    spent = f"_{rig.settings.model}: 10 prompt, 3 reply, 0 thinking tokens, ${cost:.6f}_"
    body = re.sub(r"\n{3,}", "\n\n", markdown.split("\n", 3)[3])
    assert body == (
        "\n## You\n\nHow do I sort a list?\n\n## Gemini\n\nre: How do I sort a list?\n\n"
        f"{spent}\n"
        "\n## You\n\nAnd reverse it?\n\n## Gemini\n\nre: And reverse it?\n\n"
        f"{spent}\n"
    )
    await call(daemon, protocol.RESET, {})
    await chat(rig, "New one")
    again = await call(daemon, protocol.EXPORT, {"id": active})
    assert again["markdown"] == markdown


async def test_delete_removes_the_conversation_and_its_image_files(
    rig: Rig, daemon: FakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    """deleteConversation: the conversation is gone from the list and its image files from
    disk; a file that cannot be removed is logged, not an error."""
    images = rig.settings.data_dir / "images"
    images.mkdir(parents=True)
    gone, stuck = images / "a.png", images / "b.png"
    gone.write_bytes(b"png")
    stuck.mkdir()
    (stuck / "inside").write_text("a folder where an image was")
    shown = [
        {"mimeType": "image/png", "path": str(gone)},
        {"mimeType": "image/png", "path": str(stuck)},
    ]
    rig.store.commit(
        rig.ws.key,
        [
            ("user", {"role": "user", "parts": [{"text": "draw"}]}, {"text": "draw"}),
            ("model", {"role": "model", "parts": [{"text": ""}]}, {"text": "", "images": shown}),
        ],
    )
    (conv,) = ids(await call(daemon, protocol.CONVERSATIONS, {}))
    with caplog.at_level(logging.WARNING, logger="gemini_chat.library"):
        result = await call(daemon, protocol.DELETE_CONVERSATION, {"id": conv})
    assert result == {"workspace": rig.ws.uri, "id": conv, "deleted": True}
    assert (await call(daemon, protocol.CONVERSATIONS, {}))["total"] == 0
    assert not gone.exists()
    assert f"Could not delete {stuck}" in caplog.text


async def test_changes_to_the_conversation_wait_for_the_turn_in_flight(rig: Rig) -> None:
    """A new conversation asked while a turn is in flight is made only after the turn is
    committed: the turn's exchange lands in the conversation it started in."""
    library = Library(rig.service)
    gate = Gate(text("the reply"))
    rig.gemini.script(gate)
    turn = asyncio.create_task(rig.turn("in flight"))
    await asyncio.wait_for(gate.arrived.wait(), 5)
    fresh = asyncio.create_task(library.new_conversation(rig.ws))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not fresh.done()
    gate.released.set()
    await turn
    new = await asyncio.wait_for(fresh, 5)
    listing = await library.conversations(rig.ws, 10, 0)
    assert listing["active"] == new
    started = [c for c in listing["conversations"] if c["id"] != new]  # type: ignore[union-attr]
    assert [(c["title"], c["turns"]) for c in started] == [("in flight", 1)]  # type: ignore[index]
