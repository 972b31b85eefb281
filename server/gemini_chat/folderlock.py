"""A folder's OS file lock, held by a turn from reading the history to committing it.

It orders turns on one folder across every daemon on the store; a crashed daemon's hold ends
with its process (the OS drops the lock with the file descriptor).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from filelock import FileLock, Timeout

POLL = 0.01
"""Seconds between tries while another daemon holds the folder (cancel stays immediate)."""


class FolderLocks:
    """The lock files of a store's folders, under `dataDir/locks/`."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir / "locks"

    def _lock(self, key: str) -> FileLock:
        self._dir.mkdir(mode=0o700, exist_ok=True)
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        return FileLock(self._dir / f"{name}.lock", mode=0o600, preserve_lock_file=True)

    @asynccontextmanager
    async def hold(self, key: str, on_wait: Callable[[], Awaitable[None]]) -> AsyncGenerator[None]:
        """Hold the folder's lock; `on_wait` is called once if another daemon has it first."""
        lock = self._lock(key)
        if not _try(lock):
            await on_wait()
            while not _try(lock):  # noqa: ASYNC110 - an OS lock has no event to await
                await asyncio.sleep(POLL)
        try:
            yield
        finally:
            lock.release()

    def held(self, key: str) -> bool:
        """Whether a turn (in any daemon, this one included) holds the folder now."""
        try:
            lock = self._lock(key)
        except OSError:  # no lock folder (a read-only store): nobody can be writing
            return False
        if not _try(lock):
            return True
        lock.release()
        return False


def _try(lock: FileLock) -> bool:
    try:
        lock.acquire(blocking=False)
    except Timeout:
        return False
    return True
