"""Secrets never leave the machine, seen from the real daemon: a key pasted into the wrong
setting is not echoed in window/showMessage, and the --log-file is private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from lsprotocol import types

from conftest import EMULATOR_KEY
from polling import until

from .conftest import StartDaemon
from .daemon import Daemon

GOOGLE_FAKE = "AIza" + "SyFake-Key_For_Tests_0123456789abcd"


async def _shown(d: Daemon, count: int) -> list[str]:
    """The window/showMessage texts, once `count` have come."""
    await until(
        lambda: len(d.client.messages) >= count,
        f"{count} window/showMessage",
        detail=lambda: repr(d.client.messages),
    )
    return [m.message for m in d.client.messages]


def _everything_said(d: Daemon) -> str:
    """All the daemon told the user: shown messages, log messages and stderr."""
    said = [m.message for m in d.client.messages] + [m.message for m in d.client.log_messages]
    return "\n".join([*said, d.stderr_text()])


async def test_keys_pasted_into_settings_are_not_echoed(daemons: StartDaemon) -> None:
    """The environment's key pasted into baseUrl, and the section's own key pasted into
    contextFile, each get a warning that names the setting but shows neither key, in
    window/showMessage, window/logMessage and stderr."""
    section_key = "pasted-key-4e1b7d"
    d = await daemons(
        init_options={
            "gemini": {
                "apiKey": section_key,
                "baseUrl": EMULATOR_KEY,
                "contextFile": f"d/{section_key}",
            }
        }
    )
    shown = await _shown(d, 2)
    assert any("gemini.baseUrl" in m for m in shown)
    assert any("gemini.contextFile" in m for m in shown)
    await d.stop()
    said = _everything_said(d)
    assert EMULATOR_KEY not in said
    assert section_key not in said


async def test_a_key_the_daemon_never_had_is_masked_by_its_format(daemons: StartDaemon) -> None:
    """A Google API key sent in a configuration change, known nowhere: the warning shows
    `[REDACTED:google-api-key]` in its place."""
    d = await daemons()
    d.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"gemini": {"baseUrl": GOOGLE_FAKE}})
    )
    (shown,) = await _shown(d, 1)
    assert 'gemini.baseUrl = "[REDACTED:google-api-key]"' in shown
    await d.stop()
    assert GOOGLE_FAKE not in _everything_said(d)


async def test_log_file_is_private(daemons: StartDaemon, tmp_path: Path) -> None:
    """--log-file under umask 022: the file the daemon creates is 0600 and has the log."""
    log_file = tmp_path / "logs" / "daemon.log"
    old = os.umask(0o022)
    try:
        d = await daemons(args=["--log-file", str(log_file)])
    finally:
        os.umask(old)
    await d.request("gemini/status", {})
    await d.stop()
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert "gemini-chat-server" in log_file.read_text()
