"""Poll with a deadline: how tests wait for a state that has no event to await.

Importable from every test folder (`from polling import until, wait_until`): pytest puts tests/
on sys.path for tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar, overload

import pytest

T = TypeVar("T")

TIMEOUT = 15.0
"""Seconds to wait by default: far above any healthy wait, short enough to fail a hung test."""
INTERVAL = 0.02
"""Seconds between checks: the checks are cheap, and a short interval keeps tests fast."""


def _fail(what: str, within: float, detail: Callable[[], str] | None) -> NoReturn:
    message = f"timed out after {within:g} s waiting for {what}"
    pytest.fail(f"{message}\n{detail()}" if detail else message, pytrace=False)


def wait_until(
    check: Callable[[], T],
    what: str,
    within: float = TIMEOUT,
    detail: Callable[[], str] | None = None,
) -> T:
    """Call `check` until it returns something truthy and return that; fail after `within` s.

    The failure names `what` was awaited, followed by `detail()` (say, the screen) if given.
    For synchronous tests; in a coroutine use `until`, which lets the event loop run.
    """
    end = time.monotonic() + within
    while not (value := check()):
        if time.monotonic() > end:
            _fail(what, within, detail)
        time.sleep(INTERVAL)
    return value


@overload
async def until(
    check: Callable[[], Awaitable[T]],
    what: str,
    within: float = TIMEOUT,
    detail: Callable[[], str] | None = None,
) -> T: ...


@overload
async def until(
    check: Callable[[], T],
    what: str,
    within: float = TIMEOUT,
    detail: Callable[[], str] | None = None,
) -> T: ...


async def until(
    check: Callable[[], object],
    what: str,
    within: float = TIMEOUT,
    detail: Callable[[], str] | None = None,
) -> object:
    """`wait_until` for coroutines: the event loop runs between checks. `check` may return an
    awaitable (say, a coroutine function asking a daemon): its result is what is checked."""
    end = time.monotonic() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > end:
            _fail(what, within, detail)
        await asyncio.sleep(INTERVAL)
