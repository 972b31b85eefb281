"""`/history`: the folder's conversation as stored, an interrupted turn included."""

from __future__ import annotations

from .imaging import filtered_lines, imagen_note, images
from .rpc import JsonObject, as_list, as_object
from .screen import Screen, compacted_line
from .session import TOOL_MARK, Session
from .structured import reply_source, verdict
from .usage import usage_line

RETRY_CHAT = "the editor running it stopped before the reply ended; /retry asks again"
RETRY_IMAGE = "the editor drawing it stopped before the images came; /retry draws again"


def show_history(session: Session, screen: Screen) -> JsonObject:
    """Print the workspace's conversation; the `gemini/history` result."""
    result = session.call("gemini/history", {"workspace": session.workspace})
    turns = [as_object(t) for t in as_list(result.get("turns"))]
    interrupted = as_object(result.get("interrupted"))
    if not turns and not interrupted:
        screen.line(screen.style.dim("(no conversation yet in this workspace)"))
        return result
    summary_next = False
    for index, turn in enumerate(turns):
        if turn.get("role") == "user":
            if index:
                screen.line()  # a blank line between exchanges
            summary_next = _user(screen, turn)
        elif summary_next:  # the model's summary of the compacted exchanges
            screen.markdown(
                str(turn.get("text") or ""), label=screen.style.dim("summary>"), dim=True
            )
            summary_next = False
        else:
            _model(screen, turn)
    if interrupted:
        show_interrupted(screen, interrupted, blank=bool(turns))
    return result


def _user(screen: Screen, turn: JsonObject) -> bool:
    """A user turn; True when it is the marker of a compaction (its summary comes next)."""
    style = screen.style
    if isinstance(count := turn.get("compacted"), int):
        screen.line("  " + style.dim(compacted_line(count)))
        return True
    screen.wrapped(f"{style.you('you>')} {turn.get('text') or ''}")
    if imagen := as_object(turn.get("imagen")):
        screen.line(style.dim(f"  {imagen_note(imagen)}"))
    _attached(screen, turn)
    return False


def _attached(screen: Screen, turn: JsonObject) -> None:
    names = [str(as_object(a).get("name") or "") for a in as_list(turn.get("attachments"))]
    if names := [n for n in names if n]:
        screen.line(screen.style.dim(f"  attached: {', '.join(names)}"))


def _model(screen: Screen, turn: JsonObject) -> None:
    style = screen.style
    for call in (as_object(c) for c in as_list(turn.get("toolCalls"))):
        screen.line("  " + style.dim(f"{TOOL_MARK} {call.get('summary') or '?'}"))
    text = str(turn.get("text") or "")
    if "json" in turn:  # a JSON-mode turn: pretty, with what the check found
        text = reply_source(turn, terminal=screen.tty)
    if text or turn.get("thoughts"):
        _reply(screen, str(turn.get("thoughts") or ""), text)
    for path, _mime in images(turn):
        screen.line(f"  image saved: {path}")
    for line in filtered_lines(turn):
        screen.line("  " + style.warn(line))
    for line, warn in verdict(turn, ""):
        screen.line("  " + (style.warn(line) if warn else style.dim(line)))
    when = str(turn.get("time") or "")[:19].replace("T", " ")
    usage = usage_line({"model": turn.get("model"), "usage": turn.get("usage")}).strip()
    meta = " · ".join(p for p in (when, usage if turn.get("usage") else "") if p)
    if meta:
        screen.parts(f"  {meta}")


def _reply(screen: Screen, thoughts: str, text: str) -> None:
    """A stored reply as a streamed one looks: the label, thoughts dimmed, then the text."""
    screen.begin_reply()
    screen.show(thoughts.strip(), text)
    screen.end_reply(None)


def show_interrupted(screen: Screen, turn: JsonObject, *, blank: bool) -> None:
    """The turn a daemon left unfinished when it died: the question, what came, how to retry."""
    style = screen.style
    if blank:
        screen.line()
    when = str(turn.get("time") or "")[:19].replace("T", " ")
    screen.line(style.warn(f"── interrupted{f' at {when}' if when else ''} ──"))
    screen.wrapped(f"{style.you('you>')} {turn.get('message') or ''}")
    if image := as_object(turn.get("image")):  # an image request, not a question
        screen.line(style.dim(f"  {imagen_note(image)}"))
        screen.line(style.dim(f"  ({RETRY_IMAGE})"))
        return
    _attached(screen, turn)
    text, thoughts = str(turn.get("text") or ""), str(turn.get("thoughts") or "")
    if text or thoughts:
        _reply(screen, thoughts, text)
    screen.line(style.dim(f"  ({RETRY_CHAT})"))
