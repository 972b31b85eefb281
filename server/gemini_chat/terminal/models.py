"""`/model`: the chat models first (the rest behind `/model all`), and the folder's choice."""

from __future__ import annotations

import contextlib
import threading

from .imaging import edits_images
from .mirror import Feed
from .rpc import JsonObject, as_list, as_object
from .screen import Screen
from .session import Session

FORGET = ("default", "-")  # `/model default` forgets the folder's choice
IMAGE_MODEL = "an image model: questions ask for text and images back; @photo.png edits it"
KINDS = {"special": "not for chat about code", "image": "images only"}


class Models:
    """The model list (cached for completion) and the folder's model."""

    def __init__(self, session: Session, screen: Screen, feed: Feed) -> None:
        self.session, self.screen, self.feed = session, screen, feed
        self._names: list[str] = []
        self._images: list[str] = []  # Imagen models, for /image --model
        self._lock = threading.Lock()

    def names(self, wait: bool = False) -> list[str]:
        """Model names for completion, chat models first; until they are listed once, empty
        (or, with `wait` once the daemon is up, fetched now: Tab was pressed, it may take a
        moment)."""
        with self._lock:
            names = list(self._names)
        # Not while the daemon starts: its status line would land on the line being typed.
        if not names and wait and self.session.ready():
            with contextlib.suppress(Exception):  # completion only: /model says what is wrong
                names = [str(m.get("name") or "") for m in self.fetch()]
        return names

    def image_names(self, wait: bool = False) -> list[str]:
        """The Imagen models (`kind: image`) for `/image --model`, as `names` lists them."""
        if wait:
            self.names(wait)
        with self._lock:
            return list(self._images)

    def fetch(self) -> list[JsonObject]:
        """`gemini/models`'s models, chat ones first, never an image model (they cannot chat)."""
        return self.remember(self.session.call("gemini/models", {}))

    def remember(self, result: JsonObject) -> list[JsonObject]:
        """Keep a `gemini/models` result's names for completion; its models, ordered."""
        models = [as_object(m) for m in as_list(result.get("models"))]
        images = [str(m.get("name") or "") for m in models if m.get("kind") == "image"]
        models = [m for m in models if m.get("kind") != "image"]
        chat = [m for m in models if m.get("kind", "chat") == "chat"]
        ordered = chat + [m for m in models if m not in chat]
        with self._lock:
            self._names = [str(m.get("name") or "") for m in ordered]
            self._images = images
        return ordered

    def show(self, everything: bool) -> None:
        """List the models the key can use; `*` marks the one the next turn uses."""
        models = self.fetch()
        history = self.session.call("gemini/history", {"workspace": self.session.workspace})
        folder = str(history.get("model") or "")
        current = self.session.model or folder
        style = self.screen.style
        rest = [m for m in models if m.get("kind", "chat") != "chat"]
        shown = models if everything else [m for m in models if m not in rest]
        width = max((len(str(m.get("name") or "")) for m in shown), default=0)
        room = (self.screen.width or 10_000) - width - len("*   1,024k in  ") - 1
        for model in shown:
            name = str(model.get("name") or "")
            mark = "*" if name == current else " "
            limit = model.get("inputTokenLimit")
            extra = f"{limit // 1024:,}k in" if isinstance(limit, int) else ""
            about = KINDS.get(str(model.get("kind")), str(model.get("displayName") or ""))
            self.screen.line(
                f"{mark} {name:<{width}}  {style.dim(f'{extra:>9}  {fit(about, room)}')}"
            )
        if rest and not everything:
            self.screen.line(
                style.dim(f"  … and {len(rest)} more (speech, robotics, …): /model all")
            )
        if self.session.model and self.session.model != folder:
            self.screen.line(
                style.dim(f"* --model {self.session.model} (this session); folder: {folder}")
            )
        else:
            self.screen.line(style.dim(f"* this folder's model: {current}"))
        self.screen.line(
            style.dim(
                "Switch with /model NAME (remembered for this folder); /model default forgets."
            )
        )

    def choose(self, name: str) -> None:
        """Remember NAME as this folder's model (every client, every restart); `default` forgets.

        A name the API does not list is refused by the daemon, naming the closest ones."""
        forget = name in FORGET
        with self.feed.own("model"):
            result = self.session.call(
                "gemini/setModel",
                {"workspace": self.session.workspace, "model": None if forget else name},
            )
        model = str(result.get("model") or name)
        overridden, self.session.model = self.session.model, None  # the user chose: no --model
        self.session.folder_model = model
        style = self.screen.style
        if forget:
            self.screen.line(f"This folder uses the default model again: {model}")
        else:
            self.screen.line(f"Model for this folder: {model}")
            self.screen.line(
                style.dim(
                    "  (remembered: other editors and later sessions on this folder use it too)"
                )
            )
        if overridden:
            self.screen.line(style.dim(f"  (--model {overridden} no longer applies)"))
        if edits_images(model):
            self.screen.line(style.dim(f"  ({IMAGE_MODEL})"))


def reset(session: Session, screen: Screen, feed: Feed) -> None:
    """Archive the conversation; the next question starts a fresh one."""
    workspace: JsonObject = {"workspace": session.workspace}
    # With no conversation active the daemon changes nothing and sends no change: expecting
    # one then would swallow the next reset another editor makes.
    active = session.call("gemini/conversations", {**workspace, "limit": 1}).get("active")
    with feed.own("reset") if active is not None else contextlib.nullcontext():
        cleared = session.call("gemini/reset", workspace).get("cleared")
    screen.line(
        f"Started a fresh conversation ({cleared} entries archived)."
        if cleared
        else "Started a fresh conversation."
    )


def fit(text: str, room: int) -> str:
    """`text` cut to `room` columns with an ellipsis (nothing if there is no room)."""
    if len(text) <= room:
        return text
    return text[: room - 1] + "…" if room > 1 else ""
