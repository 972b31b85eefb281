"""The workspace context file (GEMINI.md): read, cached by mtime and size, capped, confined."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from gemini_chat.context import MAX_CONTEXT_BYTES, ContextFiles, system_text


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A workspace folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder.resolve()


def test_the_file_is_read_and_trimmed(root: Path) -> None:
    """The context file's text comes back stripped, with its resolved path."""
    (root / "GEMINI.md").write_text("\n  Use tabs.\n\n")
    assert ContextFiles().read(root, "GEMINI.md") == (root / "GEMINI.md", "Use tabs.")


def test_no_file_no_name_no_context(root: Path) -> None:
    """A missing file, or the setting left empty, gives no context."""
    files = ContextFiles()
    assert files.read(root, "GEMINI.md") is None
    (root / "GEMINI.md").write_text("x")
    assert files.read(root, "") is None


def test_a_changed_file_is_read_again_an_unchanged_one_is_not(root: Path) -> None:
    """The cache is keyed by modification time and size: a file rewritten with the same size and
    time is served from the cache; a new size or time reads it again."""
    path = root / "GEMINI.md"
    path.write_text("alpha")
    files = ContextFiles()
    assert files.read(root, "GEMINI.md") == (path, "alpha")
    st = path.stat()
    path.write_text("bravo")  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert files.read(root, "GEMINI.md") == (path, "alpha")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert files.read(root, "GEMINI.md") == (path, "bravo")
    path.write_text("charlie!")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert files.read(root, "GEMINI.md") == (path, "charlie!")


def test_a_large_file_is_cut_at_the_cap(root: Path) -> None:
    """Only the first MAX_CONTEXT_BYTES of a larger file are used."""
    (root / "GEMINI.md").write_text("a" * MAX_CONTEXT_BYTES + "TAIL")
    found = ContextFiles().read(root, "GEMINI.md")
    assert found is not None
    assert found[1] == "a" * MAX_CONTEXT_BYTES


def test_a_link_out_of_the_folder_is_not_read(root: Path) -> None:
    """A GEMINI.md that links outside the folder gives no context."""
    (root.parent / "elsewhere.md").write_text("not yours")
    (root / "GEMINI.md").symlink_to(root.parent / "elsewhere.md")
    assert ContextFiles().read(root, "GEMINI.md") is None


def test_a_fifo_is_skipped_with_a_warning(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A named pipe called GEMINI.md is not read (it would block) and the log says why."""
    os.mkfifo(root / "GEMINI.md")
    with caplog.at_level(logging.WARNING, logger="gemini_chat.context"):
        assert ContextFiles().read(root, "GEMINI.md") is None
    assert "not a regular file" in caplog.text


def test_system_text_appends_the_context_under_a_header(root: Path) -> None:
    """The context follows the instruction under a header naming the file; an empty context
    adds nothing; an empty instruction leaves only the context."""
    path = root / "GEMINI.md"
    assert system_text("Be brief.", (path, "Use tabs.")) == (
        "Be brief.\n\n# Project context from GEMINI.md (written by the user for this project)"
        "\n\nUse tabs."
    )
    assert system_text("Be brief.", (path, "")) == "Be brief."
    assert system_text("Be brief.", None) == "Be brief."
    assert system_text("", (path, "Use tabs.")).startswith("# Project context from GEMINI.md")
