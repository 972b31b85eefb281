"""The terminal client's session: one daemon, one workspace, the turns and commands on it."""

from __future__ import annotations

import concurrent.futures
import json
import threading
from collections.abc import Coroutine
from pathlib import Path

from .rpc import (
    INTERNAL_ERROR,
    REQUEST_CANCELLED,
    JsonObject,
    JsonValue,
    LoopThread,
    RpcClient,
    RpcError,
    as_object,
)
from .screen import Screen, compacted_line, usage_line

CANCEL_GRACE = 5.0
LOG_TAIL_LINES = 12
FORGET = ("default", "-")  # `/model default` forgets the folder's choice
TOOL_MARK = "↳"
SHOW_MESSAGE_TYPES = {1: "error", 2: "warning", 3: "info", 4: "log"}


class Session:
    """The commands the REPL and one-shot mode share; the daemon may still be starting."""

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

    # --- a turn -------------------------------------------------------------------------------

    def _on_progress(self, params: JsonObject) -> None:
        token = params.get("token")
        with self._lock:
            kind = self._tokens.get(token) if isinstance(token, str) else None
        value = as_object(params.get("value"))
        if kind == "partial":
            self._show_partial(value)
        elif kind == "work" and isinstance(message := value.get("message"), str):
            self.screen.status(message)

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

    def _remember(self, what: str, item: str) -> None:
        with self._lock:
            self._shown.setdefault(what, []).append(item)

    def ask(self, message: str) -> bool:
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
        params = self._chat_params(message, partial, work)
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

    def _chat_params(self, message: str, partial: str, work: str) -> JsonObject:
        params: JsonObject = {
            "workspace": self.workspace,
            "message": message,
            "workDoneToken": work,
        }
        if self.stream:
            params["partialResultToken"] = partial
        if self.model:
            params["model"] = self.model
        if self.thoughts:
            params["generationConfig"] = {"thinkingConfig": {"includeThoughts": True}}
        return params

    def _failed(self, client: RpcClient, exc: RpcError) -> None:
        self._drop_tokens()
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

    def _blocked(self, exc: RpcError) -> None:
        """Gemini's refusal is not a failure of ours: its message names the category and fix."""
        self.screen.error(exc.message, warn=True)
        data = as_object(exc.data)
        categories = [c for c in _list(data.get("categories")) if isinstance(c, str)]
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
        note, completed = "(stopped)", False
        try:
            result = as_object(future.result(CANCEL_GRACE))
        except (KeyboardInterrupt, RpcError, TimeoutError, concurrent.futures.CancelledError):
            pass
        else:  # the reply won the race: it is in the history, so say so
            note, completed = (
                f"(stopped; the reply had already finished: {usage_line(result).strip()})",
                True,
            )
        self.screen.end_reply(None)
        self.screen.line(self.screen.style.dim(note))
        self.stopped = not completed
        return completed

    def _finish(self, result: JsonObject) -> None:
        """Show what progress did not: all of it without streaming, else what went missing."""
        with self._lock:
            shown = {k: list(v) for k, v in self._shown.items()}
        if (compacted := as_object(result.get("compacted"))) and "compacted" not in shown:
            self.screen.note(compacted_line(_int(compacted.get("turns"))))
        calls = [as_object(c) for c in _list(result.get("toolCalls"))]
        for call in calls[len(shown.get("tools", [])) :]:
            self.screen.note(f"{TOOL_MARK} {call.get('summary') or call.get('name')}")
        text = result.get("text")
        text = text if isinstance(text, str) else ""
        if not self.screen.started or not self.stream:
            thoughts = result.get("thoughts")
            if isinstance(thoughts, str) and thoughts and not self.screen.started:
                self.screen.thought(thoughts)
            if text:
                self.screen.text(text)
        for image in (as_object(i) for i in _list(result.get("images"))):
            if str(image.get("path") or "") not in shown.get("images", []):
                self.screen.note(f"image saved: {image.get('path')}", dim=False)
        self.screen.end_reply(usage_line(result))

    # --- commands -----------------------------------------------------------------------------

    def history(self) -> None:
        """Print the workspace's conversation."""
        turns = [as_object(t) for t in _list(self._history().get("turns"))]
        if not turns:
            self.screen.line(self.screen.style.dim("(no conversation yet in this workspace)"))
            return
        summary_next = False
        for index, turn in enumerate(turns):
            if turn.get("role") == "user":
                if index:
                    self.screen.line()  # a blank line between exchanges
                summary_next = self._history_user(turn)
            elif summary_next:  # the model's summary of the compacted exchanges
                label = self.screen.style.dim("summary>")
                self.screen.labelled(
                    f"{label} ", len("summary> "), str(turn.get("text") or ""), dim=True
                )
                summary_next = False
            else:
                self._history_model(turn)

    def _history(self) -> JsonObject:
        return self.call("gemini/history", {"workspace": self.workspace})

    def _history_user(self, turn: JsonObject) -> bool:
        """A user turn; True when it is the marker of a compaction (its summary comes next)."""
        style = self.screen.style
        if isinstance(count := turn.get("compacted"), int):
            self.screen.line("  " + style.dim(compacted_line(count)))
            return True
        self.screen.labelled(f"{style.you('you>')} ", len("you> "), str(turn.get("text") or ""))
        names = [str(as_object(a).get("name") or "") for a in _list(turn.get("attachments"))]
        if names := [n for n in names if n]:
            self.screen.line(style.dim(f"  attached: {', '.join(names)}"))
        return False

    def _history_model(self, turn: JsonObject) -> None:
        style = self.screen.style
        for call in (as_object(c) for c in _list(turn.get("toolCalls"))):
            self.screen.line("  " + style.dim(f"{TOOL_MARK} {call.get('summary') or '?'}"))
        label = f"{style.model('gemini>')} "
        thoughts = turn.get("thoughts")
        if isinstance(thoughts, str) and thoughts.strip():
            self.screen.labelled(label, len("gemini> "), thoughts.strip(), dim=True)
            self.screen.wrapped(str(turn.get("text") or ""))
        else:
            self.screen.labelled(label, len("gemini> "), str(turn.get("text") or ""))
        for image in (as_object(i) for i in _list(turn.get("images"))):
            self.screen.line(f"  image saved: {image.get('path')}")
        when = str(turn.get("time") or "")[:19].replace("T", " ")
        usage = usage_line({"model": turn.get("model"), "usage": turn.get("usage")}).strip()
        meta = " · ".join(p for p in (when, usage if turn.get("usage") else "") if p)
        if meta:
            self.screen.line(style.dim(f"  {meta}"))

    def reset(self) -> None:
        """Archive the conversation; the next question starts a fresh one."""
        cleared = self.call("gemini/reset", {"workspace": self.workspace}).get("cleared")
        self.screen.line(
            f"Started a fresh conversation ({cleared} entries archived)."
            if cleared
            else "Started a fresh conversation."
        )

    def set_model(self, name: str) -> None:
        """Remember NAME as this folder's model (every client, every restart); `default` forgets."""
        forget = name in FORGET
        result = self.call(
            "gemini/setModel", {"workspace": self.workspace, "model": None if forget else name}
        )
        model = str(result.get("model") or name)
        overridden, self.model = self.model, None  # the user just chose: no --model over it
        if forget:
            self.screen.line(f"This folder uses the default model again: {model}")
        else:
            self.screen.line(f"Model for this folder: {model}")
            self.screen.line(
                self.screen.style.dim(
                    "  (remembered: other editors and later sessions on this folder use it too)"
                )
            )
        if overridden:
            self.screen.line(self.screen.style.dim(f"  (--model {overridden} no longer applies)"))
        if not forget and not self._listed(model):
            self.screen.error(
                f"{model} is not in this key's model list (/model shows it): "
                "turns may fail with 'model not found'.",
                warn=True,
            )

    def _listed(self, name: str) -> bool:
        """Whether the key's model list names `name` (True when the list cannot be had)."""
        try:
            models = _list(self.call("gemini/models", {}).get("models"))
        except RpcError:
            return True
        return any(as_object(m).get("name") == name.removeprefix("models/") for m in models)

    def models(self) -> None:
        """List the models the key can use; mark the one the next turn uses."""
        result = self.call("gemini/models", {})
        folder = str(self._history().get("model") or result.get("default") or "")
        current = self.model or folder
        style = self.screen.style
        models = [as_object(m) for m in _list(result.get("models"))]
        width = max((len(str(m.get("name") or "")) for m in models), default=0)
        room = (self.screen.wrapper.width or 10_000) - len("*   1,024k in  ")
        for model in models:
            name = str(model.get("name") or "")
            mark = "*" if name == current else " "
            limit = model.get("inputTokenLimit")
            extra = f"{limit // 1024:,}k in" if isinstance(limit, int) else ""
            display = _fit(str(model.get("displayName") or ""), room - width)
            self.screen.line(f"{mark} {name:<{width}}  {style.dim(f'{extra:>9}  {display}')}")
        if self.model and self.model != folder:
            self.screen.line(style.dim(f"* --model {self.model} (this session); folder: {folder}"))
        else:
            self.screen.line(style.dim(f"* this folder's model: {current}"))
        self.screen.line(
            style.dim(
                "Switch with /model NAME (remembered for this folder); /model default forgets."
            )
        )


def _list(value: JsonValue) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def _fit(text: str, room: int) -> str:
    """`text` cut to `room` columns with an ellipsis (nothing if there is no room)."""
    if len(text) <= room:
        return text
    return text[: room - 1] + "…" if room > 1 else ""


def _int(value: JsonValue) -> int:
    return value if isinstance(value, int) else 0
