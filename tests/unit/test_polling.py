"""The tests' poll-with-deadline helper: returns what the check found, or fails saying what."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from polling import until, wait_until


def test_wait_until_returns_the_first_truthy_value() -> None:
    """The check is called until it returns something truthy, and that value is returned."""
    calls = itertools.count()
    assert wait_until(lambda: next(calls) >= 3 and "ready", "the third call") == "ready"
    assert next(calls) == 4


def test_wait_until_fails_naming_what_and_the_detail() -> None:
    """A check that never holds fails after `within` seconds with `what` and `detail()`."""
    with pytest.raises(pytest.fail.Exception) as failed:
        wait_until(lambda: None, "the moon", within=0.05, detail=lambda: "sky: cloudy")
    assert str(failed.value) == "timed out after 0.05 s waiting for the moon\nsky: cloudy"


async def test_until_lets_the_event_loop_run() -> None:
    """`until` yields to the loop between checks, so a task it waits for can progress."""
    done: list[int] = []

    async def worker() -> None:
        done.append(1)

    task = asyncio.ensure_future(worker())
    assert await until(lambda: done, "the worker", within=1) == [1]
    await task


async def test_until_fails_naming_what() -> None:
    """An async check that never holds fails the same way."""
    with pytest.raises(pytest.fail.Exception) as failed:
        await until(lambda: 0, "x", within=0.05)
    assert str(failed.value) == "timed out after 0.05 s waiting for x"


async def test_until_awaits_a_check_that_returns_an_awaitable() -> None:
    """A coroutine function as the check: each call's result is awaited, and the first truthy
    one is returned."""
    calls = itertools.count()

    async def check() -> str | None:
        await asyncio.sleep(0)
        return "ready" if next(calls) >= 2 else None

    assert await until(check, "the third call", within=1) == "ready"
    assert next(calls) == 3
