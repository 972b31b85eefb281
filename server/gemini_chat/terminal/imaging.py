"""Pictures: `/image [-n N] [--aspect W:H] [--model NAME] PROMPT` (Imagen, `gemini/generateImage`)
and image editing with Gemini's own image models in an ordinary turn.

Gemini's image models (their name says `image`: gemini-2.5-flash-image,
gemini-3-pro-image-preview; not Imagen's `imagen-*`) edit a picture when asked for TEXT and
IMAGE back: a turn on such a model asks so (`generationConfig.responseModalities`), unless the
`generationConfig` setting chooses the modalities itself.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from pathlib import Path

from .rpc import JsonObject, JsonValue, as_object

RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")
COUNTS = ("1", "2", "3", "4")
OPTIONS = {  # option -> (the field of gemini/generateImage, its other spellings)
    "-n": ("numberOfImages", ("--count",)),
    "--aspect": ("aspectRatio", ("-a",)),
    "--model": ("model", ("-m",)),
}
FIELDS = tuple(field for field, _aliases in OPTIONS.values())
USAGE = "/image [-n 1-4] [--aspect 1:1|3:4|4:3|9:16|16:9] [--model imagen-…] PROMPT"
INLINE_ROWS = 12
INLINE_MAX_BYTES = 8_000_000  # larger files are only named: drawing them would take a while
KITTY_CHUNK = 4096


def option_name(word: str) -> str | None:
    """The canonical option for `word` (`--count` is `-n`), None if it is none."""
    for name, (_field, aliases) in OPTIONS.items():
        if word == name or word in aliases:
            return name
    return None


def parse(arg: str) -> tuple[str, JsonObject]:
    """`-n 2 --aspect 16:9 a lighthouse` -> ("a lighthouse", {numberOfImages: 2, aspectRatio:
    "16:9"}); options lead, `--` ends them; ValueError with the usage when something is off."""
    params: JsonObject = {}
    rest = arg.strip()
    while rest.startswith("-"):
        word, _, rest = rest.partition(" ")
        rest = rest.lstrip()
        if word == "--":
            break
        name, eq, value = word.partition("=")
        if option_name(name) is None:
            raise ValueError(f"unknown option {name}: {USAGE}")
        if not eq:
            value, _, rest = rest.partition(" ")
            rest = rest.lstrip()
        params[OPTIONS[option_name(name) or ""][0]] = _value(name, value)
    if not rest:
        raise ValueError(f"what should the image show? {USAGE}")
    return rest, params


def _value(option: str, value: str) -> JsonValue:
    name = option_name(option)
    if name == "-n":
        if value not in COUNTS:
            raise ValueError(f"{option} takes 1 to 4 images, not {value or 'nothing'}")
        return int(value)
    if name == "--aspect" and value not in RATIOS:
        raise ValueError(f"{option} takes {', '.join(RATIOS)}, not {value or 'nothing'}")
    if not value:
        raise ValueError(f"{option} needs a value: {USAGE}")
    return value


def asked_again(image: JsonObject) -> JsonObject:
    """An interrupted request's `image` (`gemini/history`) as `gemini/generateImage` options:
    the fields /image sets, so it is drawn again as it was asked."""
    return {field: image[field] for field in FIELDS if image.get(field) is not None}


def edits_images(model: str) -> bool:
    """Whether `model` is one of Gemini's image models (a turn on it may answer with images)."""
    return "image" in model and not model.startswith("imagen")


def _how_many(marker: JsonObject) -> str:
    """The count an image request asks for, in words: `2 images`."""
    count = marker.get("numberOfImages")
    count = count if isinstance(count, int) else 1
    return f"{count} image" + ("" if count == 1 else "s")


def imagen_note(marker: JsonObject) -> str:
    """History's `imagen` marker in words: `Imagen · 2 images · 16:9 · imagen-4.0-…`."""
    parts = ["Imagen", _how_many(marker)]
    parts += [str(marker[k]) for k in ("aspectRatio", "model") if marker.get(k)]
    return " · ".join(parts)


def drawing(marker: JsonObject) -> str:
    """What an image request waiting for Imagen is doing: `drawing 2 images…`."""
    return f"drawing {_how_many(marker)}…"


def filtered_lines(result: JsonObject) -> list[str]:
    """Why Imagen dropped images, one line each (the result's or history's `filtered`)."""
    reasons = result.get("filtered")
    return [f"an image was filtered out: {r}" for r in reasons] if isinstance(reasons, list) else []


def images(result: JsonObject) -> list[tuple[str, str]]:
    """(path, mimeType) of each image of a result or a history model turn."""
    found = result.get("images")
    items = [as_object(i) for i in found] if isinstance(found, list) else []
    return [(str(i.get("path") or ""), str(i.get("mimeType") or "")) for i in items]


# --- drawing them in the terminal -------------------------------------------------------------


def inline_protocol(env: Mapping[str, str]) -> str | None:
    """The image protocol of a terminal that says which it is: `kitty` (kitty, Ghostty) or
    `iterm` (iTerm2, WezTerm). None anywhere else, and inside tmux or screen, which would need
    pass-through: there an image is only named by its path."""
    term = env.get("TERM", "")
    if env.get("TMUX") or env.get("STY") or term.startswith(("screen", "tmux")):
        return None
    program = env.get("TERM_PROGRAM", "")
    if term == "xterm-kitty" or env.get("KITTY_WINDOW_ID") or program == "ghostty":
        return "kitty"
    if program in ("iTerm.app", "WezTerm"):
        return "iterm"
    return None


def inline_image(protocol: str | None, path: Path, mime: str, rows: int = INLINE_ROWS) -> str:
    """The escape sequence drawing the image at `path` `rows` lines tall, or "" when it cannot
    be drawn cheaply (no protocol, a missing or large file, a format the protocol lacks)."""
    if protocol is None or (protocol == "kitty" and mime != "image/png"):
        return ""  # kitty's own format list is PNG (and raw pixels) only
    try:
        if path.stat().st_size > INLINE_MAX_BYTES:
            return ""
        data = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return ""
    if protocol == "iterm":
        size = path.stat().st_size
        return f"\x1b]1337;File=inline=1;size={size};height={rows};preserveAspectRatio=1:{data}\x07"
    chunks = [data[i : i + KITTY_CHUNK] for i in range(0, len(data), KITTY_CHUNK)] or [""]
    parts: list[str] = []
    for index, chunk in enumerate(chunks):
        more = int(index < len(chunks) - 1)
        # q=2: no answer from the terminal, which would land in the prompt as typed keys
        head = f"a=T,f=100,q=2,r={rows},m={more}" if index == 0 else f"m={more}"
        parts.append(f"\x1b_G{head};{chunk}\x1b\\")
    return "".join(parts)


def inline_from_env() -> str | None:
    """`inline_protocol` of this process's environment."""
    return inline_protocol(os.environ)
