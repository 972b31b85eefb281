"""The one rule for files from a folder: confined after resolving symlinks, regular, bounded."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from gemini_chat import files, tools
from gemini_chat.workspaces import Workspace


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A folder with one file inside and a secret beside it."""
    r = tmp_path / "ws"
    (r / "src").mkdir(parents=True)
    (r / "src" / "ok.py").write_text("x = 1\n")
    (tmp_path / "secret.txt").write_text("AKIA secret\n")
    return r


def test_confine_accepts_a_file_inside(root: Path) -> None:
    """A path inside the folder comes back resolved."""
    assert files.confine(root, root / "src" / "ok.py", "f") == (root / "src" / "ok.py").resolve()


@pytest.mark.parametrize("name", ["dotdot", "absolute", "symlink", "dir-symlink"])
def test_confine_refuses_escapes(root: Path, name: str) -> None:
    """`..`, an absolute path outside, a symlink out and a symlinked folder out are refused,
    naming the field."""
    outside = root.parent / "secret.txt"
    os.symlink(outside, root / "link.txt")
    os.symlink(root.parent, root / "up")
    bad = {
        "dotdot": root / "src" / ".." / ".." / "secret.txt",
        "absolute": outside,
        "symlink": root / "link.txt",
        "dir-symlink": root / "up" / "secret.txt",
    }[name]
    with pytest.raises(files.FileRefused) as err:
        files.confine(root, bad, "attachments.0.uri")
    assert err.value.field == "attachments.0.uri"
    assert "outside the workspace" in str(err.value)


def test_a_fifo_is_refused_without_blocking(root: Path) -> None:
    """A FIFO (no writer) is refused at once instead of blocking the read forever."""
    fifo = root / "pipe"
    os.mkfifo(fifo)
    done: list[BaseException] = []

    def read() -> None:
        try:
            files.read_confined(root, fifo, 1000, "f")
        except files.FileRefused as exc:
            done.append(exc)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive(), "reading a FIFO blocked"
    assert done and "not a regular file" in str(done[0])


def test_a_device_is_refused(root: Path) -> None:
    """/dev/zero (endless) is never read, even when reached through the rule's own check."""
    with pytest.raises(files.FileRefused, match="not a regular file"):
        files.read_bounded(Path("/dev/zero"), 1000, "f")


def test_a_symlink_to_dev_zero_is_refused(root: Path) -> None:
    """A symlink inside the folder pointing at /dev/zero is outside the folder: refused."""
    os.symlink("/dev/zero", root / "zero")
    with pytest.raises(files.FileRefused, match="outside the workspace"):
        files.read_confined(root, root / "zero", 1000, "f")


def test_size_is_checked_before_reading(root: Path) -> None:
    """A file over the cap is refused by its size; with `cut`, its first bytes are read."""
    big = root / "big.txt"
    big.write_bytes(b"a" * 5000)
    with pytest.raises(files.FileRefused, match="larger than"):
        files.read_bounded(big, 4000, "f")
    assert files.read_bounded(big, 4000, "f", cut=True) == b"a" * 4000
    assert files.read_bounded(big, 5000, "f") == b"a" * 5000


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_open_regular_answers_a_descriptor_and_its_size(root: Path) -> None:
    """open_regular answers a descriptor reading the file and the size fstat gave it; a
    symlink (even to a file inside), a FIFO (at once) and a folder are refused, none of them
    leaving a descriptor open."""
    fd, size = files.open_regular(root / "src" / "ok.py", "f")
    try:
        assert (os.pread(fd, 100, 0), size) == (b"x = 1\n", 6)
    finally:
        os.close(fd)
    os.symlink(root / "src" / "ok.py", root / "link.py")
    os.mkfifo(root / "pipe")
    before = _open_descriptors()
    for name, why in [("link.py", "symbolic link"), ("pipe", "not a regular"), ("src", "not a")]:
        with pytest.raises(files.FileRefused, match=why):
            files.open_regular(root / name, "f")
    assert _open_descriptors() == before


def test_a_missing_file_is_refused_with_its_cause(root: Path) -> None:
    """An unreadable path is a FileRefused saying why, never an OSError."""
    with pytest.raises(files.FileRefused, match="No such file"):
        files.read_confined(root, root / "nope.txt", 10, "f")


def test_search_text_does_not_follow_a_symlink_out(root: Path) -> None:
    """search_text skips a symlink leaving the folder: its lines never reach the model."""
    os.symlink(root.parent / "secret.txt", root / "notes.txt")
    ws = Workspace(str(root.resolve()), root.as_uri())
    result = tools.run(ws, "search_text", {"query": "secret"})
    assert result.response["count"] == 0
    assert "AKIA" not in str(result.response)


def test_read_file_refuses_a_fifo(root: Path) -> None:
    """read_file of a FIFO answers an error at once."""
    os.mkfifo(root / "pipe")
    ws = Workspace(str(root.resolve()), root.as_uri())
    result = tools.run(ws, "read_file", {"path": "pipe"})
    assert "not a regular file" in str(result.response["error"])


@pytest.mark.parametrize("kind", ["fifo", "symlink out"])
def test_list_files_reads_the_gitignore_under_the_rule(root: Path, kind: str) -> None:
    """A .gitignore that is a FIFO is refused at once instead of blocking the listing, and one
    linking out of the folder is not read: either way nothing is left out of the list."""
    if kind == "fifo":
        os.mkfifo(root / ".gitignore")
    else:
        (root.parent / "patterns").write_text("*.py\n")
        os.symlink(root.parent / "patterns", root / ".gitignore")
    ws = Workspace(str(root.resolve()), root.as_uri())
    listed: list[object] = []
    t = threading.Thread(target=lambda: listed.append(tools.run(ws, "list_files", {"glob": "*"})))
    t.daemon = True
    t.start()
    t.join(5)
    assert not t.is_alive(), "reading the .gitignore blocked"
    [result] = listed
    assert isinstance(result, tools.ToolResult)
    assert str(result.response["files"]).split("\n") == [".gitignore", "src/ok.py"]
