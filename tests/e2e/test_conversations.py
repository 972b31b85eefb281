"""Conversations you can find again: list, open, rename, delete and export, through the real
daemon; each change reaches every daemon on the folder."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator
from polling import until

from .conftest import StartDaemon
from .daemon import Daemon, error_data

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000000000200015e2734800000000049454e44ae426082"
    )
).decode()


async def _listing(d: Daemon) -> dict[str, Any]:
    return await d.request("gemini/conversations", {})


async def _two_conversations(d: Daemon) -> tuple[str, str]:
    await d.chat("How many paws do two dogs have?\nAnd a cat?")
    await d.request("gemini/reset", {})
    await d.chat("x" * 100)
    listing = await _listing(d)
    return listing["conversations"][1]["id"], listing["conversations"][0]["id"]


async def test_list_titles_order_and_counts(daemons: StartDaemon) -> None:
    """Conversations list most recently updated first, archived ones included, titled by the
    first question's first line (60 characters at most, with an ellipsis), with created and
    updated times, turn counts and the active flag."""
    d = await daemons()
    old, new = await _two_conversations(d)
    await d.chat("second turn of the new one")
    listing = await _listing(d)
    assert listing["active"] == new and listing["total"] == 2
    first, second = listing["conversations"]
    assert (first["id"], first["active"], first["turns"]) == (new, True, 2)
    assert first["title"] == "x" * 59 + "…" and len(first["title"]) == 60
    assert (second["id"], second["active"], second["turns"]) == (old, False, 1)
    assert second["title"] == "How many paws do two dogs have?"
    assert first["updated"] >= first["created"] and first["updated"] > second["updated"]


async def test_open_makes_an_archived_conversation_active(daemons: StartDaemon) -> None:
    """openConversation restores an archived conversation (history shows it, the next turn
    continues it); the one that was active is archived, not lost; every daemon is told."""
    a, b = await daemons(), await daemons()
    old, new = await _two_conversations(a)
    assert await a.request("gemini/openConversation", {"id": old}) == {
        "workspace": a.folders[0],
        "id": old,
    }
    turns = await a.history()
    assert turns[0]["text"] == "How many paws do two dogs have?\nAnd a cat?"
    result = await b.chat("and a bird?")
    assert result["turn"] == 2
    listing = await _listing(b)
    assert listing["active"] == old
    assert {c["id"] for c in listing["conversations"]} == {old, new}
    for d in (a, b):
        await until(lambda d=d: any(c["reason"] == "open" for c in d.changes()), "open")


async def test_rename_and_delete_tell_every_daemon(daemons: StartDaemon) -> None:
    """Renaming an archived conversation and deleting one reach the other daemon as
    conversationChanged renamed/deleted; a deleted conversation is gone from the list; deleting
    the active one leaves the folder with none."""
    a, b = await daemons(), await daemons()
    old, new = await _two_conversations(a)
    renamed = await a.request("gemini/renameConversation", {"id": old, "title": "  Paws  "})
    assert renamed["title"] == "Paws"
    await a.request("gemini/deleteConversation", {"id": new})
    listing = await _listing(b)
    assert [(c["id"], c["title"]) for c in listing["conversations"]] == [(old, "Paws")]
    assert listing["active"] is None
    assert await b.history() == []
    await until(
        lambda: {"renamed", "deleted"} <= {c["reason"] for c in b.changes()}, "renamed, deleted"
    )


@pytest.mark.parametrize(
    "method", ["openConversation", "renameConversation", "deleteConversation", "export"]
)
async def test_unknown_ids_name_the_field(
    daemons: StartDaemon, workspace: Path, tmp_path: Path, method: str
) -> None:
    """An id that is not a conversation of that folder (unknown, malformed, or another
    folder's) is -32602 naming `id`."""
    other = tmp_path / "other"
    other.mkdir()
    d = await daemons(folders=[workspace, other])
    await d.chat("in the other folder", workspace=other.as_uri())
    theirs = (await d.request("gemini/conversations", {"workspace": other.as_uri()}))["active"]
    for bad in ("999", "abc", theirs):
        with pytest.raises(JsonRpcException) as err:
            await d.request(
                f"gemini/{method}", {"id": bad, "title": "t"} if "rename" in method else {"id": bad}
            )
        assert err.value.code == -32602
        assert error_data(err.value)["field"] == "id"


async def test_delete_removes_its_images_but_not_shared_ones(
    daemons: StartDaemon, emulator: Emulator, data_dir: Path
) -> None:
    """Deleting a conversation deletes the image files only it showed; a file another
    conversation's reply shows too stays."""
    d = await daemons()
    image = {"mimeType": "image/png", "data": PNG}
    emulator.script({"reply": "here", "image": image})
    first = await d.chat("draw")
    await d.request("gemini/reset", {})
    emulator.script({"reply": "again", "image": image})
    await d.chat("draw the same")
    path = Path(first["images"][0]["path"])
    old = (await _listing(d))["conversations"][1]["id"]
    await d.request("gemini/deleteConversation", {"id": old})
    assert await asyncio.to_thread(path.exists), "the other conversation still shows it"
    active = (await _listing(d))["active"]
    await d.request("gemini/deleteConversation", {"id": active})
    assert not await asyncio.to_thread(path.exists)
    assert (await _listing(d))["conversations"] == []


async def test_export_is_markdown_that_renders(daemons: StartDaemon, emulator: Emulator) -> None:
    """gemini/export renders the title, `## You` / `## Gemini` per turn, attachments named,
    thoughts in a collapsed <details>, tool calls, images as links and usage; markdown-it
    parses it into those headings, the details block and the image."""
    d = await daemons()
    emulator.script(
        {"functionCall": {"name": "list_files", "args": {"glob": "*"}}},
        {
            "reply": "Two files.",
            "thought": "Let me list them.",
            "image": {"mimeType": "image/png", "data": PNG},
        },
    )
    await d.chat(
        "What is here?",
        attachments=[{"name": "notes", "text": "a note"}],
        generationConfig={"thinkingConfig": {"includeThoughts": True}},
    )
    exported = await d.request("gemini/export", {})
    md = exported["markdown"]
    assert exported["title"] == "What is here?" and md.startswith("# What is here?\n")
    tokens = MarkdownIt("commonmark").enable("table").parse(md)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == ["What is here?", "You", "Gemini"]
    html = MarkdownIt("commonmark").render(md)
    assert "<details><summary>Thoughts</summary>" in html and "Let me list them." in html
    assert "Attached: <code>notes</code>" in html
    assert "<code>list_files</code>: listed" in html
    assert '<img src="/' in html and '.png" alt="' in html
    assert "prompt," in md and "Two files." in md


async def test_export_of_a_compacted_conversation_gives_back_what_was_summarised(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """A compacted conversation lists once (its originals are not separate conversations) and
    exports every exchange, the summarised ones included."""
    d = await daemons(init_options={"compactThreshold": 0.5, "tools": False})
    emulator.set_input_token_limit(400)
    for i in range(5):
        await d.chat(f"question {i}: " + "words " * 40)
    listing = await _listing(d)
    assert len(listing["conversations"]) == 1
    md = (await d.request("gemini/export", {}))["markdown"]
    for i in range(5):
        assert f"question {i}:" in md
    assert md.count("## You") >= 5


async def test_thousands_of_conversations_page(
    daemons: StartDaemon, data_dir: Path, workspace: Path
) -> None:
    """With 3,000 archived conversations in the store the list pages (limit, offset, total) and
    turns still run."""
    d = await daemons()
    await d.chat("the newest")
    db = sqlite3.connect(data_dir / "conversations.sqlite3")
    with db:
        db.executemany(
            "INSERT INTO conversations (workspace, created, updated, archived, title, turns)"
            " VALUES (?, ?, ?, ?, ?, 1)",
            [
                (
                    str(workspace.resolve()),  # noqa: ASYNC240
                    "2025-01-01T00:00:00.000Z",
                    f"2025-01-01T00:00:{i % 60:02d}.000Z",
                    "2025-01-02T00:00:00.000Z",
                    f"old {i}",
                )
                for i in range(3000)
            ],
        )
    db.close()
    page = await d.request("gemini/conversations", {"limit": 50, "offset": 0})
    assert page["total"] == 3001 and len(page["conversations"]) == 50
    assert page["conversations"][0]["title"] == "the newest"
    last = await d.request("gemini/conversations", {"limit": 50, "offset": 2990})
    assert len(last["conversations"]) == 11 and last["active"] == page["active"]
    assert (await d.chat("still fast"))["turn"] == 2
