"""Files from a folder are untrusted: the one confinement rule and bounded reads of regular files.

Attachments, the context file and every tool read through here. The functions block (they
open and read files): call them off the event loop, e.g. with `asyncio.to_thread`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .protocol import FieldError

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NOCTTY", 0)


class FileRefused(FieldError):
    """A path outside the folder, not a regular file, too large or unreadable."""


def confine(root: Path, path: Path, field: str) -> Path:
    """`path` with symlinks resolved, refused unless it lies inside the resolved `root`."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise FileRefused(
            f"{path} is outside the workspace {root}; only files inside it can be read", field
        )
    return resolved


def read_bounded(path: Path, cap: int, field: str, *, cut: bool = False) -> bytes:
    """The bytes of a regular file of at most `cap` bytes (with `cut`, its first `cap` bytes).

    Opened without following a last symlink and without blocking (a FIFO or device would
    otherwise hang the read or never end); the size is checked on the open file, and the read
    stops after `cap + 1` bytes in case the file grew since.
    """
    fd = _open(path, field)
    try:
        st = os.fstat(fd)
        _check_regular(st, path, field)
        if st.st_size > cap and not cut:
            raise FileRefused(f"{path.name} is larger than {_size(cap)}", field)
        data = _read_upto(fd, cap if cut else cap + 1)
    except OSError as exc:
        raise FileRefused(f"cannot read {path.name}: {exc.strerror}", field) from None
    finally:
        os.close(fd)
    if len(data) > cap:
        raise FileRefused(f"{path.name} is larger than {_size(cap)}", field)
    return data


def regular_size(path: Path, field: str) -> int:
    """The size of a regular file (checked as `read_bounded` checks, without reading it)."""
    fd, size = open_regular(path, field)
    os.close(fd)
    return size


def open_regular(path: Path, field: str) -> tuple[int, int]:
    """A descriptor of the regular file `path`, opened as `read_bounded` opens it, and the size
    of what it opened (so a file swapped for another after the open is not measured instead).

    The caller reads it (`os.pread`) and closes it; anything else is refused, closed.
    """
    fd = _open(path, field)
    try:
        st = os.fstat(fd)
        _check_regular(st, path, field)
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def read_confined(root: Path, path: Path, cap: int, field: str) -> tuple[Path, bytes]:
    """Confine `path` to `root`, then read it bounded: the one rule for everything read."""
    resolved = confine(root, path, field)
    return resolved, read_bounded(resolved, cap, field)


def is_binary(data: bytes) -> bool:
    """Whether data looks binary (a NUL byte in its first 8 kB), as git decides."""
    return b"\0" in data[:8192]


def _open(path: Path, field: str) -> int:
    """A descriptor of `path` opened for reading without following a last symlink and without
    blocking (a FIFO or device would otherwise hang the open or the read)."""
    try:
        return os.open(path, _FLAGS)
    except OSError as exc:
        raise FileRefused(f"cannot read {path.name}: {exc.strerror}", field) from None


def _check_regular(st: os.stat_result, path: Path, field: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(f"{path.name} is not a regular file", field)


def _read_upto(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _size(n: int) -> str:
    return f"{n // 1_000_000} MB" if n >= 1_000_000 else f"{n // 1000} kB"
