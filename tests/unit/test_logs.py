"""What the daemon writes for people to read: the log file is private, and a warning about a
bad setting never echoes a secret (a known key, a known format, a key-like value)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gemini_chat import logs
from gemini_chat.settings import SettingsManager

GOOGLE_FAKE = "AIza" + "SyFake-Key_For_Tests_0123456789abcd"


@pytest.fixture
def root_logging() -> Iterator[None]:
    """logs.setup rewires the root logger: put pytest's handlers and levels back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = ("pygls", "httpx", "httpcore", "pygls.protocol.json_rpc")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common umask, under which a plain open() makes a world-readable file."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("root_logging", "umask_022")
def test_log_file_is_created_for_the_user_alone(tmp_path: Path) -> None:
    """--log-file: the file (and a missing folder) is created 0600 whatever the umask, and
    the log goes into it."""
    path = tmp_path / "new-folder" / "daemon.log"
    logs.setup(0, path)
    logging.getLogger("gemini_chat.test").info("hello from the test")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "hello from the test" in path.read_text()


@pytest.mark.usefixtures("root_logging", "umask_022")
def test_an_existing_log_file_is_made_private_and_appended_to(tmp_path: Path) -> None:
    """A log file left world-readable by an older daemon becomes 0600; its lines stay."""
    path = tmp_path / "daemon.log"
    path.write_text("an older line\n")
    path.chmod(0o644)
    logs.setup(0, path)
    logging.getLogger("gemini_chat.test").info("a newer line")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("an older line\n")
    assert "a newer line" in path.read_text()


def _warnings(section: dict[str, object]) -> list[str]:
    warnings: list[str] = []
    SettingsManager(environ={}, warn=warnings.append).update({"gemini": section})
    return warnings


def test_a_key_pasted_into_another_setting_is_not_shown() -> None:
    """The key of the same section, pasted into baseUrl and contextFile, is masked in the
    warning text itself (before any log or window/showMessage sees it)."""
    key = "pasted-key-4e1b7d"
    warnings = _warnings({"apiKey": key, "baseUrl": key, "contextFile": f"dir/{key}"})
    assert len(warnings) == 2
    assert all(key not in w for w in warnings)
    assert any(w.startswith("Ignoring gemini.baseUrl = ") for w in warnings)


def test_a_key_is_redacted_before_a_long_value_is_cut() -> None:
    """A key past the cut (80 characters) is masked whole, not shown in part."""
    key = "pasted-key-9c2a5f"
    (warning,) = _warnings({"apiKey": key, "baseUrl": "n" * 70 + key})
    assert "pasted-k" not in warning


def test_an_unknown_key_in_a_known_format_is_masked() -> None:
    """A Google API key the daemon was never given is masked by its format."""
    (warning,) = _warnings({"baseUrl": GOOGLE_FAKE})
    assert GOOGLE_FAKE not in warning
    assert "[REDACTED:google-api-key]" in warning


def test_a_key_like_value_of_no_known_format_is_hidden() -> None:
    """A long run of letters and digits is hidden; the setting is still named."""
    value = "Zx81kQ0pLm3nB7vC2xD9fG"
    (warning,) = _warnings({"baseUrl": value})
    assert value not in warning
    assert warning.startswith("Ignoring gemini.baseUrl = (hidden): ")


def test_an_ordinary_bad_value_is_still_shown() -> None:
    """A typo is shown as it is, so the user can find it."""
    (warning,) = _warnings({"baseUrl": "localhost:8080"})
    assert warning.startswith('Ignoring gemini.baseUrl = "localhost:8080": ')
