"""A local stand-in for the Gemini API (v1beta): a real HTTP server with scriptable faults.

It works on raw JSON and checks requests against the API's discovery document, so a mistake in
the client's own models cannot hide behind a shared model. See docs/emulator.md.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType, TracebackType

from .http import EmulatorServer
from .routes import Handler
from .state import DEFAULT_API_KEY, EmulatorState, RecordedRequest

__all__ = ["DEFAULT_API_KEY", "Emulator", "RecordedRequest", "main"]


class Emulator:
    """The Gemini API emulator: start() it, point a client at .url, script() faults."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: Sequence[str] = (DEFAULT_API_KEY,),
        input_token_limit: int | None = None,
    ) -> None:
        if isinstance(api_keys, str):
            raise TypeError("api_keys must be a sequence of keys, not one string")
        self._address = (host, port)
        self._state = EmulatorState(api_keys, input_token_limit)
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    def start(self) -> str:
        """Serve in a daemon thread; return the base URL, e.g. "http://127.0.0.1:PORT"."""
        if self._url is not None:
            return self._url
        server = EmulatorServer(self._address, self._state, Handler)
        host = self._address[0]
        self._url = f"http://{f'[{host}]' if ':' in host else host}:{server.server_port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"gemini-emulator-{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self._url

    def stop(self) -> None:
        """Stop serving and close open connections; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        self._state.stopping.set()
        server.shutdown()
        self._state.close_sockets()
        server.server_close()
        thread.join()

    @property
    def url(self) -> str:
        """The base URL (only after start())."""
        if self._url is None:
            raise RuntimeError("the emulator is not started")
        return self._url

    def script(self, *steps: dict[str, object]) -> None:
        """Queue steps; each generate/stream call takes one (FIFO); none left: the default reply."""
        self._state.add_steps(steps)

    def script_uploads(self, *steps: dict[str, object]) -> None:
        """Queue upload steps; each upload's start takes one (FIFO); none left: a plain upload."""
        self._state.files.add_steps(steps)

    def files(self) -> list[dict[str, object]]:
        """The files held (as files.get shows them, PROCESSING ones too), oldest first."""
        return self._state.files.snapshot()

    def expire_file(self, name: str) -> None:
        """Drop a file as if its 48 hours were up (KeyError if there is none)."""
        if not self._state.files.expire(name):
            raise KeyError(name)

    def requests(self, path_contains: str = "") -> list[RecordedRequest]:
        """The requests received so far (all, or those whose path contains the text)."""
        return self._state.requests(path_contains)

    def events(self) -> list[dict[str, object]]:
        """The events so far: "request", "done" (stream finished), "disconnect"."""
        return self._state.events()

    def wait_for_event(self, type: str, timeout: float = 5.0) -> dict[str, object]:
        """The first event of this type since clear(), waiting for it; TimeoutError if none."""
        return self._state.wait_for_event(type, timeout)

    def clear(self) -> None:
        """Forget requests, events, scripts and files; the input token limit stays."""
        self._state.clear()

    @property
    def input_token_limit(self) -> int | None:
        """The input token limit set for every model, or None (each model's own)."""
        return self._state.input_token_limit

    def set_input_token_limit(self, limit: int | None) -> None:
        """Make every model report and enforce this inputTokenLimit (None: their own again)."""
        self._state.set_input_token_limit(limit)

    def __enter__(self) -> Emulator:
        """Start on entering a with-block."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a with-block."""
        self.stop()


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave the serving loop."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _positive(text: str) -> int:
    """An argparse type: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """The gemini-chat-emulator command: print the URL, serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="gemini-chat-emulator", description="A local stand-in for the Gemini API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help=f"a key to accept (repeatable; default {DEFAULT_API_KEY!r})",
    )
    parser.add_argument(
        "--input-token-limit",
        type=_positive,
        metavar="N",
        help="report and enforce this inputTokenLimit for every model",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s"
    )
    keys = args.api_keys or [DEFAULT_API_KEY]
    emulator = Emulator(args.host, args.port, keys, args.input_token_limit)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        print(emulator.start(), flush=True)
        while True:
            signal.pause()
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
