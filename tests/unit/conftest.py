"""Fixtures for the unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from gemini_chat.gemini.client import GeminiClient

from .core_fakes import FakeDaemon, Rig
from .gemini_fakes import Recorder


@pytest.fixture
def client(emulator: Emulator) -> Iterator[httpx.Client]:
    """An httpx client for the emulator that sends the key in x-goog-api-key."""
    with httpx.Client(
        base_url=emulator.url, headers={"x-goog-api-key": EMULATOR_KEY}, timeout=10
    ) as c:
        yield c


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    """A chat service over a scripted Gemini, its store and settings in tmp_path (a module
    whose folder needs files overrides this, asking for this one)."""
    async with Rig(tmp_path) as r:
        yield r


@pytest.fixture
def daemon(rig: Rig) -> FakeDaemon:
    """The fake edge knowing the rig's folder (its core has every service)."""
    return FakeDaemon(rig)


@pytest.fixture
def rec() -> Recorder:
    """The recorder of the `gemini` client's retry waits (and whatever a test hands it)."""
    return Recorder()


@pytest.fixture
async def gemini(rec: Recorder) -> AsyncIterator[GeminiClient]:
    """A real GeminiClient (no transport of its own: for the emulator) whose retry waits are
    recorded in `rec` instead of slept."""
    async with GeminiClient(sleep=rec.sleep, rng=lambda: 0.0) as client:
        yield client
