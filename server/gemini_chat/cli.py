"""`gemini-chat-server`: parse arguments, set up logging, serve JSON-RPC over stdio or TCP."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from . import __version__
from .exiting import exit_now

if TYPE_CHECKING:
    from .server import GeminiChatServer

log = logging.getLogger("gemini_chat")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The daemon's command line."""
    p = argparse.ArgumentParser(
        prog="gemini-chat-server",
        description="Gemini chat daemon: JSON-RPC (LSP framing) over stdio.",
    )
    p.add_argument("--stdio", action="store_true", help="serve on stdin/stdout (the default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="serve on a TCP socket, for debugging")
    p.add_argument("--version", action="version", version=f"gemini-chat-server {__version__}")
    p.add_argument("--log-file", type=Path, metavar="PATH", help="also write the log here")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log (-vv: pygls too)")
    acp = p.add_argument_group("Agent Client Protocol (Zed, JetBrains, codecompanion.nvim...)")
    acp.add_argument("--acp", action="store_true", help="speak ACP v1 (JSON lines) on stdio")
    acp.add_argument("--settings", type=Path, metavar="FILE", help="--acp: settings (JSON)")
    acp.add_argument("--model", help="--acp: the model (over --settings and the environment)")
    acp.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="--acp: one setting"
    )
    args = p.parse_args(argv)
    if not args.acp and (args.settings or args.model or args.set):
        p.error("--settings, --model and --set go with --acp (editors send the native daemon's)")
    if args.acp and args.tcp:
        p.error("--acp speaks on stdio only")
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point of `gemini-chat-server` and `python -m gemini_chat`."""
    args = parse_args(argv)
    from . import logs

    logs.setup(args.verbose, args.log_file)
    # stdout carries frames only: keep the real one for frames, send stray prints to stderr.
    frames = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    if args.acp:
        exit_now(_serve_acp(args, frames))
    if args.tcp:
        from .server import create_server

        server = create_server()
        _log_to_client(server)
        host, _, port = args.tcp.rpartition(":")
        log.info("gemini-chat-server %s listening on %s", __version__, args.tcp)
        server.start_tcp(host or "127.0.0.1", int(port))
        return
    from .stdio import serve_stdio  # pygls loads in there, after `initialize` is answered

    log.info("gemini-chat-server %s on stdio (pid %d)", __version__, os.getpid())
    try:
        serve_stdio(sys.stdin.buffer, frames, _log_to_client)
    except Exception:
        log.exception("The daemon failed")
    finally:
        exit_now(1)  # reached only when serve_stdio failed: it ends the process itself


def _serve_acp(args: argparse.Namespace, out: BinaryIO) -> int:
    """ACP mode: the SDK is imported here only, never on the native daemon's way."""
    from .acp import serve

    try:
        return serve(sys.stdin.buffer, out, args.settings, args.model, args.set)
    except Exception:
        log.exception("The ACP agent failed")
        return 1


def _log_to_client(server: GeminiChatServer) -> None:
    """Mirror our own log records to the client as window/logMessage, redacted."""
    from .logs import ClientLogHandler, add_redaction

    handler = ClientLogHandler(server)
    add_redaction(handler)
    logging.getLogger("gemini_chat").addHandler(handler)
