"""The folder's conversations: `/chats`, `/open N`, `/rename TITLE`, `/delete N`, `/export`."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

from .mirror import Feed
from .models import fit
from .rpc import JsonObject, as_list, as_object
from .screen import Screen
from .session import Session

PAGE = 100


class Chats:
    """The conversation commands; `/open N` and `/delete N` count in the last `/chats` list."""

    def __init__(
        self, session: Session, screen: Screen, feed: Feed, confirm: Callable[[str], bool]
    ) -> None:
        self.session, self.screen, self.feed, self.confirm = session, screen, feed, confirm
        self.listed: list[JsonObject] = []

    def _call(self, method: str, **params: object) -> JsonObject:
        return self.session.call(method, {"workspace": self.session.workspace, **params})  # pyright: ignore[reportArgumentType]

    def _list(self) -> JsonObject:
        result = self._call("gemini/conversations", limit=PAGE)
        self.listed = [as_object(c) for c in as_list(result.get("conversations"))]
        return result

    def chats(self) -> None:
        """The numbered list, most recent first; `*` marks the active one."""
        result = self._list()
        style = self.screen.style
        if not self.listed:
            self.screen.line(style.dim("(no conversations yet in this folder)"))
            return
        width = (self.screen.width or 100) - 1
        now = datetime.datetime.now(datetime.UTC)
        longest = max(len(str(c.get("title") or "(untitled)")) for c in self.listed)
        for number, chat in enumerate(self.listed, 1):
            mark = "*" if chat.get("active") else " "
            meta = f"{_turns(chat)} · {_ago(chat.get('updated'), now)}"
            room = min(longest, max(10, width - len(meta) - 8))
            title = fit(str(chat.get("title") or "(untitled)"), room)
            self.screen.line(f"{number:>3} {mark} {title:<{room}}  {style.dim(meta)}")
        total = int(str(result.get("total") or len(self.listed)))
        more = f" ({total - len(self.listed)} older not shown)" if total > len(self.listed) else ""
        self.screen.line(style.dim(f"* the active one{more}. /open N, /delete N, /rename TITLE"))

    def _pick(self, arg: str) -> JsonObject | None:
        """Conversation number `arg` of the last list (listing now if there was none)."""
        if not self.listed:
            self._list()
        if not arg.isdigit() or not 1 <= int(arg) <= len(self.listed):
            count = len(self.listed)
            self.screen.error(f"no conversation {arg or '(none given)'}: /chats lists {count}")
            return None
        return self.listed[int(arg) - 1]

    def open(self, arg: str) -> None:
        """Make conversation N the folder's active one (the current one is archived)."""
        if (chat := self._pick(arg)) is None:
            return
        with self.feed.own("open"):
            self._call("gemini/openConversation", id=chat.get("id"))
        self.screen.line(f"Opened “{chat.get('title')}” ({_turns(chat)}). /history shows it.")
        self.listed = []

    def rename(self, title: str) -> None:
        """Give the active conversation a title (blank: back to its first question)."""
        active = self._list().get("active")
        if not isinstance(active, str):
            self.screen.error("no conversation yet: ask something first")
            return
        with self.feed.own("renamed"):
            result = self._call("gemini/renameConversation", id=active, title=title)
        self.screen.line(f"Renamed: “{result.get('title')}”")

    def delete(self, arg: str) -> None:
        """Delete conversation N for good, after asking."""
        if (chat := self._pick(arg)) is None:
            return
        what = f"“{chat.get('title')}” ({_turns(chat)})"
        if not self.confirm(f"Delete {what} for good? [y/N] "):
            self.screen.line(self.screen.style.dim("(kept)"))
            return
        with self.feed.own("deleted"):
            self._call("gemini/deleteConversation", id=chat.get("id"))
        self.screen.line(f"Deleted {what}.")
        if chat.get("active"):
            self.screen.line(self.screen.style.dim("  The next question starts a fresh one."))
        self.listed = []

    def export(self, arg: str) -> None:
        """The active conversation as Markdown: to FILE, or printed when no file is given."""
        result = self._call("gemini/export")
        markdown = str(result.get("markdown") or "")
        if not arg:
            self.screen.out.write(markdown if markdown.endswith("\n") else markdown + "\n")
            self.screen.out.flush()
            return
        path = Path(arg).expanduser()
        existed = path.exists()
        path.write_text(markdown, encoding="utf-8")
        replaced = " (replaced)" if existed else ""
        self.screen.line(f"Exported “{result.get('title')}” to {path}{replaced}.")


def _turns(chat: JsonObject) -> str:
    count = chat.get("turns")
    return f"{count} turn" if count == 1 else f"{count} turns"


def _ago(value: object, now: datetime.datetime) -> str:
    """`just now`, `5 min ago`, `3 h ago`, `yesterday`, else the date."""
    try:
        when = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return "?"
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 2 * 86400:
        return "yesterday"
    return when.astimezone().strftime("%Y-%m-%d")
