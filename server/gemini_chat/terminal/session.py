"""The terminal client's session: one daemon, one workspace, and the turns sent on it."""

from __future__ import annotations

import concurrent.futures
import json
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path

from .rpc import (
    INTERNAL_ERROR,
    REQUEST_CANCELLED,
    JsonObject,
    JsonValue,
    LoopThread,
    RpcClient,
    RpcError,
    as_list,
    as_object,
)
from .screen import Screen, compacted_line, usage_line

CANCEL_GRACE = 5.0
LOG_TAIL_LINES = 12
TOOL_MARK = "↳"
SHOW_MESSAGE_TYPES = {1: "error", 2: "warning", 3: "info", 4: "log"}
Listener = Callable[[str, JsonObject], None]


class Session:
    """The turns the REPL and one-shot mode share; the daemon may still be starting."""

    def __init__(
        self, loop: LoopThread, screen: Screen, workspace: Path, model: str | None
    ) -> None:
        self.loop, self.screen = loop, screen
        self.workspace = workspace.resolve().as_uri()
        self.model = model  # --model: this session's per-turn override
        self.stream = True
        self.thoughts = False
        self.stopped = False  # the last turn was cancelled with Ctrl-C
        self.started: concurrent.futures.Future[RpcClient] | None = None
        self.listeners: list[Listener] = []  # the live feed (turnProgress, conversationChanged)
        self._tokens: dict[str, str] = {}  # progress token -> "partial" | "work"
        self._shown: dict[str, list[str]] = {}  # what progress already showed of this turn
        self._lock = threading.Lock()

    # --- the daemon ---------------------------------------------------------------------------

    def start(self, starting: Coroutine[object, object, RpcClient]) -> None:
        """Start the daemon in the background (`starting` spawns it and shakes hands)."""
        self.started = self.loop.submit(self._attach(starting))

    async def _attach(self, starting: Coroutine[object, object, RpcClient]) -> RpcClient:
        client = await starting
        client.on_notification("$/progress", self._on_progress)
        client.on_notification("window/showMessage", self._on_message)
        for method in ("gemini/turnProgress", "gemini/conversationChanged"):
            client.on_notification(method, lambda p, m=method: self._on_live(m, p))
        return client

    def client(self) -> RpcClient:
        """The running daemon's client, waiting for its start; StartError if it failed."""
        assert self.started is not None, "start() first"
        if not self.started.done():
            self.screen.status("starting gemini-chat-server…", transient=True)
        return self.started.result()

    def close(self, timeout: float) -> None:
        """Shut the daemon down (once it has started, if it was starting)."""
        if self.started is None:
            return
        try:
            client = self.started.result(timeout)
        except Exception:  # it never started: nothing to close
            return
        self.loop.run(client.close(), timeout=timeout)

    def call(self, method: str, params: JsonObject) -> JsonObject:
        """A plain request; RpcError/ServerExited/StartError propagate."""
        client = self.client()
        return as_object(self.loop.run(client.request(method, params)))

    def _on_message(self, params: JsonObject) -> None:
        kind = params.get("type")
        message = params.get("message")
        if isinstance(message, str) and kind in (1, 2):
            label = SHOW_MESSAGE_TYPES[kind]
            self.screen.notice(f"gemini-chat-server {label}: {message}")

    def _on_live(self, method: str, params: JsonObject) -> None:
        if params.get("workspace") == self.workspace:
            for listener in self.listeners:
                listener(method, params)

    # --- a turn -------------------------------------------------------------------------------

    def _on_progress(self, params: JsonObject) -> None:
        token = params.get("token")
        with self._lock:
            kind = self._tokens.get(token) if isinstance(token, str) else None
        value = as_object(params.get("value"))
        if kind == "partial":
            self._show_partial(value)
        elif kind == "work" and isinstance(message := value.get("message"), str):
            self.screen.status(message + "…")  # a wait under way (a countdown ticks in place)

    def _show_partial(self, value: JsonObject) -> None:
        if isinstance(thought := value.get("thought"), str):
            self.screen.thought(thought)
        if isinstance(text := value.get("text"), str):
            self.screen.text(text)
        if tool := as_object(value.get("tool")):
            self._remember("tools", str(tool.get("summary") or tool.get("name") or "?"))
            self.screen.note(f"{TOOL_MARK} {tool.get('summary') or tool.get('name')}")
        if compacted := as_object(value.get("compacted")):
            self._remember("compacted", "yes")
            self.screen.note(compacted_line(_int(compacted.get("turns"))))
        if image := as_object(value.get("image")):
            self._remember("images", str(image.get("path") or ""))
            self.screen.note(f"image saved: {image.get('path')}", dim=False)
        if upload := as_object(value.get("upload")):
            self.screen.status(upload_line(upload))
        if redacted := as_list(value.get("redacted")):
            self._remember("redacted", "yes")
            self.screen.note(redacted_line(redacted))

    def _remember(self, what: str, item: str) -> None:
        with self._lock:
            self._shown.setdefault(what, []).append(item)

    def ask(self, message: str, attachments: list[JsonObject] | None = None) -> bool:
        """One turn: stream the reply; Ctrl-C cancels it. True when the reply completed."""
        self.stopped = False
        self.screen.begin_reply()
        try:
            client = self.client()
        except KeyboardInterrupt:
            self.screen.end_reply(None)
            self.screen.line(self.screen.style.dim("(stopped)"))
            self.stopped = True
            return False
        msg_id = client.new_id()
        partial, work = f"gc-p-{msg_id}", f"gc-w-{msg_id}"
        with self._lock:
            self._tokens = {partial: "partial", work: "work"}
            self._shown = {}
        self.screen.status("thinking…", transient=True)
        params = self._chat_params(message, attachments or [], partial, work)
        future = self.loop.submit(client.request("gemini/chat", params, msg_id=msg_id))
        try:
            result = as_object(future.result())
        except KeyboardInterrupt:
            return self._stop(client, future, msg_id)
        except RpcError as exc:
            self._failed(client, exc)
            return False
        finally:
            self._drop_tokens()
        self._finish(result)
        return True

    def _chat_params(
        self, message: str, attachments: list[JsonObject], partial: str, work: str
    ) -> JsonObject:
        params: JsonObject = {
            "workspace": self.workspace,
            "message": message,
            "workDoneToken": work,
        }
        if attachments:
            params["attachments"] = list[JsonValue](attachments)
        if self.stream:
            params["partialResultToken"] = partial
        if self.model:
            params["model"] = self.model
        if self.thoughts:
            params["generationConfig"] = {"thinkingConfig": {"includeThoughts": True}}
        return params

    def _failed(self, client: RpcClient, exc: RpcError) -> None:
        self._drop_tokens()
        streamed = self.screen.text_so_far
        self.screen.end_reply(None)
        if exc.code == REQUEST_CANCELLED:
            self.screen.line(self.screen.style.dim("(stopped)"))
            return
        if exc.reason == "blocked":
            self._blocked(exc)
            return
        self.screen.error(f"error: {exc.message}")
        if exc.code == INTERNAL_ERROR:  # "see its log": its log is our pipe, so show the end
            tail = client.stderr_tail().splitlines()[-LOG_TAIL_LINES:]
            self.screen.error("\n".join(["the daemon's log ends with:", *tail]))
        if exc.reason == "modelNotFound" and self.screen.label:
            self.screen.line(self.screen.style.dim("/model lists the models you can use."))
        text = as_object(exc.data).get("text")
        if exc.reason == "storage" and isinstance(text, str) and text:
            self._unsaved(text, streamed)

    def _unsaved(self, text: str, streamed: str) -> None:
        """A finished reply the store could not keep: shown whole (unless it streamed whole
        already), so nothing is lost, and marked as not saved."""
        if text.strip() != streamed.strip():
            self.screen.begin_reply()
            self.screen.show("", text)
            self.screen.end_reply(None)
        note = "(the reply above was not saved: it is not in the history)"
        self.screen.error(note, warn=True)

    def _blocked(self, exc: RpcError) -> None:
        """Gemini's refusal is not a failure of ours: its message names the category and fix."""
        self.screen.error(exc.message, warn=True)
        data = as_object(exc.data)
        categories = [c for c in as_list(data.get("categories")) if isinstance(c, str)]
        if data.get("blockReason") == "SAFETY" and categories:
            settings = [{"category": c, "threshold": "BLOCK_ONLY_HIGH"} for c in categories]
            option = f"--setting 'safetySettings={json.dumps(settings, separators=(',', ':'))}'"
            self.screen.error(f"To relax it for a session: gemini-chat {option}", warn=True)

    def _drop_tokens(self) -> None:
        with self._lock:
            self._tokens = {}

    def _stop(
        self, client: RpcClient, future: concurrent.futures.Future[JsonValue], msg_id: int
    ) -> bool:
        """Cancel the turn, wait briefly for the daemon to confirm, say "(stopped)"."""
        self._drop_tokens()  # no more text after the user said stop
        self.loop.submit(client.cancel(msg_id))
        try:
            result = as_object(future.result(CANCEL_GRACE))
        except (KeyboardInterrupt, RpcError, TimeoutError, concurrent.futures.CancelledError):
            self.screen.end_reply(None)
            self.screen.line(self.screen.style.dim("(stopped)"))
            self.stopped = True
            return False
        # The reply won the race: it is in the history, so show all of it, not what streamed.
        text = result.get("text")
        self.screen.show(self.screen.thoughts, text if isinstance(text, str) else "")
        self.screen.end_reply(None)
        usage = usage_line(result).strip()
        self.screen.line(
            self.screen.style.dim(f"(stopped; the reply had already finished: {usage})")
        )
        return True

    def _finish(self, result: JsonObject) -> None:
        """Show what progress did not: all of it without streaming, else what went missing."""
        with self._lock:
            shown = {k: list(v) for k, v in self._shown.items()}
        if (compacted := as_object(result.get("compacted"))) and "compacted" not in shown:
            self.screen.note(compacted_line(_int(compacted.get("turns"))))
        if (redacted := as_list(result.get("redacted"))) and "redacted" not in shown:
            self.screen.note(redacted_line(redacted))
        calls = [as_object(c) for c in as_list(result.get("toolCalls"))]
        for call in calls[len(shown.get("tools", [])) :]:
            self.screen.note(f"{TOOL_MARK} {call.get('summary') or call.get('name')}")
        text = result.get("text")
        thoughts = result.get("thoughts")
        if not self.screen.started or not self.stream:
            self.screen.show(
                thoughts if isinstance(thoughts, str) else "", text if isinstance(text, str) else ""
            )
        for image in (as_object(i) for i in as_list(result.get("images"))):
            if str(image.get("path") or "") not in shown.get("images", []):
                self.screen.note(f"image saved: {image.get('path')}", dim=False)
        self.screen.end_reply(usage_line(result))


def redacted_line(items: list[JsonValue]) -> str:
    """`2 secrets masked before sending (aws-access-key in message, jwt in attachments.0)`."""
    found = [as_object(i) for i in items]
    what = ", ".join(f"{i.get('kind')} in {i.get('where')}" for i in found)
    noun = "secret" if len(found) == 1 else "secrets"
    return f"{len(found)} {noun} masked before sending ({what})"


def upload_line(upload: JsonObject) -> str:
    """`uploading clip.mp4: 12.5 of 48.0 MB…` (a file too big to go inline), `processing …`."""
    name = upload.get("name")
    if upload.get("state") == "processing":
        return f"processing {name} (Gemini prepares the upload)…"
    sent, total = _int(upload.get("sent")), _int(upload.get("total"))
    return f"uploading {name}: {sent / 1e6:.1f} of {total / 1e6:.1f} MB…"


def _int(value: JsonValue) -> int:
    return value if isinstance(value, int) else 0
