"""Settings: defaults, environment, client layers, bad values reported once."""

from __future__ import annotations

import secrets
from pathlib import Path

from gemini_chat.logs import redact
from gemini_chat.settings import DEFAULT_BASE_URL, DEFAULT_MODEL, SettingsManager


def test_defaults_without_anything(tmp_path: Path) -> None:
    """Every setting has a default."""
    s = SettingsManager(environ={"GEMINI_CHAT_DATA_DIR": str(tmp_path)}).current
    assert (s.model, s.base_url, s.key) == (DEFAULT_MODEL, DEFAULT_BASE_URL, None)
    assert (s.request_timeout, s.max_retries, s.max_retry_delay) == (300.0, 4, 60.0)
    assert s.data_dir == tmp_path


def test_environment_order() -> None:
    """GEMINI_API_KEY wins over GOOGLE_API_KEY; GEMINI_BASE_URL over GOOGLE_GEMINI_BASE_URL."""
    env = {
        "GEMINI_API_KEY": "k-gemini",
        "GOOGLE_API_KEY": "k-google",
        "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:2",
    }
    s = SettingsManager(environ=env).current
    assert s.key == "k-gemini"
    assert s.base_url == "http://127.0.0.1:2"
    assert SettingsManager(environ={"GOOGLE_API_KEY": "k-google"}).current.key == "k-google"


def test_client_layer_wraps_or_not_and_replaces() -> None:
    """initializationOptions may be the section or {gemini: section}; a later update replaces it."""
    m = SettingsManager(environ={"GEMINI_API_KEY": "env-key-123"})
    assert m.update({"model": "gemini-2.5-pro"}).model == "gemini-2.5-pro"
    assert m.update({"gemini": {"maxRetries": 1}}).max_retries == 1
    s = m.update({"gemini": {"apiKey": "client-key-456"}})
    assert (s.model, s.max_retries, s.key) == (DEFAULT_MODEL, 4, "client-key-456")
    assert m.update({}).key == "env-key-123"


def test_bad_value_reported_once_and_default_kept() -> None:
    """A bad value warns once and keeps the default; the key's value is never shown."""
    warnings: list[str] = []
    m = SettingsManager(environ={}, warn=warnings.append)
    for _ in range(2):
        s = m.update({"requestTimeout": -5, "model": "bad model/../x", "apiKey": 12345})
    assert s.request_timeout == 300.0
    assert s.model == DEFAULT_MODEL
    assert len(warnings) == 3
    assert all("12345" not in w for w in warnings)
    assert any("gemini.requestTimeout" in w for w in warnings)


def test_key_is_redacted_from_logs() -> None:
    """The key becomes known as a secret when the settings take it: before, a log line with
    it bare keeps it; after, the same line is masked. A key field is masked whatever it holds."""
    key = f"emu-{secrets.token_hex(8)}"
    line = f"the request carried {key} somewhere"
    assert redact(line) == line
    SettingsManager(environ={"GEMINI_API_KEY": key})
    assert key not in redact(line)
    assert redact('{"apiKey": "other-secret"}') == '{"apiKey": "***"}'
