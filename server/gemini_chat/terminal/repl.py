"""The terminal client's interactive loop: the prompt, slash commands, Ctrl-C and Ctrl-D.

Between prompts it shows what other editors on the folder did (their turns stream in), and a
question typed while a reply is still coming is kept and sent once it has ended.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from . import attach, imaging
from .chats import Chats
from .editor import LineEditor, Woken, quiet_keys
from .history import show_history
from .mirror import Feed, Mirror
from .models import Models, reset
from .rpc import JsonObject, RpcClient, RpcError, as_object
from .screen import Screen
from .session import Session
from .status import show_status
from .structured import JsonMode

HELP = """\
Enter sends; Alt-Enter or Ctrl-J (or a line ending in \\) starts a new line.
@path attaches a file (text, image, PDF, audio, video); Tab completes.
  /history         this folder's conversation
  /chats           this folder's conversations, numbered
  /open N          continue conversation N (the current one is archived)
  /rename TITLE    name the current conversation
  /delete N        delete conversation N for good
  /export [FILE]   the conversation as Markdown, to FILE or here
  /reset           start a fresh conversation (the old one is archived)
  /attach PATH     attach a file to the next question (/attach lists them)
  /detach          drop the attachments not sent yet
  /retry           send an interrupted turn again (a question, or an image
                   request, which is drawn again)
  /image PROMPT    draw PROMPT with Imagen; before it: -n 1-4, --aspect 16:9,
                   --model imagen-…
  /json [SCHEMA]   replies as JSON (matching SCHEMA, a *.schema.json) until
                   /json off
  /status          the daemon, the model, the rate limit last met
  /model           the chat models; * marks the one in use (/model all: all)
  /model NAME      use NAME in this folder from now on (in every editor)
  /model default   forget the folder's model (back to the model setting)
  /help            this text
  /quit            leave (or Ctrl-D)
An image model (/model gemini-2.5-flash-image) edits an @image, then the
latest one. Ctrl-C stops a reply that is streaming; at the prompt it clears
the line."""


class Repl:
    """The interactive loop: `you>` prompt, slash commands, other editors' turns."""

    def __init__(self, session: Session, screen: Screen, folder: Path) -> None:
        self.session, self.screen, self.folder = session, screen, folder
        style = screen.style
        self.more = style.dim("...>") + " "
        self.feed = Feed()
        self.mirror = Mirror(self.feed, screen)
        self.models = Models(session, screen, self.feed)
        self.chats = Chats(session, screen, self.feed, self._confirm)
        self.json = JsonMode(folder)
        self.editor = LineEditor(self.you, self.more, folder, self.models.names)
        self.editor.image_models = self.models.image_names
        self.editor.pending = lambda: self.feed.pending() or bool(screen.pending)
        self.feed.on_push = self.editor.wake
        session.listeners.append(self.feed.push)
        self.attached: list[JsonObject] = []  # /attach: for the next question
        self.retry: JsonObject = {}  # the interrupted turn /history showed last

    @property
    def you(self) -> str:
        """The prompt: `you>`, or `you [json: person]>` while JSON mode is on."""
        label = self.json.label()
        mode = " " + self.screen.style.warn(f"[{label}]") if label else ""
        return self.screen.style.you("you") + mode + self.screen.style.you(">") + " "

    def watch(self, started: concurrent.futures.Future[RpcClient]) -> None:
        """When the daemon is up, list the models (for completion); if it failed, say why at
        once, even at the prompt."""
        started.add_done_callback(self._on_started)

    def _on_started(self, future: concurrent.futures.Future[RpcClient]) -> None:
        if future.cancelled():
            return
        if (error := future.exception()) is not None:
            self.editor.wake(failure=error)
            return
        self.session.loop.submit(self._list_models())

    async def _list_models(self) -> None:
        client = self.session.client()
        try:
            result = as_object(await client.request("gemini/models", {}))
        except Exception:  # completion only: /model says what is wrong
            return
        self.models.remember(result)

    def run(self) -> int:
        """Read questions until /quit, Ctrl-D or two Ctrl-Cs; the exit status."""
        interrupted = False
        while True:
            self._show_pending()
            try:
                line = self._read()
            except Woken:
                continue
            except EOFError:
                self.screen.line()
                return 0
            except KeyboardInterrupt:
                if interrupted:
                    return 0
                interrupted = True
                self.screen.line(
                    self.you + self.screen.style.dim("(Ctrl-C again or Ctrl-D to quit)")
                )
                continue
            interrupted = False
            if line.strip() and self.handle(line) == "quit":
                return 0

    def _read(self) -> str:
        with self.screen.lock:
            self.screen.prompting = True
        try:
            return self.editor.read()
        finally:
            with self.screen.lock:
                self.screen.prompting = False

    def _show_pending(self) -> None:
        """Notices and other editors' turns that came meanwhile; the daemon failing at start."""
        if self.session.started is not None and self.session.started.done():
            self.session.client()  # raises the StartError saying why
        self.screen.flush_notices()
        if self.feed.pending():
            with quiet_keys():
                self.mirror.show_pending()
                self.screen.line()

    def _echo(self, line: str) -> None:
        """The question as sent (the prompt erased itself, so it follows what came first)."""
        first, *rest = line.split("\n")
        self.screen.line(self.you + first)
        for more in rest:
            self.screen.line(self.more + more)

    def handle(self, line: str) -> str | None:
        """Run one command or question; "quit" to leave."""
        self._show_pending()  # another editor's turn that came while this line was typed
        self._echo(line)
        text = line.strip()
        if not text.startswith("/") or text.startswith("//"):
            self.screen.line()
            self.ask(text[1:] if text.startswith("//") else text)
        else:
            name, _, arg = text.partition(" ")
            if name in ("/quit", "/exit", "/q"):
                return "quit"
            self.screen.line()
            self.command(name, arg.strip())
        self.screen.line()
        return None

    def ask(self, text: str, extra: list[JsonObject] | None = None) -> None:
        """Send a question with its `@path` files and what /attach gathered."""
        mentioned, notes = attach.mentions(text, self.folder)
        for note in notes:
            self.screen.line(self.screen.style.dim(f"  {note}"))
        items = [*self.attached, *(extra or [])]
        items += [a for a in mentioned if a not in items]
        if items:
            names = ", ".join(attach.shown_name(a, self.folder) for a in items)
            self.screen.line(self.screen.style.dim(f"  attached: {names}"))
        self.attached = []
        try:
            json_mode = self.json.request()
        except ValueError as exc:  # the schema file went away or broke since /json
            self.screen.error(f"error: {exc} (/json off sends questions without it)")
            return
        with quiet_keys():
            self.session.ask(text, items, json_mode=json_mode, schema=self.json.shown())

    def command(self, name: str, arg: str) -> None:
        """A slash command; errors from the daemon are shown, not raised."""
        try:
            self._command(name, arg)
        except RpcError as exc:
            self.screen.error(f"error: {exc.message}")
        except (OSError, ValueError) as exc:
            self.screen.error(f"error: {exc}")
        except KeyboardInterrupt:
            self.screen.line(self.screen.style.dim("(interrupted)"))

    def _command(self, name: str, arg: str) -> None:
        simple = {
            "/help": lambda: self.screen.line(HELP),
            "/history": self._history,
            "/reset": lambda: reset(self.session, self.screen, self.feed),
            "/chats": self.chats.chats,
            "/open": lambda: self.chats.open(arg),
            "/rename": lambda: self.chats.rename(arg),
            "/delete": lambda: self.chats.delete(arg),
            "/export": lambda: self.chats.export(arg),
            "/attach": lambda: self._attach(arg),
            "/detach": self._detach,
            "/retry": self._retry,
            "/model": lambda: self._model(arg),
            "/image": lambda: self._image(arg),
            "/json": lambda: self._json(arg),
            "/status": lambda: show_status(self.session, self.screen),
        }
        action = simple.get(name)
        if action is None:
            self.screen.error(f"unknown command {name}: /help lists them (// sends a / line)")
            return
        action()

    def _image(self, arg: str) -> None:
        prompt, options = imaging.parse(arg)  # ValueError: says how it goes
        with quiet_keys():
            self.session.draw(prompt, options)

    def _json(self, arg: str) -> None:
        self.screen.line(self.json.set(arg))
        self.editor.prompt = self.you

    def _model(self, arg: str) -> None:
        if arg in ("", "all"):
            self.models.show(everything=arg == "all")
        else:
            self.models.choose(arg)

    def _history(self) -> None:
        self.retry = as_object(show_history(self.session, self.screen).get("interrupted"))

    def _attach(self, arg: str) -> None:
        if arg:
            self.attached.append(attach.attachment(arg, self.folder))
        names = [attach.shown_name(a, self.folder) for a in self.attached]
        self.screen.line(
            f"Attached to the next question: {', '.join(names)}" if names else "Nothing attached."
        )

    def _detach(self) -> None:
        count, self.attached = len(self.attached), []
        self.screen.line(f"Dropped {count} attachment{'s' if count != 1 else ''}.")

    def _retry(self) -> None:
        """Send the interrupted turn again: its question (its files are named, not re-read), or
        its image request through gemini/generateImage as /image sends one."""
        interrupted = self.retry or as_object(
            self.session.call("gemini/history", {"workspace": self.session.workspace}).get(
                "interrupted"
            )
        )
        message = interrupted.get("message")
        if not isinstance(message, str) or not message:
            self.screen.error("no interrupted turn to send again (/history shows one if there is)")
            return
        self.retry = {}
        self._echo(message)
        if image := as_object(interrupted.get("image")):  # an /image request: drawn again
            self.screen.line(self.screen.style.dim(f"  {imaging.imagen_note(image)}"))
            self.screen.line()
            with quiet_keys():
                self.session.draw(message, imaging.asked_again(image))
            return
        self.screen.line()
        self.ask(message)

    def _confirm(self, question: str) -> bool:
        try:
            return input(question).strip().lower() in ("y", "yes")
        except EOFError:
            return False
