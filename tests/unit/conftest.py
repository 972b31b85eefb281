"""Fixtures for the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator


@pytest.fixture
def client(emulator: Emulator) -> Iterator[httpx.Client]:
    """An httpx client for the emulator that sends the key in x-goog-api-key."""
    with httpx.Client(
        base_url=emulator.url, headers={"x-goog-api-key": EMULATOR_KEY}, timeout=10
    ) as c:
        yield c
