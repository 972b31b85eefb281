"""The workspace context file (GEMINI.md): re-read when it changes, added to the system text."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from . import files

log = logging.getLogger(__name__)
RECHECK = 1.0
"""Seconds a read of the context file is reused before the file is looked at again."""
MAX_CONTEXT_BYTES = 100_000
"""Bytes of the context file used; the rest of a larger file is left out."""


class ContextFiles:
    """Caches each workspace's context file by modification time and size."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[tuple[int, int], str]] = {}
        self._lock = threading.Lock()
        self._checked: dict[tuple[Path, str], tuple[float, tuple[Path, str] | None]] = {}

    def recent(self, root: Path, name: str) -> tuple[bool, tuple[Path, str] | None]:
        """The result of a `read` of the last RECHECK seconds, if there is one: (True, it);
        else (False, None). Lets a turn skip the thread hop of a stat when nothing can have
        changed that it should see."""
        hit = self._checked.get((root, name))
        if hit is not None and time.monotonic() - hit[0] < RECHECK:
            return True, hit[1]
        return False, None

    def read(self, root: Path, name: str) -> tuple[Path, str] | None:
        """The context file of a workspace and its text, or None when there is none.

        Blocking (stat and read): call it off the event loop.
        """
        found = self._read(root, name)
        self._checked[(root, name)] = (time.monotonic(), found)
        return found

    def _read(self, root: Path, name: str) -> tuple[Path, str] | None:
        if not name:
            return None
        try:
            path = files.confine(root, root / name, "contextFile")
            st = path.stat()
        except (files.FileRefused, OSError):
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            hit = self._cache.get(path)
        if hit is not None and hit[0] == stamp:
            return path, hit[1]
        try:
            raw = files.read_bounded(path, MAX_CONTEXT_BYTES, "contextFile", cut=True)
        except files.FileRefused as exc:
            log.warning("Not using the context file: %s", exc)
            return None
        text = raw.decode("utf-8", errors="replace").strip()
        with self._lock:
            self._cache[path] = (stamp, text)
        return path, text


def system_text(instruction: str, context: tuple[Path, str] | None) -> str:
    """The system instruction with the project's context file appended."""
    if context is None or not context[1]:
        return instruction
    header = f"# Project context from {context[0].name} (written by the user for this project)"
    return f"{instruction}\n\n{header}\n\n{context[1]}".strip()
