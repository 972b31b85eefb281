"""Workspace folders: URI to key normalisation, folder tracking, confinement of paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .protocol import FieldError


class WorkspaceError(FieldError):
    """A workspace or path that the client named is not acceptable."""


def uri_to_path(uri: str) -> Path:
    """Turn a `file://` URI into an absolute, normalised (not yet resolved) path."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        raise WorkspaceError(f"Only file:// URIs are supported, not {uri!r}", "workspace")
    if parts.netloc not in ("", "localhost"):
        raise WorkspaceError(f"Remote file URIs are not supported: {uri!r}", "workspace")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise WorkspaceError(f"The URI {uri!r} has no absolute path", "workspace")
    return Path(os.path.normpath(path))


def workspace_key(uri: str) -> str:
    """The key of a workspace's conversation: its folder's resolved absolute path."""
    return str(uri_to_path(uri).resolve())


def same_file(a: str, b: str) -> bool:
    """Whether two file URIs name the same file once resolved."""
    try:
        return uri_to_path(a).resolve() == uri_to_path(b).resolve()
    except WorkspaceError:
        return False


def path_to_uri(path: Path) -> str:
    """The canonical `file://` URI of a folder path."""
    return path.as_uri()


@dataclass(frozen=True)
class Workspace:
    """A known workspace folder."""

    key: str
    uri: str

    @property
    def root(self) -> Path:
        """The folder's resolved path."""
        return Path(self.key)

    def path(self, uri: str, field: str) -> Path:
        """The path a file URI names (not yet confined: see `files.confine`)."""
        try:
            return uri_to_path(uri)
        except WorkspaceError as exc:
            raise WorkspaceError(str(exc), field) from None


MAX_URIS = 256
"""URIs remembered per daemon with the folder they resolved to."""


class Workspaces:
    """The folders a daemon knows, in the order the client gave them."""

    def __init__(self, cwd: Path | None = None) -> None:
        self._folders: dict[str, Workspace] = {}
        self._by_uri: dict[str, Workspace] = {}
        self._cwd = (cwd or Path.cwd()).resolve()

    def set_folders(self, uris: list[str]) -> None:
        """Replace the known folders (from `initialize`)."""
        self._folders.clear()
        self._by_uri.clear()
        self.add(uris)

    def add(self, uris: list[str]) -> None:
        """Add folders; URIs that are not file URIs are ignored."""
        for uri in uris:
            try:
                key = workspace_key(uri)
            except WorkspaceError:
                continue
            self._folders.setdefault(key, Workspace(key, path_to_uri(Path(key))))

    def remove(self, uris: list[str]) -> None:
        """Forget folders."""
        self._by_uri.clear()
        for uri in uris:
            try:
                self._folders.pop(workspace_key(uri), None)
            except WorkspaceError:
                continue

    def uris(self) -> list[str]:
        """The known folders' canonical URIs; the working directory when there are none."""
        if not self._folders:
            return [path_to_uri(self._cwd)]
        return [w.uri for w in self._folders.values()]

    def known(self) -> dict[str, str]:
        """Key -> URI of every known folder (the working directory when there are none)."""
        if not self._folders:
            return {str(self._cwd): path_to_uri(self._cwd)}
        return {w.key: w.uri for w in self._folders.values()}

    def resolve(self, uri: str | None) -> Workspace:
        """The workspace a request names; the first folder (or the cwd) when it names none."""
        if uri is None:
            if self._folders:
                return next(iter(self._folders.values()))
            return Workspace(str(self._cwd), path_to_uri(self._cwd))
        known = self._by_uri.get(uri)
        if known is not None:
            return known
        key = workspace_key(uri)
        if key in self._folders:
            if len(self._by_uri) < MAX_URIS:  # a realpath per request is the costly part
                self._by_uri[uri] = self._folders[key]
            return self._folders[key]
        if not self._folders and key == str(self._cwd):
            return Workspace(key, path_to_uri(self._cwd))
        known = ", ".join(self.uris())
        raise WorkspaceError(f"Unknown workspace {uri}; this daemon knows: {known}", "workspace")
