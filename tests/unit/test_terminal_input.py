"""What the terminal client makes of what is typed: `@path` attachments, completion, the live
feed's filtering of our own changes, and the masked-secrets line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemini_chat.terminal.attach import attachment, mentions, shown_name
from gemini_chat.terminal.editor import LineEditor, complete
from gemini_chat.terminal.mirror import Feed
from gemini_chat.terminal.session import redacted_line


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder with src/app.py, a file with a space in its name, and a subfolder."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("x = 1\n")
    (tmp_path / "my notes.txt").write_text("notes\n")
    (tmp_path / ".hidden").write_text("")
    return tmp_path


def test_at_paths_become_uri_attachments(folder: Path):
    """`@src/app.py` (trailing punctuation aside) and `@my\\ notes.txt` attach those files,
    once each; `@property` and an e-mail address stay text; `@src` is a folder: a note."""
    text = "see @src/app.py, @my\\ notes.txt and @src/app.py. Also @property, me@x.org, @src"
    found, notes = mentions(text, folder)
    assert found == [
        {"uri": (folder / "src" / "app.py").as_uri()},
        {"uri": (folder / "my notes.txt").as_uri()},
    ]
    assert notes == ["@src is a folder, not attached: name its files (@src/…)"]
    assert [shown_name(a, folder) for a in found] == ["src/app.py", "my notes.txt"]


def test_attach_refuses_folders_and_missing_files(folder: Path):
    """/attach names the problem instead of sending something the daemon would refuse."""
    assert attachment("src/app.py", folder) == {"uri": (folder / "src" / "app.py").as_uri()}
    with pytest.raises(ValueError, match="folder"):
        attachment("src", folder)
    with pytest.raises(ValueError, match="no such file"):
        attachment("nope.txt", folder)


def texts(folder: Path, before: str, models: list[str] | None = None) -> list[str]:
    """The completions offered for the text before the cursor."""
    editor = LineEditor("you> ", "...> ", folder, lambda _wait: models or [])
    return [c.text for c in complete(editor, before)]


def test_completion_of_commands_models_and_paths(folder: Path):
    """Slash commands by prefix; model names after /model (with all and default); paths
    after @ and /attach, folders with a slash, hidden files only when asked for."""
    assert texts(folder, "/ch") == ["/chats"]
    assert texts(folder, "/model gemini-2.5-p", ["gemini-2.5-pro", "gemini-2.5-flash"]) == [
        "gemini-2.5-pro"
    ]
    assert texts(folder, "/model a") == ["all"]
    assert texts(folder, "look at @s") == ["@src/"]
    assert texts(folder, "look at @src/") == ["@src/app.py"]
    assert texts(folder, "@my") == ["@my\\ notes.txt"]
    assert texts(folder, "@.h") == ["@.hidden"]
    assert texts(folder, "/attach src/a") == ["src/app.py"]
    assert texts(folder, "plain words") == []


def test_the_feed_keeps_others_changes_and_drops_our_own():
    """A change our command made (announced with `own`) is not shown as another editor's;
    the same change from elsewhere is; turns come through turnProgress only."""
    feed = Feed()
    with feed.own("reset"):
        pass
    feed.push("gemini/conversationChanged", {"reason": "reset"})  # ours
    feed.push("gemini/conversationChanged", {"reason": "turn"})  # shown by turnProgress
    assert not feed.pending()
    feed.push("gemini/conversationChanged", {"reason": "reset"})  # someone else's
    feed.push("gemini/turnProgress", {"state": "started", "turn": 1})
    assert [feed.pop(), feed.pop(), feed.pop()] == [
        ("gemini/conversationChanged", {"reason": "reset"}),
        ("gemini/turnProgress", {"state": "started", "turn": 1}),
        None,
    ]


def test_a_failed_command_expects_no_change():
    """When our command fails, the change it announced will not come: another editor's
    change of that kind is shown."""
    feed = Feed()
    with pytest.raises(RuntimeError), feed.own("model"):
        raise RuntimeError("refused")
    feed.push("gemini/conversationChanged", {"reason": "model"})
    assert feed.pending()


def test_the_redaction_line_counts_and_names_what_was_masked():
    """One line: how many, and each kind with where it was."""
    assert redacted_line(
        [
            {"kind": "aws-access-key", "where": "message"},
            {"kind": "github-token", "where": "attachments.0"},
        ]
    ) == (
        "2 secrets masked before sending (aws-access-key in message, github-token in attachments.0)"
    )
    assert redacted_line([{"kind": "jwt", "where": "message"}]).startswith("1 secret masked")
