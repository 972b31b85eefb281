"""Workspace keys, folder tracking and confinement of paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemini_chat.workspaces import WorkspaceError, Workspaces, workspace_key


def test_equivalent_uris_share_one_key(tmp_path: Path) -> None:
    """file:///a/b, file:///a/b/ and file:///a/./b are one workspace."""
    base = tmp_path.as_uri()
    keys = {workspace_key(f"{base}/b"), workspace_key(f"{base}/b/"), workspace_key(f"{base}/./b")}
    assert keys == {str((tmp_path / "b").resolve())}


def test_percent_encoded_uri_decodes(tmp_path: Path) -> None:
    """A folder with a space is found from its encoded URI."""
    folder = tmp_path / "my project"
    folder.mkdir()
    assert workspace_key(folder.as_uri()) == str(folder.resolve())


@pytest.mark.parametrize("uri", ["http://x/y", "file://host/share/x", "relative/path", ""])
def test_non_file_uris_are_refused(uri: str) -> None:
    """Only local file URIs name a workspace."""
    with pytest.raises(WorkspaceError):
        workspace_key(uri)


def test_default_is_first_folder_then_cwd(tmp_path: Path) -> None:
    """No workspace given: the first folder, or the cwd when there are none."""
    ws = Workspaces(cwd=tmp_path)
    assert ws.resolve(None).key == str(tmp_path.resolve())
    a, b = tmp_path / "a", tmp_path / "b"
    ws.set_folders([a.as_uri(), b.as_uri()])
    assert ws.resolve(None).key == str(a)
    assert ws.resolve(b.as_uri() + "/").key == str(b)


def test_unknown_workspace_is_an_error(tmp_path: Path) -> None:
    """A folder the daemon was not told about is refused, naming the field."""
    ws = Workspaces(cwd=tmp_path)
    ws.set_folders([(tmp_path / "a").as_uri()])
    with pytest.raises(WorkspaceError) as err:
        ws.resolve((tmp_path / "elsewhere").as_uri())
    assert err.value.field == "workspace"


def test_folders_added_and_removed(tmp_path: Path) -> None:
    """didChangeWorkspaceFolders adds and removes folders."""
    ws = Workspaces(cwd=tmp_path)
    a, b = (tmp_path / "a").as_uri(), (tmp_path / "b").as_uri()
    ws.add([a, b])
    ws.remove([a])
    assert ws.uris() == [b]
