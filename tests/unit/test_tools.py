"""The workspace tools the model may call: read_file, list_files, search_text."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gemini_chat import tools
from gemini_chat.tools import MAX_ANSWER, MAX_FILES, run, workspace_files
from gemini_chat.workspaces import Workspace

from .core_fakes import workspace

LINES = "".join(f"line {n}\n" for n in range(1, 11))


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A folder with a ten-line file, a nested source file and a binary file."""
    w = workspace(tmp_path / "project")
    (w.root / "notes.txt").write_text(LINES)
    (w.root / "src").mkdir()
    (w.root / "src" / "app.py").write_text("def add(a, b):\n    return a + b\n")
    (w.root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    return w


def git(root: Path, *args: str) -> None:
    """Run git in a folder (fails the test when git is missing)."""
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_read_file_whole(ws: Workspace) -> None:
    """A whole file: its text, its line count, no range in the summary."""
    result = run(ws, "read_file", {"path": "notes.txt"})
    assert result.response == {
        "path": "notes.txt",
        "startLine": 1,
        "endLine": 10,
        "totalLines": 10,
        "content": LINES.rstrip("\n"),
        "truncated": False,
    }
    assert result.summary == "read notes.txt"


@pytest.mark.parametrize(
    ("args", "first", "last"),
    [
        ({"startLine": 3, "endLine": 5}, 3, 5),
        ({"startLine": 8}, 8, 10),
        ({"endLine": 2}, 1, 2),
        ({"startLine": 0, "endLine": 99}, 1, 10),
        ({"startLine": 2.0, "endLine": 3.0}, 2, 3),
    ],
)
def test_read_file_ranges(ws: Workspace, args: dict[str, object], first: int, last: int) -> None:
    """Line ranges are 1-based and inclusive, clamped to the file; floats are taken as lines."""
    result = run(ws, "read_file", {"path": "notes.txt", **args})
    expected = "\n".join(f"line {n}" for n in range(first, last + 1))
    assert result.response["content"] == expected
    assert (result.response["startLine"], result.response["endLine"]) == (first, last)
    assert result.summary == f"read notes.txt:{first}-{last}"


def test_read_file_with_a_leading_slash_stays_in_the_folder(ws: Workspace) -> None:
    """ "/src/app.py" means the folder's src/app.py, not the filesystem root's."""
    assert run(ws, "read_file", {"path": "/src/app.py"}).response["path"] == "src/app.py"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"path": "logo.png"}, "logo.png is a binary file"),
        ({"path": ""}, "path must be a non-empty string"),
        ({"path": 7}, "path must be a non-empty string"),
        ({"path": "notes.txt", "startLine": "3"}, "line numbers must be integers"),
        ({"path": "notes.txt", "endLine": True}, "line numbers must be integers"),
        ({"path": "missing.txt"}, "cannot read missing.txt"),
        ({"path": "../outside.txt"}, "is outside the workspace"),
    ],
)
def test_read_file_refusals_are_answers(
    ws: Workspace, args: dict[str, object], message: str
) -> None:
    """What read_file cannot serve comes back as an `error` the model reads, never raised."""
    (ws.root.parent / "outside.txt").write_text("secret")
    result = run(ws, "read_file", args)
    assert message in str(result.response["error"])
    assert result.summary.startswith("read_file failed: ")


def test_read_file_refuses_a_symlink_out_of_the_folder(ws: Workspace) -> None:
    """A link inside the folder that points outside it is refused like the path itself."""
    (ws.root.parent / "private.txt").write_text("private")
    (ws.root / "link.txt").symlink_to(ws.root.parent / "private.txt")
    result = run(ws, "read_file", {"path": "link.txt"})
    assert "outside the workspace" in str(result.response["error"])


def test_long_answers_are_cut(ws: Workspace) -> None:
    """A file longer than the answer cap is cut there and marked truncated."""
    (ws.root / "big.txt").write_text("a" * (MAX_ANSWER + 10))
    response = run(ws, "read_file", {"path": "big.txt"}).response
    assert len(str(response["content"])) == MAX_ANSWER
    assert response["truncated"] is True


def test_unknown_tools_are_named(ws: Workspace) -> None:
    """A call of a tool that does not exist is answered with its name."""
    result = run(ws, "rm_rf", {})
    assert result.response == {"error": "unknown tool rm_rf"}


def test_list_files_without_git_respects_gitignore(ws: Workspace) -> None:
    """Outside a repository the folder is walked: .gitignore'd files and folders, and tool
    folders such as node_modules, are left out."""
    (ws.root / ".gitignore").write_text("# build output\nbuild/\n*.log\n/secret.env\n")
    for rel in ("build/out.js", "debug.log", "secret.env", "node_modules/x/i.js", "docs/a.md"):
        (ws.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws.root / rel).write_text("x")
    result = run(ws, "list_files", {"glob": "*"})
    assert str(result.response["files"]).split("\n") == [
        ".gitignore",
        "logo.png",
        "notes.txt",
        "docs/a.md",
        "src/app.py",
    ]
    assert result.summary == "listed 5 files matching *"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("**/*.py", ["src/app.py"]),
        ("*.txt", ["notes.txt"]),
        ("src/*", ["src/app.py"]),
        ("**", ["logo.png", "notes.txt", "src/app.py"]),
        ("*.rs", []),
    ],
)
def test_list_files_globs(ws: Workspace, pattern: str, expected: list[str]) -> None:
    """`**/` matches at any depth; other globs match the relative path."""
    response = run(ws, "list_files", {"glob": pattern}).response
    listed = str(response["files"])
    assert (listed.split("\n") if listed else []) == expected
    assert response["count"] == len(expected)


def test_list_files_in_a_repository_asks_git(ws: Workspace) -> None:
    """In a git repository the listing is git's: tracked and untracked files, ignored ones left
    out (also via .git/info/exclude, which only git reads), deleted ones gone."""
    git(ws.root, "init", "-q")
    (ws.root / ".git" / "info").mkdir(parents=True, exist_ok=True)
    (ws.root / ".git" / "info" / "exclude").write_text("notes.txt\n")
    (ws.root / ".gitignore").write_text("*.png\n")
    git(ws.root, "add", "src/app.py")
    (ws.root / "new.md").write_text("untracked")
    assert workspace_files(ws.root) == [".gitignore", "new.md", "src/app.py"]
    (ws.root / "src" / "app.py").unlink()
    assert workspace_files(ws.root) == [".gitignore", "new.md"]


def test_a_broken_repository_is_walked_instead(ws: Workspace) -> None:
    """A .git that git cannot read falls back to walking the folder."""
    (ws.root / ".git").write_text("gitdir: /nonexistent\n")
    assert "notes.txt" in workspace_files(ws.root)


def test_the_listing_stops_at_the_file_cap(ws: Workspace) -> None:
    """A folder with more files than the cap lists the cap's worth."""
    many = ws.root / "many"
    many.mkdir()
    for n in range(MAX_FILES + 5):
        os.close(os.open(many / f"f{n:05}", os.O_CREAT | os.O_WRONLY))
    assert len(workspace_files(ws.root)) == MAX_FILES


def test_search_text_finds_lines_case_insensitively(ws: Workspace) -> None:
    """Matches come as path:line: text, any case; binary files and ignored files are skipped."""
    (ws.root / ".gitignore").write_text("ignored.txt\n")
    (ws.root / "ignored.txt").write_text("Return here\n")
    (ws.root / "blob.bin").write_bytes(b"RETURN\0binary")
    result = run(ws, "search_text", {"query": "RETURN"})
    assert result.response == {
        "matches": "src/app.py:2: return a + b",
        "count": 1,
        "truncated": False,
    }
    assert result.summary == "searched for 'RETURN' (1 matches)"


def test_search_text_caps_its_matches_and_lines(ws: Workspace) -> None:
    """A long matching line is cut to 300 characters; the search stops past 500 matches."""
    (ws.root / "a.txt").write_text("needle " + "z" * 1000 + "\n")
    (ws.root / "b.txt").write_text("needle\n" * 600)
    (ws.root / "c.txt").write_text("needle\n")
    response = run(ws, "search_text", {"query": "needle"}).response
    lines = str(response["matches"]).split("\n")
    assert len(lines[0]) == len("a.txt:1: ") + 300
    assert response["count"] == 601
    assert not any(line.startswith("c.txt") for line in lines)


def test_search_text_skips_links_out_of_the_folder(ws: Workspace) -> None:
    """A symlink to a file outside the folder is not searched."""
    (ws.root.parent / "private.txt").write_text("needle outside\n")
    (ws.root / "link.txt").symlink_to(ws.root.parent / "private.txt")
    assert run(ws, "search_text", {"query": "needle"}).response["count"] == 0


def test_search_text_needs_a_query(ws: Workspace) -> None:
    """An empty query is refused as a bad argument."""
    assert run(ws, "search_text", {"query": ""}).response == {
        "error": "query must be a non-empty string"
    }


def test_call_args_of_a_part() -> None:
    """A functionCall part's name and args; missing or odd args read as none."""
    assert tools.call_args({"functionCall": {"name": "list_files", "args": {"glob": "*"}}}) == (
        "list_files",
        {"glob": "*"},
    )
    assert tools.call_args({"functionCall": {"name": "x", "args": [1]}}) == ("x", {})
    assert tools.call_args({}) == ("", {})
