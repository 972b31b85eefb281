"""Tab completion in the REPL: slash commands, model names, `@path`s, and the arguments of
`/attach`, `/image` (options, counts, aspect ratios, Imagen models) and `/json` (schema files)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..tools import SKIP_DIRS
from . import imaging
from .structured import OFF

if TYPE_CHECKING:
    from prompt_toolkit.completion import CompleteEvent, Completion
    from prompt_toolkit.document import Document


COMMANDS = {
    "/help": "the commands",
    "/history": "this conversation",
    "/chats": "this folder's conversations",
    "/open": "open conversation N of /chats",
    "/rename": "rename this conversation",
    "/delete": "delete conversation N of /chats",
    "/export": "this conversation as Markdown",
    "/reset": "start a fresh conversation",
    "/model": "list or pick the model",
    "/attach": "attach a file to the next question",
    "/detach": "drop the attachments not sent yet",
    "/retry": "send the interrupted turn again",
    "/image": "draw a picture with Imagen",
    "/json": "ask for JSON replies (with a schema)",
    "/status": "the daemon, the model, the rate limit",
    "/quit": "leave",
}
IMAGE_OPTIONS = {"-n": "how many images (1-4)", "--aspect": "W:H", "--model": "an Imagen model"}


class Completable(Protocol):
    """What completion needs of the line editor: the folder, the model and schema lists (each
    takes `wait`: Tab was pressed, so it may be looked up again now)."""

    workspace: Path
    models: Callable[[bool], list[str]]
    image_models: Callable[[bool], list[str]]
    schemas: Callable[[bool], list[str]]


def completer(editor: Completable) -> Any:
    """prompt_toolkit's Completer over `complete`."""
    from prompt_toolkit.completion import Completer

    class Completions(Completer):
        def get_completions(
            self, document: Document, complete_event: CompleteEvent
        ) -> Iterable[Completion]:
            return complete(editor, document.text_before_cursor)

    return Completions()


def complete(editor: Completable, before: str, *, wait: bool = False) -> Iterator[Completion]:
    """What may follow `before` (the line up to the cursor).

    `wait`: Tab was pressed, so the model list may be fetched now if it is not yet known."""
    word = before.rsplit(maxsplit=1)[-1] if before and not before[-1].isspace() else ""
    command, space, rest = before.partition(" ")
    if before.startswith("/") and not space:
        yield from _choices(before, COMMANDS, COMMANDS)
    elif command == "/model":
        yield from _choices(rest, ["all", "default", *editor.models(wait)])
    elif command == "/attach":
        yield from _paths(editor.workspace, rest, "")
    elif command == "/image":
        yield from _image(editor, rest, wait)
    elif command == "/json":
        yield from _json(editor, rest, wait)
    elif word.startswith("@"):
        yield from _paths(editor.workspace, word[1:], "@")


def _choices(
    typed: str, names: Iterable[str], meta: Mapping[str, str] | None = None
) -> Iterator[Completion]:
    from prompt_toolkit.completion import Completion

    meta = meta or {}
    for name in names:
        if name.startswith(typed):
            yield Completion(name, -len(typed), display_meta=meta.get(name))


def _image(editor: Completable, rest: str, wait: bool) -> Iterator[Completion]:
    """`/image`'s options before the prompt: one not given yet, or the value of the one just
    typed (a count, a ratio, an Imagen model). Nothing once the prompt has begun."""
    words = rest.split(" ")
    typed, given = words[-1], [w for w in words[:-1] if w]
    used: set[str] = set()
    index = 0
    while index < len(given):  # walk the options given so far, each with its value
        name = imaging.option_name(given[index].partition("=")[0])
        if name is None or given[index] == "--":
            return  # the prompt has begun
        used.add(name)
        index += 1 if "=" in given[index] else 2
    if index > len(given):  # the last option still waits for its value: that is `typed`
        name = imaging.option_name(given[-1])
        values = {"-n": imaging.COUNTS, "--aspect": imaging.RATIOS}.get(name or "")
        yield from _choices(typed, values if values else editor.image_models(wait))
    elif typed.startswith("-") or not typed:
        yield from _choices(typed, [k for k in IMAGE_OPTIONS if k not in used], IMAGE_OPTIONS)


def _json(editor: Completable, typed: str, wait: bool) -> Iterator[Completion]:
    """`off` and the folder's `*.schema.json` files; any path once it names none of them."""
    found = [f for f in [OFF[0], *editor.schemas(wait)] if f.startswith(typed)]
    if found or not typed:
        yield from _choices(typed, found)
    else:
        yield from _paths(editor.workspace, typed, "")


def _paths(root: Path, typed: str, mark: str) -> Iterator[Completion]:
    """Files and folders under `root` (or as typed, `~` and absolute) starting with `typed`."""
    from prompt_toolkit.completion import Completion

    name_part = typed.rpartition("/")[2]
    typed_folder = typed[: len(typed) - len(name_part)]  # up to its last "/", as typed
    folder = Path(os.path.expanduser(typed_folder or "."))
    folder = folder if folder.is_absolute() else root / folder
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(name_part) or entry.name in SKIP_DIRS:
            continue
        if entry.name.startswith(".") and not name_part.startswith("."):
            continue
        slash = "/" if entry.is_dir() else ""
        text = typed_folder + entry.name + slash
        yield Completion(
            mark + text.replace(" ", "\\ "), -len(mark + typed), display=entry.name + slash
        )
