"""Files named in a question: `@path` (gemini-cli's convention) and `/attach PATH`.

Each becomes a `uri` attachment: the daemon reads it (text, image, PDF, audio, video),
confines it to the folder and refuses what it cannot send, saying why.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .rpc import JsonObject

MENTION = re.compile(r"(?:(?<=\s)|^)@((?:\\ |[^\s])+)")
TRAILING = ".,;:!?)]}'\""  # "look at @src/app.py." names src/app.py


def resolve(raw: str, root: Path) -> Path:
    """`raw` as typed (`~`, absolute, or relative to the folder) as a path."""
    path = Path(os.path.expanduser(raw.replace("\\ ", " ")))
    return path if path.is_absolute() else root / path


def mentions(text: str, root: Path) -> tuple[list[JsonObject], list[str]]:
    """The attachments `@path`s in `text` name, and a note for each one that is a folder.

    An `@word` naming nothing on disk (a decorator, a handle) stays plain text."""
    attachments: list[JsonObject] = []
    notes: list[str] = []
    for match in MENTION.finditer(text):
        raw = match.group(1)
        for candidate in (raw, raw.rstrip(TRAILING)):
            path = resolve(candidate, root)
            if path.is_file():
                uri = path.absolute().as_uri()
                if all(a.get("uri") != uri for a in attachments):
                    attachments.append({"uri": uri})
                break
            if path.is_dir() and candidate:
                notes.append(
                    f"@{candidate} is a folder, not attached: name its files (@{candidate}/…)"
                )
                break
    return attachments, notes


def attachment(raw: str, root: Path) -> JsonObject:
    """`/attach PATH`'s attachment; ValueError saying why not."""
    path = resolve(raw, root)
    if path.is_dir():
        raise ValueError(f"{raw} is a folder: attach its files one by one")
    if not path.exists():
        raise ValueError(f"{raw}: no such file")
    return {"uri": path.absolute().as_uri()}


def shown_name(item: JsonObject, root: Path) -> str:
    """An attachment as the user would name it: relative to the folder where it is inside."""
    uri = str(item.get("uri") or "")
    path = Path(unquote(urlsplit(uri).path))
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
