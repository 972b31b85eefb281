"""Log records mirrored to the editor (window/logMessage), redacted; tracebacks redacted too;
the verbosity levels of logs.setup."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest
from lsprotocol import types

from gemini_chat import logs

SECRET = "client-log-secret-9a8b7c"


class Protocol:
    """pygls' protocol as the handler uses it: `writer` (None until the client is there) and
    `notify`, recording what was sent."""

    def __init__(self, log: logging.Logger, writer: object = "stdout", fail: bool = False) -> None:
        self.log = log
        self.writer = writer
        self.fail = fail
        self.sent: list[tuple[str, types.LogMessageParams]] = []

    def notify(self, method: str, params: types.LogMessageParams) -> None:
        if self.fail:
            raise BrokenPipeError("client gone")
        self.sent.append((method, params))
        self.log.warning("logged while sending")  # by the same logger: must not recurse


class Server:
    """The daemon as the handler sees it: a `protocol` attribute."""

    def __init__(self, protocol: Protocol | None) -> None:
        self.protocol = protocol


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger whose records go only to the handlers the test adds."""
    log = logging.getLogger("gemini_chat.clientlog")
    log.propagate, log.level = False, logging.DEBUG
    yield log
    log.handlers.clear()
    log.propagate = True


def attach(log: logging.Logger, server: Server) -> logs.ClientLogHandler:
    """The client handler, redacting, as the daemon attaches it."""
    handler = logs.ClientLogHandler(server)
    logs.add_redaction(handler)
    log.addHandler(handler)
    return handler


def test_info_and_above_reach_the_client_with_their_kind_redacted(
    logger: logging.Logger,
) -> None:
    """INFO, WARNING and ERROR become window/logMessage Info, Warning, Error, as
    `logger: message` with a registered secret masked; DEBUG is not sent; a record logged
    while sending one is not sent back (no recursion)."""
    logs.register_secret(SECRET)
    protocol = Protocol(logger)
    attach(logger, Server(protocol))
    logger.debug("not for the client")
    logger.info("using key %s", SECRET)
    logger.warning("careful")
    logger.error("broken")
    assert [(m, p.type, p.message) for m, p in protocol.sent] == [
        (types.WINDOW_LOG_MESSAGE, types.MessageType.Info, "gemini_chat.clientlog: using key ***"),
        (types.WINDOW_LOG_MESSAGE, types.MessageType.Warning, "gemini_chat.clientlog: careful"),
        (types.WINDOW_LOG_MESSAGE, types.MessageType.Error, "gemini_chat.clientlog: broken"),
    ]


def test_nothing_is_sent_before_the_client_is_there(logger: logging.Logger) -> None:
    """No protocol yet, or one without a writer: records are dropped, nothing raises."""
    attach(logger, Server(None))
    waiting = Protocol(logger, writer=None)
    attach(logger, Server(waiting))
    logger.error("too early")
    assert waiting.sent == []


def test_a_failing_send_is_handled_not_raised(
    logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that is gone (notify raises) goes to logging's handleError; the caller's
    log call returns normally."""
    handled: list[logging.LogRecord] = []
    handler = attach(logger, Server(Protocol(logger, fail=True)))
    monkeypatch.setattr(handler, "handleError", handled.append)
    logger.warning("into the void")
    assert [r.getMessage() for r in handled] == ["into the void"]


def test_a_traceback_is_redacted_before_any_handler_writes_it() -> None:
    """The redacting filter formats an exception's traceback once and masks secrets in it
    (an exception message may carry a key); short values are never registered as secrets."""
    logs.register_secret(SECRET)
    logs.register_secret("ab")
    try:
        raise ValueError(f"bad key {SECRET}")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "failed with %s", ("ab",), exc_info=sys.exc_info()
        )
    assert logs.RedactingFilter().filter(record) is True
    assert record.exc_text is not None and "ValueError: bad key ***" in record.exc_text
    assert SECRET not in record.exc_text
    assert (record.msg, record.args) == ("failed with ab", None)


@pytest.mark.parametrize(
    ("verbosity", "root", "pygls", "rpc"),
    [
        (0, logging.INFO, logging.WARNING, logging.CRITICAL),
        (1, logging.DEBUG, logging.WARNING, logging.CRITICAL),
        (2, logging.DEBUG, logging.DEBUG, logging.DEBUG),
    ],
)
def test_verbosity_sets_our_level_and_pygls_chatter(
    verbosity: int, root: int, pygls: int, rpc: int
) -> None:
    """-v: our DEBUG lines; -vv: pygls' and httpx's too; by default pygls only warns and its
    JSON-RPC tracebacks of expected errors are silenced; stderr only without a log file."""
    root_logger = logging.getLogger()
    handlers, level = root_logger.handlers[:], root_logger.level
    names = ("pygls", "httpx", "httpcore", "pygls.protocol.json_rpc")
    levels = {n: logging.getLogger(n).level for n in names}
    try:
        logs.setup(verbosity)
        assert root_logger.level == root
        assert [type(h) for h in root_logger.handlers] == [logging.StreamHandler]
        assert logging.getLogger("httpx").level == pygls == logging.getLogger("pygls").level
        assert logging.getLogger("pygls.protocol.json_rpc").level == rpc
    finally:
        root_logger.handlers[:] = handlers
        root_logger.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)
