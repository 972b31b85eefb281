"""The ACP front end's pure parts: prompt blocks to a turn, a stored conversation to replayed
updates, the settings layer of --settings and flags, and the tools' editor extension point."""

from __future__ import annotations

import json
from pathlib import Path

import acp
import pytest
from acp.schema import BlobResourceContents, EmbeddedResourceContentBlock, TextResourceContents

from gemini_chat import tools
from gemini_chat.acp import options, prompt, replay
from gemini_chat.params import DataAttachment, TextAttachment, UriAttachment
from gemini_chat.protocol import FieldError, Json
from gemini_chat.store import Entry

from .core_fakes import workspace


def _embedded(uri: str, text: str | None = None, blob: str | None = None) -> prompt.Block:
    res = (
        TextResourceContents(uri=uri, text=text)
        if text is not None
        else BlobResourceContents(uri=uri, blob=blob or "", mime_type="application/pdf")
    )
    return EmbeddedResourceContentBlock(type="resource", resource=res)


def test_text_blocks_make_the_message_with_mentions_where_links_stood() -> None:
    """Texts keep their own spacing; a link is `@name` set apart by single spaces."""
    link = acp.resource_link_block("app.py", "file:///w/app.py")
    asked = prompt.read([acp.text_block("explain"), link, acp.text_block(", please")])
    assert asked.message == "explain @app.py, please"
    assert asked.attachments == [UriAttachment(uri="file:///w/app.py")]
    spaced = prompt.read([acp.text_block("see "), link, acp.text_block(" now")])
    assert spaced.message == "see @app.py now"


def test_a_prompt_of_links_only_has_no_message_and_empty_ones_are_refused() -> None:
    """Only attachments: the message is empty (not `@name`); nothing at all is refused."""
    link = acp.resource_link_block("app.py", "file:///w/app.py")
    assert prompt.read([link]).message == ""
    prompt.check_empty(prompt.read([link]))
    with pytest.raises(FieldError):
        prompt.check_empty(prompt.read([acp.text_block("  ")]))


def test_blocks_become_the_right_attachments() -> None:
    """Images and audio are inline data; an embedded file's text stands for the file; a blob is
    inline data; text of a non-file URI is a text attachment; a web link is only mentioned."""
    asked = prompt.read(
        [
            acp.text_block("look"),
            acp.image_block("aW1n", "image/png"),
            acp.audio_block("c25k", "audio/wav"),
            _embedded("file:///w/a.py", text="unsaved"),
            _embedded("file:///w/doc.pdf", blob="cGRm"),
            _embedded("zed:///selection", text="picked"),
            acp.resource_link_block("site", "https://example.com/x"),
        ]
    )
    assert asked.attachments == [
        DataAttachment(name="image-2", mime_type="image/png", data="aW1n"),
        DataAttachment(name="audio-3", mime_type="audio/wav", data="c25k"),
        UriAttachment(uri="file:///w/a.py"),
        DataAttachment(name="doc.pdf", mime_type="application/pdf", data="cGRm"),
        TextAttachment(name="selection", text="picked"),
    ]
    assert asked.texts == {"file:///w/a.py": "unsaved"}
    assert asked.message == "look @a.py @doc.pdf @selection @site"


def _entry(seq: int, role: str, meta: Json) -> Entry:
    return Entry(seq, 1, role, {"role": role, "parts": []}, meta, "2026-01-01T00:00:00Z")


def test_replay_shows_what_history_shows_in_order() -> None:
    """User text (with its attachments named), thoughts, tool calls (completed), the reply and
    its images; hidden tool rounds are left out."""
    exchange = [
        _entry(0, "user", {"text": "why?", "attachments": [{"name": "a.py"}]}),
        _entry(1, "model", {"hidden": True}),
        _entry(2, "user", {"hidden": True}),
        _entry(
            3,
            "model",
            {
                "text": "Because.",
                "thoughts": "Hmm.",
                "toolCalls": [{"name": "search_text", "summary": "searched for 'x' (1 match)"}],
                "images": [{"mimeType": "image/png", "path": "/data/img.png"}],
            },
        ),
    ]
    shown = [u.model_dump(by_alias=True, exclude_none=True) for u in replay.updates([exchange])]
    assert [u["sessionUpdate"] for u in shown] == [
        "user_message_chunk",
        "agent_thought_chunk",
        "tool_call",
        "agent_message_chunk",
        "agent_message_chunk",
    ]
    assert shown[0]["content"]["text"] == "why?\n\nAttached: `a.py`"
    assert shown[2]["kind"] == "search" and shown[2]["status"] == "completed"
    assert shown[4]["content"] == {
        "type": "resource_link",
        "name": "img.png",
        "uri": "file:///data/img.png",
        "mimeType": "image/png",
    }


def test_settings_file_then_flags(tmp_path: Path) -> None:
    """The file's `gemini` section, `--set` values as JSON or text over it, `--model` last."""
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"gemini": {"model": "a", "maxRetries": 1}}))
    got = options.layer(path, "b", ["maxRetries=3", "systemInstruction=be brief", "tools=false"])
    assert got == {"model": "b", "maxRetries": 3, "systemInstruction": "be brief", "tools": False}


@pytest.mark.parametrize(
    ("content", "pairs", "says"),
    [
        ("{", [], "is not JSON"),
        ("[]", [], "must hold a JSON object"),
        (None, [], "Cannot read"),
        ("{}", ["nosuch=1"], "NAME one of"),
        ("{}", ["model"], "NAME one of"),
    ],
)
def test_unusable_settings_are_refused(
    tmp_path: Path, content: str | None, pairs: list[str], says: str
) -> None:
    """A missing or non-JSON file, a non-object, an unknown or valueless --set: OptionsError."""
    path = tmp_path / "s.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(options.OptionsError, match=says):
        options.layer(path, None, pairs)


def test_the_api_key_is_not_a_set_flag() -> None:
    """`--set apiKey=...` is refused as the terminal's `--setting` is (an argv is readable by
    every user of the machine): the error says to use GEMINI_API_KEY and does not echo the key."""
    with pytest.raises(options.OptionsError, match="GEMINI_API_KEY") as info:
        options.layer(None, None, ["apiKey=secret-123"])
    assert "secret-123" not in str(info.value)


class _Editor:
    """Records the hooks; serves one file's text."""

    def __init__(self, texts: dict[Path, str]) -> None:
        self.texts = texts
        self.calls: list[tuple[str, str, object]] = []

    def read_text(self, path: Path) -> str | None:
        return self.texts.get(path)

    def started(self, name: str, args: Json) -> None:
        self.calls.append(("started", name, args))

    def finished(self, name: str, result: tools.ToolResult) -> None:
        self.calls.append(("finished", name, (result.failed, result.locations)))


def test_the_editor_reads_for_read_file_and_hears_of_every_call(tmp_path: Path) -> None:
    """With an editor set, read_file answers its text (the disk when it has none), and every
    call is told started then finished, with the locations read and failures marked."""
    ws = workspace(tmp_path / "w")
    (ws.root / "a.py").write_text("disk\n")
    (ws.root / "b.py").write_text("disk b\nneedle\n")
    editor = _Editor({ws.root / "a.py": "buffer\n"})
    token = tools.EDITOR.set(editor)
    try:
        assert tools.run(ws, "read_file", {"path": "a.py"}).response["content"] == "buffer"
        assert tools.run(ws, "read_file", {"path": "b.py"}).response["content"] == "disk b\nneedle"
        found = tools.run(ws, "search_text", {"query": "needle"})
        failed = tools.run(ws, "read_file", {"path": "../x"})
    finally:
        tools.EDITOR.reset(token)
    assert found.locations == ((ws.root / "b.py", 2),)
    assert failed.failed
    assert editor.calls[0] == ("started", "read_file", {"path": "a.py"})
    assert editor.calls[1] == ("finished", "read_file", (False, ((ws.root / "a.py", 1),)))
    assert editor.calls[-1] == ("finished", "read_file", (True, ()))
    assert tools.run(ws, "read_file", {"path": "a.py"}).response["content"] == "disk"
