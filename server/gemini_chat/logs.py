"""Logging set-up: stderr, an optional file, and a filter that redacts secrets everywhere."""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
from pathlib import Path

_secrets: set[str] = set()
_lock = threading.Lock()
_KEY_FIELD = re.compile(
    r"""(?i)(["']?(?:api_?key|x-goog-api-key)["']?\s*[:=]\s*["']?)([^"',\s}]+)"""
)


def register_secret(value: str) -> None:
    """Remember a secret so that no log line can carry it."""
    if len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Replace every known secret, and anything that looks like a key field, with `***`."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return _KEY_FIELD.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """Formats each record once and redacts it, so arguments cannot leak a key either."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message in place; never drops a record."""
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.msg = redact(message)
        record.args = None
        return True


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup(verbosity: int = 0, log_file: Path | None = None) -> None:
    """Send logs to stderr (and a file), redacted; pygls' own chatter only when very verbose."""
    root = logging.getLogger()
    root.handlers.clear()
    level = logging.DEBUG if verbosity > 0 else logging.INFO
    root.setLevel(level)
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        handlers.append(logging.FileHandler(private_file(log_file), encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        add_redaction(handler)
        root.addHandler(handler)
    pygls_level = logging.DEBUG if verbosity > 1 else logging.WARNING
    for name in ("pygls", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(pygls_level)
    # pygls logs a traceback for every error answer, expected ones included; we log our own.
    logging.getLogger("pygls.protocol.json_rpc").setLevel(
        logging.DEBUG if verbosity > 1 else logging.CRITICAL
    )


def private_file(path: Path) -> Path:
    """Create `path` (and its folder) for the user alone (0600), whatever the umask; an
    existing regular file is narrowed to 0600 too. A log holds what was asked and answered."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):  # not /dev/stderr or a pipe
            os.chmod(path, 0o600)
    finally:
        os.close(fd)
    return path


def add_redaction(handler: logging.Handler) -> None:
    """Attach the redacting filter to a handler (handler filters see every record)."""
    handler.addFilter(RedactingFilter())


class ClientLogHandler(logging.Handler):
    """Sends log records to the editor as `window/logMessage` (INFO and above)."""

    def __init__(self, server: object) -> None:
        super().__init__(logging.INFO)
        self._server = server
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one record; never recursively, never before the client is there."""
        if getattr(self._busy, "on", False):
            return
        from lsprotocol import types

        protocol = getattr(self._server, "protocol", None)
        if protocol is None or getattr(protocol, "writer", None) is None:
            return
        kind = (
            types.MessageType.Error
            if record.levelno >= logging.ERROR
            else types.MessageType.Warning
            if record.levelno >= logging.WARNING
            else types.MessageType.Info
        )
        self._busy.on = True
        try:
            text = f"{record.name}: {record.getMessage()}"
            protocol.notify(types.WINDOW_LOG_MESSAGE, types.LogMessageParams(kind, text))
        except Exception:
            self.handleError(record)
        finally:
            self._busy.on = False
