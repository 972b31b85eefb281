"""The folder lock: the OS's flock on a descriptor per folder, across two stores in one process.

Two FolderLocks on one data folder stand for two daemons: flock locks belong to the open file
description, so two descriptors of one process conflict just as two processes do (checked
first, since every other test here relies on it).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

import pytest

from gemini_chat import folderlock
from gemini_chat.folderlock import FolderLocks, InOrder


def test_flock_on_two_descriptors_of_one_process_conflicts(tmp_path: Path) -> None:
    """The assumption the tests make: a second open() of a file flocked by the first cannot
    take it (LOCK_NB fails) until the first lets go."""
    path = tmp_path / "f.lock"
    first = os.open(path, os.O_RDWR | os.O_CREAT)
    second = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(first, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BlockingIOError):
            fcntl.flock(second, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(first, fcntl.LOCK_UN)
        fcntl.flock(second, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(first)
        os.close(second)


async def test_a_held_folder_is_held_for_everyone_and_free_after(tmp_path: Path) -> None:
    """While one daemon holds a folder, held() is true in both daemons, another folder is free,
    and afterwards held() is false again (the probe does not keep the lock)."""
    a, b = FolderLocks(tmp_path), FolderLocks(tmp_path)
    waits: list[str] = []

    async def on_wait() -> None:
        waits.append("wait")

    async with a.hold("/w", on_wait):
        assert b.held("/w") and a.held("/w")
        assert not b.held("/other")
    assert not b.held("/w") and not a.held("/w")
    assert waits == []
    lock_files = list((tmp_path / "locks").iterdir())
    assert lock_files and all(f.stat().st_mode & 0o777 == 0o600 for f in lock_files)
    a.close()
    b.close()


async def test_a_second_daemon_waits_once_then_gets_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second hold calls on_wait exactly once, does not enter while the first holds (it
    tries again many times meanwhile), and enters as soon as the first lets go."""
    monkeypatch.setattr(folderlock, "POLL", 0)  # every loop iteration is a try
    a, b = FolderLocks(tmp_path), FolderLocks(tmp_path)
    order: list[str] = []
    waited = asyncio.Event()

    async def on_wait() -> None:
        order.append("b waits")
        waited.set()

    async def nothing() -> None:
        raise AssertionError("the first hold must not wait")

    async def second() -> None:
        async with b.hold("/w", on_wait):
            order.append("b holds")

    async with a.hold("/w", nothing):
        task = asyncio.create_task(second())
        await asyncio.wait_for(waited.wait(), 5)
        for _ in range(50):  # 50 tries by b, none may succeed
            await asyncio.sleep(0)
        assert not task.done()
        order.append("a lets go")
    await asyncio.wait_for(task, 5)
    assert order == ["b waits", "a lets go", "b holds"]
    a.close()
    b.close()


async def test_another_daemons_glance_is_not_reported_as_waiting(tmp_path: Path) -> None:
    """A folder that another daemon's `held()` probe has for a moment: the hold looks again
    shortly and gets it without calling on_wait (no "waiting for another editor's turn"
    for a probe)."""
    a, b = FolderLocks(tmp_path), FolderLocks(tmp_path)
    probe = b._open("/w", b._probes)  # pyright: ignore[reportPrivateUsage]
    assert folderlock._try(probe)  # pyright: ignore[reportPrivateUsage]
    asyncio.get_running_loop().call_later(0.0005, folderlock._release, probe)  # pyright: ignore[reportPrivateUsage]
    waits: list[str] = []

    async def on_wait() -> None:
        waits.append("waiting")

    async with a.hold("/w", on_wait):
        assert b.held("/w")
    assert waits == []
    a.close()
    b.close()


async def test_close_releases_a_hold(tmp_path: Path) -> None:
    """Closing a daemon's lock files (as its process ending would) frees the folder it held;
    the hold ending afterwards does not unlock whatever its old descriptor number now names
    (here: another daemon's hold of the same folder)."""
    a, b = FolderLocks(tmp_path), FolderLocks(tmp_path)

    async def nothing() -> None:
        return None

    holding = a.hold("/w", nothing)
    await holding.__aenter__()
    assert b.held("/w")
    a.close()
    assert not b.held("/w")
    c = FolderLocks(tmp_path)
    async with b.hold("/w", nothing):  # b's new descriptor takes a's old number
        await holding.__aexit__(None, None, None)  # a's turn ends after its close
        assert c.held("/w"), "a's late release must not unlock b's hold"
    b.close()
    c.close()


def test_no_lock_folder_means_nobody_holds(tmp_path: Path) -> None:
    """A store whose locks folder cannot be made (dataDir under a regular file): held() is
    false rather than an error (nothing can write there)."""
    (tmp_path / "file").write_text("x")
    locks = FolderLocks(tmp_path / "file" / "data")
    assert locks.held("/w") is False
    locks.close()


async def test_in_order_serves_places_first_come_and_skips_the_ones_given_up() -> None:
    """A free folder's place is taken at once (no task, no await); later places are served in
    the order they were taken, one at a time; a place given up while waiting (cancelled) is
    skipped, and one given up after it was handed over passes the folder on."""
    queue = InOrder()
    first = queue.take()
    assert first.done()
    second, third, fourth = queue.take(), queue.take(), queue.take()
    assert not (second.done() or third.done() or fourth.done())
    queue.leave(third)  # gave up waiting
    assert third.cancelled()
    queue.leave(first)
    assert second.done() and not fourth.done()
    queue.leave(second)  # handed over, then given up without being used: passes it on
    assert fourth.done() and not fourth.cancelled()
    queue.leave(fourth)
    assert queue.take().done()  # free again


async def test_in_order_queued_runs_blocks_one_at_a_time_in_arrival_order() -> None:
    """Blocks that await their `queued` place run one at a time, in the order they asked; a
    cancelled waiter does not hold up the ones behind it."""
    queue = InOrder()
    ran: list[str] = []

    async def block(name: str, pause: float) -> None:
        async with queue.queued() as place:
            await place
            ran.append(f"{name} in")
            await asyncio.sleep(pause)
            ran.append(f"{name} out")

    a = asyncio.create_task(block("a", 0.02))
    await asyncio.sleep(0)
    b = asyncio.create_task(block("b", 0))
    c = asyncio.create_task(block("c", 0))
    await asyncio.sleep(0)
    b.cancel()
    await asyncio.gather(a, c, return_exceptions=True)
    assert b.cancelled()
    assert ran == ["a in", "a out", "c in", "c out"]
