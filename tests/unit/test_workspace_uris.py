"""Workspace URIs the client may send: which are refused and why, which name the same file,
and folders resolved when the client opened none."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemini_chat.workspaces import WorkspaceError, Workspaces, same_file, uri_to_path


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("https://example.com/a", "Only file:// URIs are supported"),
        ("file://fileserver/share/a", "Remote file URIs are not supported"),
        ("file:relative/a", "has no absolute path"),
    ],
)
def test_refused_uris_say_why(uri: str, why: str) -> None:
    """Each refused URI is named with the reason, on the `workspace` field."""
    with pytest.raises(WorkspaceError, match=why) as info:
        uri_to_path(uri)
    assert info.value.field == "workspace"


def test_localhost_is_local() -> None:
    """file://localhost/x is the local /x."""
    assert uri_to_path("file://localhost/tmp/a/../b") == Path("/tmp/b")


def test_same_file_resolves_links_and_spellings(tmp_path: Path) -> None:
    """Two URIs of one file (a symlink, a percent-encoded name) are the same; a non-file URI
    is the same as nothing."""
    real = tmp_path / "my file.py"
    real.write_text("x")
    (tmp_path / "link.py").symlink_to(real)
    assert same_file(real.as_uri(), (tmp_path / "link.py").as_uri())
    assert same_file(real.as_uri(), f"file://{tmp_path}/my%20file.py")
    assert not same_file(real.as_uri(), (tmp_path / "other.py").as_uri())
    assert not same_file(real.as_uri(), "untitled:Untitled-1")


def test_a_file_uri_of_a_workspace_names_the_callers_field(tmp_path: Path) -> None:
    """A bad attachment URI is refused on the attachment's field, not `workspace`."""
    ws = Workspaces(cwd=tmp_path).resolve(None)
    assert ws.path((tmp_path / "a.py").as_uri(), "attachments.0.uri") == tmp_path / "a.py"
    with pytest.raises(WorkspaceError) as info:
        ws.path("untitled:Untitled-1", "attachments.0.uri")
    assert info.value.field == "attachments.0.uri"


def test_without_folders_the_working_directory_is_the_workspace(tmp_path: Path) -> None:
    """No folders opened: uris() lists the working directory, which resolves by its URI;
    any other folder is refused naming the known one."""
    ws = Workspaces(cwd=tmp_path)
    assert ws.uris() == [tmp_path.resolve().as_uri()]
    assert ws.resolve(tmp_path.as_uri()).key == str(tmp_path.resolve())
    with pytest.raises(WorkspaceError, match="this daemon knows: file://"):
        ws.resolve((tmp_path / "sub").as_uri())


def test_non_file_folders_are_ignored(tmp_path: Path) -> None:
    """Folders given as non-file URIs are neither added nor break a removal."""
    ws = Workspaces(cwd=tmp_path)
    a = (tmp_path / "a").as_uri()
    ws.set_folders(["vscode-vfs://github/x/y", a])
    assert ws.uris() == [a]
    ws.remove(["vscode-vfs://github/x/y"])
    assert ws.uris() == [a]
