"""The terminal client: a REPL (or one-shot question) talking to gemini-chat-server over stdio."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import secrets
import shlex
import sys
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

from gemini_chat import __version__, setting_flag

from . import attach, imaging
from .repl import Repl
from .rpc import (
    JsonObject,
    JsonValue,
    LoopThread,
    RpcClient,
    RpcError,
    ServerExited,
    as_object,
)
from .screen import Screen
from .session import Session
from .structured import read_schema

if TYPE_CHECKING:
    from gemini_chat.emulator import Emulator

EMULATOR_NOTICE = (
    "No GEMINI_API_KEY set: using the bundled emulator (replies are canned). "
    "Set GEMINI_API_KEY to talk to Gemini."
)
START_TIMEOUT = 30.0
JSON_MISMATCH = 3  # one-shot exit status: the reply is not JSON, or not the schema's


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
    settings: JsonObject = field(default_factory=lambda: {})
    new: bool = False  # one-shot: start a fresh conversation first
    piped: str = ""  # one-shot: what came on stdin besides the question
    image: JsonObject | None = None  # one-shot --image: gemini/generateImage's options
    json_mode: bool = False  # one-shot --json (or --schema)
    schema: Path | None = None
    inline_images: bool = True


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
        screen.error(EMULATOR_NOTICE, warn=True)  # stderr: stdout carries only the reply
        yield [key]
    finally:
        emulator.stop()


async def start_client(
    argv: list[str], env: dict[str, str], root: Path, redact: list[str], options: JsonObject
) -> RpcClient:
    """Spawn the daemon and run the handshake, or raise a StartError saying why not."""
    try:
        client = await RpcClient.spawn(argv, env=env, cwd=root, redact=redact)
    except OSError as exc:
        raise StartError(f"cannot start the daemon ({shlex.join(argv)}): {exc}") from exc
    try:
        await asyncio.wait_for(client.initialize(root, options=options), START_TIMEOUT)
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


def parse_setting(text: str) -> tuple[str, JsonValue]:
    """`KEY=JSON` (a value that is not JSON is a string) -> (KEY, value); ValueError if bad
    (the API key is refused: see setting_flag)."""
    key, value = setting_flag.parse_setting(text)
    return key, cast(JsonValue, value)  # json.loads or a str


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gemini-chat",
        description="Chat with Gemini about the current folder (a REPL, or one question).",
    )
    parser.add_argument("question", nargs="*", help="ask this and exit (else a REPL, or stdin)")
    parser.add_argument("--workspace", type=Path, default=Path.cwd(), help="folder (default: .)")
    parser.add_argument("--model", help="model for this session's turns, e.g. gemini-2.5-pro")
    parser.add_argument("--base-url", help="API root (a proxy, or the emulator's URL)")
    parser.add_argument("--server", help="daemon command (default: gemini-chat-server)")
    parser.add_argument("--no-stream", action="store_true", help="print replies when complete")
    parser.add_argument("--thoughts", action="store_true", help="show thought summaries, dimmed")
    parser.add_argument(
        "--new",
        action="store_true",
        help="with a question: start a fresh conversation for it (the old one is archived)",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="advanced: a daemon setting for this session (docs/protocol.md), repeatable",
    )
    pictures = parser.add_argument_group("images and JSON (with a question)")
    pictures.add_argument("--image", action="store_true", help="draw the question with Imagen")
    pictures.add_argument("-n", "--count", choices=imaging.COUNTS, help="--image: how many")
    pictures.add_argument("--aspect", choices=imaging.RATIOS, help="--image: aspect ratio")
    pictures.add_argument("--json", action="store_true", help="ask for the reply as JSON")
    pictures.add_argument("--schema", type=Path, help="... matching this JSON Schema file")
    parser.add_argument(
        "--no-inline-images",
        action="store_true",
        help="only name image files, even in a terminal that can draw them (kitty, iTerm2)",
    )
    parser.add_argument("--version", action="version", version=f"gemini-chat {__version__}")
    return parser


def parse_args(argv: list[str] | None) -> Options:
    """Parse the command line."""
    parser = _parser()
    ns = parser.parse_args(argv)
    question = " ".join(ns.question) if ns.question else None
    if not ns.workspace.is_dir():
        parser.error(f"--workspace {ns.workspace}: not a folder")
    try:
        settings: JsonObject = dict(parse_setting(text) for text in ns.setting)
    except ValueError as exc:
        parser.error(f"--setting {exc}")
    if (ns.image or ns.json or ns.schema) and question is None:
        parser.error("--image, --json and --schema go with a question")
    if ns.image and (ns.json or ns.schema):
        parser.error("--image draws a picture: it has no JSON reply")
    if (ns.count or ns.aspect) and not ns.image:
        parser.error("--count and --aspect go with --image")
    image: JsonObject = {}
    if ns.count:
        image["numberOfImages"] = int(ns.count)
    if ns.aspect:
        image["aspectRatio"] = ns.aspect
    if ns.image and ns.model:  # the model that draws: an Imagen one
        image["model"], ns.model = ns.model, None
    return Options(
        question,
        ns.workspace,
        ns.model,
        ns.base_url,
        ns.server,
        not ns.no_stream,
        ns.thoughts,
        settings,
        ns.new,
        image=image if ns.image else None,
        json_mode=bool(ns.json or ns.schema),
        schema=ns.schema,
        inline_images=not ns.no_inline_images,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of `gemini-chat`."""
    opts = parse_args(argv)
    if not sys.stdin.isatty():  # `git diff | gemini-chat "review this"` sends both
        piped = sys.stdin.read()
        if opts.question is None:
            opts.question = piped.strip()
            if not opts.question:
                print("gemini-chat: no question on stdin", file=sys.stderr)
                return 2
        elif piped.strip():
            opts.piped = piped
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
    """Start the daemon (in the background), run the REPL or the question, shut it down."""
    loop = LoopThread()
    argv = server_command(opts.server)
    session = Session(loop, screen, opts.workspace, opts.model)
    session.stream, session.thoughts = opts.stream, opts.thoughts
    config = as_object(opts.settings.get("generationConfig"))
    session.ask_for_images = "responseModalities" not in config  # the setting's choice wins
    if not opts.inline_images:
        screen.inline = None
    root = opts.workspace.resolve()
    session.start(start_client(argv, env, root, redact, opts.settings))
    try:
        return converse(session, screen, opts)
    except StartError as exc:
        screen.error(f"gemini-chat: {exc}")
        return 1
    except ServerExited as exc:
        screen.error(f"gemini-chat: {_exited_message(argv, exc)}")
        return 1
    finally:
        session.close(START_TIMEOUT)
        loop.stop()


def converse(session: Session, screen: Screen, opts: Options) -> int:
    """The one-shot answer or the REPL; the exit status."""
    if opts.question is not None:
        return one_shot(session, screen, opts)
    # The banner and the prompt need no daemon: it starts while the user types.
    repl = Repl(session, screen, opts.workspace.resolve())
    assert session.started is not None
    repl.watch(session.started)
    home = str(Path.home())
    folder = str(opts.workspace.resolve())
    folder = "~" + folder[len(home) :] if folder.startswith(home + os.sep) else folder
    model = f" · {opts.model}" if opts.model else ""
    screen.line(f"{screen.style.bold('gemini-chat')} {__version__} · {folder}{model}")
    screen.line(
        screen.style.dim("Ask anything; @path attaches a file. /chats, /model, /help for more.")
    )
    screen.line()
    return repl.run()


def one_shot(session: Session, screen: Screen, opts: Options) -> int:
    """Ask the question (with stdin and `@path` files attached); the exit status."""
    assert opts.question is not None
    if opts.new:
        try:
            session.call("gemini/reset", {"workspace": session.workspace})
        except RpcError as exc:
            screen.error(f"error: {exc.message}")
            return 1
    if opts.image is not None:
        return draw(session, screen, opts.question, opts.image)
    items, notes = attach.mentions(opts.question, opts.workspace.resolve())
    for note in notes:
        screen.error(note, warn=True)
    if opts.piped:
        items.insert(0, {"name": "stdin", "text": opts.piped})
    json_mode: JsonObject | None = None
    if opts.json_mode:
        try:
            json_mode = {"schema": read_schema(opts.schema)} if opts.schema else {}
        except ValueError as exc:
            screen.error(f"gemini-chat: --schema {exc}")
            return 2
    schema = str(opts.schema) if opts.schema else ""
    if not session.ask(opts.question, items, json_mode=json_mode, schema=schema):
        return 130 if session.stopped else 1
    check = as_object(session.last.get("json"))
    return JSON_MISMATCH if check and check.get("valid") is not True else 0


def draw(session: Session, screen: Screen, prompt: str, options: JsonObject) -> int:
    """`--image`: the images' paths (on stdout alone when it is not a terminal)."""
    if not session.draw(prompt, options):
        return 130 if session.stopped else 1
    if not screen.tty:  # `open $(gemini-chat --image "a cat")`
        screen.out.write("".join(f"{path}\n" for path, _mime in imaging.images(session.last)))
        screen.out.flush()
    return 0
