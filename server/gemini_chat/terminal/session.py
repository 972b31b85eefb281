"""The terminal client's session: one daemon, one workspace, and the turns sent on it."""

from __future__ import annotations

import concurrent.futures
import json
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path

from .imaging import drawing, edits_images, filtered_lines, images
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
from .screen import Screen, compacted_line
from .structured import reply_source, verdict
from .usage import usage_line

CANCEL_GRACE = 5.0
LOG_TAIL_LINES = 12
TOOL_MARK = "↳"
SHOW_MESSAGE_TYPES = {1: "error", 2: "warning", 3: "info", 4: "log"}
Listener = Callable[[str, JsonObject], None]
IMAGE_MODALITIES = ("TEXT", "IMAGE")
HINTS = {  # a dim line after an error of this reason, in the REPL
    "modelNotFound": "/model lists the models you can use.",
    "rateLimited": "/status says which quota ran out and when it lifts.",
    "schema": "The schema file is read again for each question: fix it, or /json off.",
}


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
        self.last: JsonObject = {}  # the last turn's result
        self.folder_model: str | None = None  # the folder's model as last known (None: ask)
        self.ask_for_images = True  # False when the generationConfig setting picks modalities
        self._json: str | None = None  # JSON mode: the schema's name ("": none); None: off
        self._json_chars = 0
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

    def ready(self) -> bool:
        """Whether the daemon has started (a call now would not wait for it)."""
        return self.started is not None and self.started.done()

    def client(self) -> RpcClient:
        """The running daemon's client, waiting for its start; StartError if it failed."""
        assert self.started is not None, "start() first"
        if not self.started.done():
            self.screen.status("starting gemini-chat-server…", transient=True)
        return self.loop.wait(self.started)

    def close(self, timeout: float) -> None:
        """Shut the daemon down (once it has started, if it was starting)."""
        if self.started is None:
            return
        try:
            client = self.loop.wait(self.started, timeout)
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
            if params.get("reason") == "model":
                self.folder_model = None  # someone chose another: ask again when it matters
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
            self._text(text)
        if tool := as_object(value.get("tool")):
            self._remember("tools", str(tool.get("summary") or tool.get("name") or "?"))
            self.screen.note(f"{TOOL_MARK} {tool.get('summary') or tool.get('name')}")
        if compacted := as_object(value.get("compacted")):
            self._remember("compacted", "yes")
            self.screen.note(compacted_line(_int(compacted.get("turns"))))
        if image := as_object(value.get("image")):
            self._remember("images", str(image.get("path") or ""))
            self.screen.image(str(image.get("path") or ""), str(image.get("mimeType") or ""))
        if upload := as_object(value.get("upload")):
            self.screen.status(upload_line(upload))
        if redacted := as_list(value.get("redacted")):
            self._remember("redacted", "yes")
            self.screen.note(redacted_line(redacted))

    def _text(self, piece: str) -> None:
        """A piece of the reply: shown as it comes, except JSON (shown pretty once whole)."""
        if self._json is None:
            self.screen.text(piece)
            return
        with self._lock:
            self._json_chars += len(piece)
            count = self._json_chars
        self.screen.status(f"receiving JSON… {count:,} characters", transient=True)

    def _remember(self, what: str, item: str) -> None:
        with self._lock:
            self._shown.setdefault(what, []).append(item)

    def ask(
        self,
        message: str,
        attachments: list[JsonObject] | None = None,
        *,
        json_mode: JsonObject | None = None,
        schema: str = "",
    ) -> bool:
        """One turn: stream the reply; Ctrl-C cancels it. True when the reply completed.

        `json_mode` (`{}` or `{"schema": ...}`): ask for JSON, shown pretty once whole and
        checked against the schema named `schema`."""
        self._json = None if json_mode is None else schema
        done = self._run(
            "gemini/chat",
            lambda: self._chat_params(message, attachments or [], json_mode),
            "thinking…",
        )
        if done and not self.model and isinstance(model := self.last.get("model"), str):
            self.folder_model = model  # the turn used the folder's model: now it is known
        return done

    def draw(self, prompt: str, options: JsonObject) -> bool:
        """An Imagen request (`gemini/generateImage`): `drawing 2 images…` until the images'
        paths come, as another editor's request shows; True when made."""
        self._json = None
        params: JsonObject = {"workspace": self.workspace, "prompt": prompt, **options}
        return self._run("gemini/generateImage", lambda: params, drawing(options))

    def _run(self, method: str, build: Callable[[], JsonObject], waiting: str) -> bool:
        """Send a turn's request (params built once the daemon is up); show what comes."""
        self.stopped, self.last = False, {}
        self.screen.begin_reply()
        try:
            client = self.client()
            params = build()
        except KeyboardInterrupt:
            self.screen.end_reply(None)
            self.screen.line(self.screen.style.dim("(stopped)"))
            self.stopped = True
            return False
        msg_id = client.new_id()
        partial, work = f"gc-p-{msg_id}", f"gc-w-{msg_id}"
        with self._lock:
            self._tokens = {partial: "partial", work: "work"}
            self._shown, self._json_chars = {}, 0
        params["workDoneToken"] = work
        if self.stream:
            params["partialResultToken"] = partial
        self.screen.status(waiting, transient=True)
        future = self.loop.submit(client.request(method, params, msg_id=msg_id))
        try:
            self.last = as_object(self.loop.wait(future))
        except KeyboardInterrupt:
            return self._stop(client, future, msg_id)
        except RpcError as exc:
            self._failed(client, exc)
            return False
        finally:
            self._drop_tokens()
        self._finish(self.last)
        return True

    def turn_model(self) -> str:
        """The model the next turn uses: --model, else the folder's (asked once, then kept
        up to date); "" when the daemon cannot say."""
        if self.model:
            return self.model
        if self.folder_model is None:
            try:
                history = self.call("gemini/history", {"workspace": self.workspace})
            except RpcError:
                return ""
            self.folder_model = str(history.get("model") or "")
        return self.folder_model

    def _chat_params(
        self, message: str, attachments: list[JsonObject], json_mode: JsonObject | None
    ) -> JsonObject:
        params: JsonObject = {"workspace": self.workspace, "message": message}
        if attachments:
            params["attachments"] = list[JsonValue](attachments)
        if self.model:
            params["model"] = self.model
        config: JsonObject = {}
        if self.thoughts:
            config["thinkingConfig"] = {"includeThoughts": True}
        if json_mode is not None:
            params["json"] = json_mode
        elif self.ask_for_images and edits_images(self.turn_model()):
            config["responseModalities"] = list[JsonValue](IMAGE_MODALITIES)
        if config:
            params["generationConfig"] = config
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
        field = str(as_object(exc.data).get("field") or "")
        hint = HINTS.get("schema" if field.startswith("json.schema") else exc.reason or "")
        if hint and self.screen.label:
            self.screen.line(self.screen.style.dim(hint))
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
            result = as_object(self.loop.wait(future, CANCEL_GRACE))
        except (KeyboardInterrupt, RpcError, TimeoutError, concurrent.futures.CancelledError):
            self.screen.end_reply(None)
            self.screen.line(self.screen.style.dim("(stopped)"))
            self.stopped = True
            return False
        # The reply won the race: it is in the history, so show all of it, not what streamed.
        self.screen.show(self.screen.thoughts, self._reply_text(result))
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
        thoughts = result.get("thoughts")
        thoughts = thoughts if isinstance(thoughts, str) else ""
        if not self.screen.started or not self.stream or self._json is not None:
            self.screen.show(thoughts, self._reply_text(result))
        for path, mime in images(result):
            if path not in shown.get("images", []):
                self.screen.image(path, mime)
        for line in filtered_lines(result):
            self.screen.note(line, warn=True)
        for line, warn in verdict(result, self._json or ""):
            self.screen.note(line, warn=warn)
        self.screen.end_reply(usage_line(result))

    def _reply_text(self, result: JsonObject) -> str:
        """The reply as shown: JSON pretty-printed in JSON mode (on a terminal), else as it came."""
        if self._json is not None:
            return reply_source(result, terminal=self.screen.tty)
        text = result.get("text")
        return text if isinstance(text, str) else ""


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
