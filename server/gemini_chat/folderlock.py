"""A folder's OS file lock, held by a turn from reading the history to committing it.

It orders turns on one folder across every daemon on the store; a crashed daemon's hold ends
with its process (the OS drops the lock with the file descriptor). The lock is the OS's own
(`flock` on POSIX, `msvcrt.locking` on Windows) on a descriptor kept open per folder: a try
costs about a microsecond, where a general-purpose lock library spent ~150 µs per turn.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import os
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

POLL = 0.01
"""Seconds between tries while another daemon holds the folder (cancel stays immediate)."""
GLANCE = 0.002
"""Seconds before a second try: another daemon's `held()` takes the lock for microseconds,
which is no reason to tell the user this turn waits."""

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _release(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _release(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FolderLocks:
    """The lock files of a store's folders, under `dataDir/locks/`; one open file per folder
    for holding it and one for asking whether somebody else does."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir / "locks"
        self._held: dict[str, int] = {}
        self._probes: dict[str, int] = {}
        self._closed = False

    def _open(self, key: str, into: dict[str, int]) -> int:
        fd = into.get(key)
        if fd is None:
            self._dir.mkdir(mode=0o700, exist_ok=True)
            name = hashlib.sha256(key.encode()).hexdigest()[:32]
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
            fd = into[key] = os.open(self._dir / f"{name}.lock", flags, 0o600)
        return fd

    @asynccontextmanager
    async def hold(self, key: str, on_wait: Callable[[], Awaitable[None]]) -> AsyncGenerator[None]:
        """Hold the folder's lock; `on_wait` is called once if another daemon has it first
        (and still has it a moment later: not for another daemon's glance, `held()`).

        Within one daemon the caller serialises turns on a folder first (`InOrder`): the
        descriptor is never locked twice at once."""
        fd = self._open(key, self._held)
        if not _try(fd):
            await asyncio.sleep(GLANCE)
            if not _try(fd):
                await on_wait()
                while not _try(fd):  # noqa: ASYNC110 - an OS lock has no event to await
                    await asyncio.sleep(POLL)
        try:
            yield
        finally:
            if not self._closed:  # close() released it with the file (the fd may be reused)
                _release(fd)

    def held(self, key: str) -> bool:
        """Whether a turn (in any daemon, this one included) holds the folder now."""
        try:
            fd = self._open(key, self._probes)
        except OSError:  # no lock folder (a read-only store): nobody can be writing
            return False
        if not _try(fd):
            return True
        _release(fd)
        return False

    def close(self) -> None:
        """Close the lock files (releasing any hold)."""
        for fd in [*self._held.values(), *self._probes.values()]:
            os.close(fd)
        self._held.clear()
        self._probes.clear()
        self._closed = True


class InOrder:
    """A folder's turns in this daemon, first come first served: `take` is a place in the
    queue, taken at once, without a task (an `asyncio.Lock` taken in arrival order needs a
    task per turn, and the loop iterations it costs); await the place, then `leave` it."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()

    def take(self) -> asyncio.Future[None]:
        """A place: done at once when the folder is free, else when every earlier one left."""
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._held:
            self._waiting.append(place)
        else:
            self._held = True
            place.set_result(None)
        return place

    def leave(self, place: asyncio.Future[None]) -> None:
        """Give up a place, held or still waiting (cancelled, it is skipped)."""
        if not place.done() or place.cancelled():
            place.cancel()
            return
        while self._waiting:
            following = self._waiting.popleft()
            if not following.done():
                following.set_result(None)
                return
        self._held = False

    @asynccontextmanager
    async def queued(self) -> AsyncGenerator[asyncio.Future[None]]:
        """A place taken on entering (nothing is awaited before) and left when the block ends:
        await it when the folder is needed."""
        place = self.take()
        try:
            yield place
        finally:
            self.leave(place)
