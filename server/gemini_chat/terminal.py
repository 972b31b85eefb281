"""The terminal client: a REPL (or one-shot question) talking to gemini-chat-server over stdio."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import importlib
import importlib.util
import os
import secrets
import shlex
import sys
import threading
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gemini_chat import __version__
from gemini_chat.rpc_client import (
    INTERNAL_ERROR,
    REQUEST_CANCELLED,
    JsonObject,
    JsonValue,
    LoopThread,
    RpcClient,
    RpcError,
    ServerExited,
    as_object,
)
from gemini_chat.terminal_screen import Screen, usage_line

if TYPE_CHECKING:
    from gemini_chat.emulator import Emulator

EMULATOR_NOTICE = (
    "No GEMINI_API_KEY set: using the bundled emulator (replies are canned). "
    "Set GEMINI_API_KEY to talk to Gemini."
)
HELP = """\
Type a question and press Enter (end a line with \\ to continue it on the next).
  /history       show this workspace's conversation
  /reset         start a fresh conversation (the old one is archived)
  /model NAME    use model NAME for the rest of this session
  /model         list the available models
  /help          this text
  /quit          leave (or Ctrl-D)
Ctrl-C stops a reply that is streaming; at the prompt it clears the line."""
START_TIMEOUT = 30.0
CANCEL_GRACE = 5.0
LOG_TAIL_LINES = 12


@dataclass
class Options:
    """The command line, parsed."""

    question: str | None
    workspace: Path
    model: str | None
    base_url: str | None
    server: str | None
    stream: bool
    thoughts: bool = False


class Session:
    """One daemon, one workspace: the commands the REPL and one-shot mode share."""

    def __init__(self, loop: LoopThread, client: RpcClient, screen: Screen, opts: Options) -> None:
        self.loop, self.client, self.screen = loop, client, screen
        self.workspace = opts.workspace.resolve().as_uri()
        self.model = opts.model
        self.stream = opts.stream
        self.thoughts = opts.thoughts
        self.stopped = False  # the last turn was cancelled with Ctrl-C
        self._tokens: dict[str, str] = {}  # progress token -> "partial" | "work"
        self._lock = threading.Lock()
        client.on_notification("$/progress", self._on_progress)

    def _on_progress(self, params: JsonObject) -> None:
        token = params.get("token")
        with self._lock:
            kind = self._tokens.get(token) if isinstance(token, str) else None
        value = as_object(params.get("value"))
        if kind == "partial":
            if isinstance(thought := value.get("thought"), str):
                self.screen.thought(thought)
            if isinstance(text := value.get("text"), str):
                self.screen.text(text)
        elif kind == "work" and isinstance(message := value.get("message"), str):
            self.screen.status(message)

    def call(self, method: str, params: JsonObject) -> JsonObject:
        """A plain request on the workspace; RpcError/ServerExited propagate."""
        return as_object(self.loop.run(self.client.request(method, params)))

    def ask(self, message: str) -> bool:
        """One turn: stream the reply; Ctrl-C cancels it. True when the reply completed."""
        msg_id = self.client.new_id()
        partial, work = f"gc-p-{msg_id}", f"gc-w-{msg_id}"
        with self._lock:
            self._tokens = {partial: "partial", work: "work"}
        self.stopped = False
        self.screen.begin_reply()
        self.screen.status("thinking…", transient=True)
        params = self._chat_params(message, partial, work)
        future = self.loop.submit(self.client.request("gemini/chat", params, msg_id=msg_id))
        try:
            result = as_object(future.result())
        except KeyboardInterrupt:
            return self._stop(future, msg_id)
        except RpcError as exc:
            self._failed(exc)
            return False
        finally:
            self._drop_tokens()
        self._finish(result)
        return True

    def _chat_params(self, message: str, partial: str, work: str) -> JsonObject:
        params: JsonObject = {
            "workspace": self.workspace,
            "message": message,
            "workDoneToken": work,
        }
        if self.stream:
            params["partialResultToken"] = partial
        if self.model:
            params["model"] = self.model
        if self.thoughts:
            params["generationConfig"] = {"thinkingConfig": {"includeThoughts": True}}
        return params

    def _failed(self, exc: RpcError) -> None:
        self._drop_tokens()
        self.screen.end_reply(None)
        if exc.code == REQUEST_CANCELLED:
            self.screen.line(self.screen.style.dim("(stopped)"))
            return
        self.screen.error(f"error: {exc.message}")
        if exc.code == INTERNAL_ERROR:  # "see its log": its log is our pipe, so show the end
            tail = self.client.stderr_tail().splitlines()[-LOG_TAIL_LINES:]
            self.screen.error("\n".join(["the daemon's log ends with:", *tail]))
        if exc.reason == "modelNotFound" and self.screen.label:
            self.screen.line(self.screen.style.dim("/model lists the models you can use."))

    def _drop_tokens(self) -> None:
        with self._lock:
            self._tokens = {}

    def _stop(self, future: concurrent.futures.Future[JsonValue], msg_id: int) -> bool:
        """Cancel the turn, wait briefly for the daemon to confirm, say "(stopped)"."""
        self._drop_tokens()  # no more text after the user said stop
        self.loop.submit(self.client.cancel(msg_id))
        note, completed = "(stopped)", False
        try:
            result = as_object(future.result(CANCEL_GRACE))
        except (KeyboardInterrupt, RpcError, TimeoutError, concurrent.futures.CancelledError):
            pass
        else:  # the reply won the race: it is in the history, so say so
            note, completed = (
                f"(stopped; the reply had already finished: {usage_line(result).strip()})",
                True,
            )
        self.screen.end_reply(None)
        self.screen.line(self.screen.style.dim(note))
        self.stopped = not completed
        return completed

    def _finish(self, result: JsonObject) -> None:
        text = result.get("text")
        text = text if isinstance(text, str) else ""
        shown = self.screen.started
        if not shown or not self.stream:
            thoughts = result.get("thoughts")
            if isinstance(thoughts, str) and thoughts and not shown:
                self.screen.thought(thoughts)
            if text:
                self.screen.text(text)
        self.screen.end_reply(usage_line(result))

    def history(self) -> None:
        """Print the workspace's conversation."""
        turns = self.call("gemini/history", {"workspace": self.workspace}).get("turns")
        if not isinstance(turns, list) or not turns:
            self.screen.line(self.screen.style.dim("(no conversation yet in this workspace)"))
            return
        style = self.screen.style
        for index, raw in enumerate(turns):
            turn = as_object(raw)
            is_user = turn.get("role") == "user"
            if is_user and index:
                self.screen.line()  # a blank line between exchanges
            label, plain = (
                (style.you("you>"), "you> ") if is_user else (style.model("gemini>"), "gemini> ")
            )
            self.screen.labelled(f"{label} ", len(plain), str(turn.get("text") or ""))
            when = str(turn.get("time") or "")[:19].replace("T", " ")
            if not is_user and when:
                self.screen.line(style.dim(f"  {when}"))

    def reset(self) -> None:
        """Archive the conversation; the next question starts a fresh one."""
        cleared = self.call("gemini/reset", {"workspace": self.workspace}).get("cleared")
        self.screen.line(
            f"Started a fresh conversation ({cleared} entries archived)."
            if cleared
            else "Started a fresh conversation."
        )

    def models(self) -> None:
        """List the models the key can use; mark the one in use."""
        result = self.call("gemini/models", {})
        current = self.model or str(result.get("default") or "")
        models = result.get("models")
        for raw in models if isinstance(models, list) else []:
            model = as_object(raw)
            name = str(model.get("name") or "")
            mark = "*" if name == current else " "
            limit = model.get("inputTokenLimit")
            extra = f"{limit:,} tokens in" if isinstance(limit, int) else ""
            display = str(model.get("displayName") or "")
            self.screen.line(f"{mark} {name:<32} {display:<28} {self.screen.style.dim(extra)}")
        self.screen.line(self.screen.style.dim("Switch with /model NAME."))


class Repl:
    """The interactive loop: `you>` prompt, slash commands, Ctrl-C and Ctrl-D handling."""

    def __init__(self, session: Session, screen: Screen) -> None:
        self.session, self.screen = session, screen
        self.readline = _load_readline()
        style = screen.style
        self.prompt = self._prompt(style.you("you>") + " ")
        self.more = self._prompt(style.dim("...>") + " ")

    def _prompt(self, styled: str) -> str:
        if not self.screen.style.enabled or not self.readline:
            return styled
        # \001/\002 tell readline the escapes take no columns, so editing stays aligned.
        return styled.replace("\x1b[", "\001\x1b[").replace("m", "m\002")

    def run(self) -> int:
        """Read questions until /quit, Ctrl-D or two Ctrl-Cs; the exit status."""
        interrupted = False
        while True:
            try:
                line = self._read()
            except EOFError:
                self.screen.line()
                return 0
            except KeyboardInterrupt:
                if interrupted:
                    self.screen.line()
                    return 0
                interrupted = True
                self.screen.line()
                self.screen.line(self.screen.style.dim("(Ctrl-C again or Ctrl-D to quit)"))
                continue
            interrupted = False
            if line.strip() and self.handle(line.strip()) == "quit":
                return 0

    def _read(self) -> str:
        line = input(self.prompt)
        while line.endswith("\\"):
            line = line[:-1] + "\n" + input(self.more)
        return line

    def handle(self, line: str) -> str | None:
        """Run one command or question; "quit" to leave."""
        self.screen.line()
        if not line.startswith("/") or line.startswith("//"):
            self.session.ask(line[1:] if line.startswith("//") else line)
        else:
            name, _, arg = line.partition(" ")
            if name in ("/quit", "/exit", "/q"):
                return "quit"
            self.command(name, arg.strip())
        self.screen.line()
        return None

    def command(self, name: str, arg: str) -> None:
        """A slash command; errors from the daemon are shown, not raised."""
        try:
            if name == "/help":
                self.screen.line(HELP)
            elif name == "/history":
                self.session.history()
            elif name == "/reset":
                self.session.reset()
            elif name == "/model" and arg:
                self.session.model = arg
                self.screen.line(f"Model for this session: {arg}")
            elif name == "/model":
                self.session.models()
            else:
                self.screen.error(f"unknown command {name}: /help lists them (// sends a / line)")
        except RpcError as exc:
            self.screen.error(f"error: {exc.message}")
        except KeyboardInterrupt:
            self.screen.line(self.screen.style.dim("(interrupted)"))


def _load_readline() -> bool:
    """Import readline for line editing and history, when stdin is a terminal and it exists."""
    if not sys.stdin.isatty():
        return False
    try:
        importlib.import_module("readline")  # importing it is what makes input() use it
    except ImportError:
        return False
    return True


def server_command(option: str | None) -> list[str]:
    """The daemon's argv: --server, else the console script beside this Python, else -m."""
    if option:
        return shlex.split(option)
    script = Path(sys.executable).with_name("gemini-chat-server")
    if script.exists():
        return [str(script)]
    if importlib.util.find_spec("gemini_chat.__main__") is not None:
        return [sys.executable, "-m", "gemini_chat"]
    return [sys.executable, "-c", "import sys; from gemini_chat.cli import main; sys.exit(main())"]


def has_key(env: dict[str, str]) -> bool:
    """Whether the environment names an API key."""
    return bool(env.get("GEMINI_API_KEY") or env.get("GOOGLE_API_KEY"))


@contextmanager
def bundled_emulator(env: dict[str, str], screen: Screen) -> Generator[list[str]]:
    """Start the emulator in-process with a random key given to the daemon's env only."""
    from gemini_chat.emulator import Emulator  # only the no-key path pays for it

    key = secrets.token_urlsafe(24)
    emulator: Emulator = Emulator(api_keys=[key])
    emulator.start()
    try:
        env["GEMINI_API_KEY"] = key
        env["GEMINI_BASE_URL"] = emulator.url
        screen.wrapped(EMULATOR_NOTICE, dim=True)
        yield [key]
    finally:
        emulator.stop()


async def start_client(
    argv: list[str], env: dict[str, str], root: Path, redact: list[str]
) -> RpcClient:
    """Spawn the daemon and run the handshake, or raise a StartError saying why not."""
    try:
        client = await RpcClient.spawn(argv, env=env, cwd=root, redact=redact)
    except OSError as exc:
        raise StartError(f"cannot start the daemon ({shlex.join(argv)}): {exc}") from exc
    try:
        await asyncio.wait_for(client.initialize(root), START_TIMEOUT)
    except ServerExited as exc:
        raise StartError(_exited_message(argv, exc)) from exc
    except (RpcError, TimeoutError) as exc:
        await client.close(1.0)
        why = exc.message if isinstance(exc, RpcError) else f"no answer in {START_TIMEOUT:.0f} s"
        raise StartError(f"the daemon ({shlex.join(argv)}) did not start: {why}") from exc
    return client


def _exited_message(argv: list[str], exc: ServerExited) -> str:
    code = "" if exc.returncode is None else f" with status {exc.returncode}"
    tail = exc.stderr_tail.strip() or "(it wrote nothing to stderr)"
    tail = "\n".join("  " + line for line in tail.splitlines()[-15:])
    return f"the daemon ({shlex.join(argv)}) exited{code}. Its last words:\n{tail}"


class StartError(Exception):
    """The daemon could not be started or would not complete the handshake."""


def parse_args(argv: list[str] | None) -> Options:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="gemini-chat",
        description="Chat with Gemini about the current folder (a REPL, or one question).",
    )
    parser.add_argument("question", nargs="*", help="ask this and exit (else a REPL, or stdin)")
    parser.add_argument("--workspace", type=Path, default=Path.cwd(), help="folder (default: .)")
    parser.add_argument("--model", help="model for this session, e.g. gemini-2.5-pro")
    parser.add_argument("--base-url", help="API root (a proxy, or the emulator's URL)")
    parser.add_argument("--server", help="daemon command (default: gemini-chat-server)")
    parser.add_argument("--no-stream", action="store_true", help="print replies when complete")
    parser.add_argument("--thoughts", action="store_true", help="show thought summaries, dimmed")
    parser.add_argument("--version", action="version", version=f"gemini-chat {__version__}")
    ns = parser.parse_args(argv)
    question = " ".join(ns.question) if ns.question else None
    if not ns.workspace.is_dir():
        parser.error(f"--workspace {ns.workspace}: not a folder")
    return Options(
        question, ns.workspace, ns.model, ns.base_url, ns.server, not ns.no_stream, ns.thoughts
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of `gemini-chat`."""
    opts = parse_args(argv)
    if opts.question is None and not sys.stdin.isatty():
        opts.question = sys.stdin.read().strip()
        if not opts.question:
            print("gemini-chat: no question on stdin", file=sys.stderr)
            return 2
    screen = Screen(sys.stdout, sys.stderr, label=opts.question is None)
    env = dict(os.environ)
    if opts.base_url:
        env["GEMINI_BASE_URL"] = opts.base_url
    try:
        if has_key(env) or opts.base_url:
            return run(
                opts, env, screen, [env.get("GEMINI_API_KEY", ""), env.get("GOOGLE_API_KEY", "")]
            )
        with bundled_emulator(env, screen) as secrets_:
            return run(opts, env, screen, secrets_)
    except KeyboardInterrupt:
        screen.line()
        return 130


def run(opts: Options, env: dict[str, str], screen: Screen, redact: list[str]) -> int:
    """Start the daemon, run the REPL or the one question, shut the daemon down."""
    loop = LoopThread()
    argv = server_command(opts.server)
    try:
        try:
            client = loop.run(start_client(argv, env, opts.workspace.resolve(), redact))
        except StartError as exc:
            screen.error(f"gemini-chat: {exc}")
            return 1
        try:
            return converse(Session(loop, client, screen, opts), screen, opts)
        except ServerExited as exc:
            screen.error(f"gemini-chat: {_exited_message(argv, exc)}")
            return 1
        finally:
            loop.run(client.close(), timeout=15)
    finally:
        loop.stop()


def converse(session: Session, screen: Screen, opts: Options) -> int:
    """The one-shot answer or the REPL; the exit status."""
    if opts.question is not None:
        if session.ask(opts.question):
            return 0
        return 130 if session.stopped else 1
    try:
        status = session.call("gemini/status", {})
    except RpcError:
        status = {}  # the banner can do without it; turns will report real problems
    model = session.model or str(status.get("model") or "")
    home = str(Path.home())
    folder = str(opts.workspace.resolve())
    folder = "~" + folder[len(home) :] if folder.startswith(home + os.sep) else folder
    screen.line(f"{screen.style.bold('gemini-chat')} {__version__} · {folder} · {model}")
    screen.line(screen.style.dim("Ask anything. /help lists commands; Ctrl-D quits."))
    screen.line()
    return Repl(session, screen).run()
