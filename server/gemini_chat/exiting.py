"""How the daemon's process ends: its log flushed, then os._exit."""

from __future__ import annotations

import logging
import os
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Flush and close the log, then end the process with `code`, skipping the interpreter's
    normal exit: the stdin reader thread would keep the process alive, or (holding stdin's
    lock while the interpreter finalises) abort it with SIGABRT instead of `code`."""
    logging.shutdown()
    os._exit(code)
