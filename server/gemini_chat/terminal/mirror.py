"""Other editors on the folder: their turns streamed into the REPL, their changes noted.

The daemon sends `gemini/turnProgress` for a turn another editor started (the question, the
reply so far, its end) and `gemini/conversationChanged` for every change. They queue here as
they come (the RPC thread) and are shown by the REPL between prompts (the main thread). An
image request (`started` carries `image`) shows as /retry shows one: its prompt, its Imagen
line, and `drawing 2 images…` on the status line until the images come.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Generator

from .imaging import drawing, imagen_note, images
from .rpc import JsonObject, as_object
from .screen import Screen

TURN_PROGRESS = "gemini/turnProgress"
ENDS = {
    "cancelled": "(cancelled in the other editor)",
    "failed": "(the other editor's turn failed: nothing was added)",
}
INTERRUPTED = "(the other editor stopped mid-reply: /history shows what came, /retry asks again)"
INTERRUPTED_IMAGE = (
    "(the other editor stopped before the images came: /history shows the request, "
    "/retry draws again)"
)
CHANGES = {
    "reset": "another editor started a fresh conversation",
    "open": "another editor opened another conversation: /history shows it",
    "deleted": "another editor deleted a conversation",
    "renamed": "another editor renamed a conversation",
    "model": "another editor changed this folder's model: /model shows it",
}
Event = tuple[str, JsonObject]


class Feed:
    """The live notifications, queued until the REPL can show them; thread-safe."""

    def __init__(self) -> None:
        self._events: collections.deque[Event] = collections.deque()
        self._ready = threading.Condition()
        self._expected: collections.Counter[str] = collections.Counter()
        self.on_push: Callable[[], None] = lambda: None

    def push(self, method: str, params: JsonObject) -> None:
        """A notification for this folder (the RPC thread)."""
        reason = params.get("reason")
        with self._ready:
            if method != TURN_PROGRESS and isinstance(reason, str) and self._expected[reason]:
                self._expected[reason] -= 1  # our own change, said already
                return
            if method != TURN_PROGRESS and reason not in CHANGES:
                return  # a turn: shown by turnProgress (another's) or by us
            self._events.append((method, params))
            self._ready.notify_all()
        self.on_push()

    @contextlib.contextmanager
    def own(self, reason: str) -> Generator[None]:
        """Our own command makes a change of `reason` inside: it needs no notice (unless the
        command failed)."""
        with self._ready:
            self._expected[reason] += 1
        try:
            yield
        except BaseException:
            with self._ready:
                self._expected[reason] = max(0, self._expected[reason] - 1)
            raise

    def pending(self) -> bool:
        """Whether something waits to be shown."""
        with self._ready:
            return bool(self._events)

    def pop(self, timeout: float | None = 0) -> Event | None:
        """The next notification, waiting up to `timeout` s for one (None: forever)."""
        with self._ready:
            if not self._ready.wait_for(lambda: bool(self._events), timeout):
                return None
            return self._events.popleft()


class Mirror:
    """Shows what the feed holds: notices, and another editor's turn streaming to its end."""

    def __init__(self, feed: Feed, screen: Screen) -> None:
        self.feed, self.screen = feed, screen
        self.stopped_turn: object = None  # the turn Ctrl-C stopped following

    def show_pending(self) -> None:
        """Everything waiting; a turn under way is followed until it ends (Ctrl-C leaves it)."""
        while (event := self.feed.pop()) is not None:
            method, params = event
            if method != TURN_PROGRESS:
                self.screen.line(self.screen.style.dim(f"({CHANGES[str(params.get('reason'))]})"))
            elif params.get("turn") != self.stopped_turn:
                self._follow(params)

    def _follow(self, first: JsonObject) -> None:
        style, turn = self.screen.style, first.get("turn")
        self.screen.line(style.dim("── from another editor ──"))
        question = first.get("message")
        if isinstance(question, str) and question:
            self.screen.wrapped(f"{style.you('you>')} {question}")
        image = as_object(first.get("image"))  # an image request: drawn, no reply streams
        if image:
            self.screen.line(style.dim(f"  {imagen_note(image)}"))
        self.screen.begin_reply()
        if image:
            self.screen.status(drawing(image), transient=True)
        params: JsonObject | None = first
        try:
            while params is not None and not self._show(params, image=bool(image)):
                params = self._next(turn)
        except KeyboardInterrupt:
            self.stopped_turn = turn
            self.screen.end_reply(None)
            self.screen.line(style.dim("(no longer following it: /history shows it when done)"))

    def _next(self, turn: object) -> JsonObject | None:
        """The next event of `turn`; other notices are shown after it."""
        held: list[Event] = []
        try:
            while (event := self.feed.pop(None)) is not None:
                if event[0] == TURN_PROGRESS and event[1].get("turn") == turn:
                    return event[1]
                if event[0] == TURN_PROGRESS:  # the next turn started: this one ended
                    held.append(event)
                    return None
                held.append(event)
        finally:
            for method, params in held:
                self.feed.push(method, params)
        return None

    def _show(self, params: JsonObject, *, image: bool) -> bool:
        """Show one event of the turn (`image`: of an image request); True when it ended it."""
        state = params.get("state")
        text, thoughts = params.get("text"), params.get("thoughts")
        if isinstance(text, str) or isinstance(thoughts, str):
            self.screen.show(
                thoughts if isinstance(thoughts, str) else self.screen.thoughts,
                text if isinstance(text, str) else self.screen.text_so_far,
            )
        if state in ("started", "streaming"):
            return False
        if state == "finished":
            for path, mime in images(params):  # the stored reply's, carried by `finished`
                self.screen.image(path, mime)
            self.screen.end_reply(f"  from another editor · turn {params.get('turn')}")
        else:
            self.screen.end_reply(None)
            stopped = INTERRUPTED_IMAGE if image else INTERRUPTED
            note = stopped if params.get("interrupted") else ENDS.get(str(state), "")
            self.screen.line(self.screen.style.dim(note or f"({state})"))
        return True
