"""The core without processes or sockets: a scripted Gemini service on httpx's MockTransport,
the real GeminiClient, a real ConversationStore and real Settings around a ChatService.

Only the Gemini service is fake. Its replies are real wire JSON (the published examples, or
responses built here in the same shape).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat import handlers
from gemini_chat.chat import ChatService
from gemini_chat.gemini.client import RetryNotice
from gemini_chat.imagegen import ImageService
from gemini_chat.library import Library
from gemini_chat.models import Models
from gemini_chat.protocol import Json
from gemini_chat.ratelimit import RateLimits
from gemini_chat.settings import Settings
from gemini_chat.store import ConversationStore
from gemini_chat.turn import Turn, TurnEvents
from gemini_chat.workspaces import Workspace, Workspaces

from .gemini_fakes import BASE, EXAMPLES, MODELS_JSON, Harness

KEY = "core-test-key-3b8d2e"
MODEL = "gemini-2.5-flash"
AWS_KEY = "AKIA" + "Q7ZK4M2XR9TB3WNP"
"""A realistic AWS access key id (made up; split so that scanners do not flag this file)."""

APP = "def add(a, b):\n    return a + b\n"
"""src/app.py of a folder the model reads from (`with_app`)."""

Reply = httpx.Response | Exception | Callable[[httpx.Request], Awaitable[httpx.Response]]


def response(*parts: Json, finish: str | None = "STOP", usage: Json | None = None) -> Json:
    """A GenerateContentResponse (or stream chunk) of one candidate with these parts."""
    candidate: Json = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: Json = {"candidates": [candidate], "modelVersion": MODEL}
    if usage:
        body["usageMetadata"] = usage
    return body


def usage(prompt: int, reply: int, thoughts: int = 0) -> Json:
    """usageMetadata as Gemini reports it."""
    total = prompt + reply + thoughts
    meta: Json = {"promptTokenCount": prompt, "candidatesTokenCount": reply}
    if thoughts:
        meta["thoughtsTokenCount"] = thoughts
    return meta | {"totalTokenCount": total}


def function_call(
    name: str, args: Json, call_id: str | None = None, signature: str | None = None
) -> Json:
    """A functionCall part."""
    fc: Json = {"name": name, "args": args}
    if call_id:
        fc["id"] = call_id
    part: Json = {"functionCall": fc}
    if signature:
        part["thoughtSignature"] = signature
    return part


def ok(body: Json) -> httpx.Response:
    """A 200 JSON reply."""
    return httpx.Response(200, json=body)


def text(reply_text: str, **kw: Any) -> httpx.Response:
    """A 200 reply of one text part."""
    return ok(response({"text": reply_text}, **kw))


def sse(*chunks: Json | str) -> httpx.Response:
    """A text/event-stream reply of these chunks (dicts, or JSON text as Gemini sent it)."""
    lines = [c if isinstance(c, str) else json.dumps(c) for c in chunks]
    body = "".join(f"data: {line}\r\n\r\n" for line in lines).encode()
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def error(code: int, status: str, message: str) -> httpx.Response:
    """A Gemini error reply."""
    return httpx.Response(
        code, json={"error": {"code": code, "message": message, "status": status}}
    )


def published_chunks() -> list[str]:
    """The two published stream chunks of gemini-2.5-flash, each the exact line Gemini sent."""
    lines = (EXAMPLES / "stream-sse-chunks-gemini-2.5-flash.json").read_text().splitlines()
    return [line.rstrip(",") for line in lines if line.startswith("{")]


class Gate:
    """A reply held until the test releases it; `arrived` is set when the request came."""

    def __init__(self, reply: httpx.Response, before: Callable[[], None] | None = None) -> None:
        self.reply = reply
        self.before = before
        self.arrived = asyncio.Event()
        self.released = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.arrived.set()
        await self.released.wait()
        if self.before is not None:
            self.before()
        return self.reply


def then(effect: Callable[[], None], reply: httpx.Response) -> Reply:
    """A reply sent after `effect` ran (e.g. another daemon writing the store meanwhile)."""

    async def answer(request: httpx.Request) -> httpx.Response:
        effect()
        return reply

    return answer


class Gemini:
    """A scripted Gemini service: generate calls answered in order, model metadata on GET.

    Records every request; counts generate calls in flight at once per workspace message.
    """

    def __init__(self) -> None:
        self.generate: list[Reply] = []
        self.model_info: Json | httpx.Response = {"name": f"models/{MODEL}"}
        self.models_list: Reply | None = None
        """models.list's answer; None: the recorded list the emulator ships."""
        self.token_count = 0
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.most_in_flight = 0

    def script(self, *replies: Reply) -> None:
        """Answer the next generate calls (plain or streamed) with these, in order."""
        self.generate.extend(replies)

    @property
    def generated(self) -> list[httpx.Request]:
        """The generate calls (plain or streamed), in order."""
        return [r for r in self.requests if _is_generate(r)]

    @property
    def bodies(self) -> list[Json]:
        """The JSON bodies of the generate calls, in order."""
        return [json.loads(r.content) for r in self.generated]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "GET" and path.endswith("/models"):
            listed = self.models_list
            if isinstance(listed, httpx.Response):
                return listed
            if listed is not None and not isinstance(listed, Exception):
                return await listed(request)
            return httpx.Response(200, content=MODELS_JSON.read_bytes())
        if request.method == "GET":
            info = self.model_info
            return info if isinstance(info, httpx.Response) else ok(info)
        if path.endswith(":countTokens"):
            return ok({"totalTokens": self.token_count})
        if not self.generate:
            raise AssertionError(f"unscripted request {request.method} {request.url}")
        reply = self.generate.pop(0)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if isinstance(reply, Exception):
                raise reply
            return reply if isinstance(reply, httpx.Response) else await reply(request)
        finally:
            self.in_flight -= 1


def _is_generate(request: httpx.Request) -> bool:
    return request.method == "POST" and "enerateContent" in request.url.path


def contents_text(body: Json) -> list[str]:
    """Each content of a request body as `role: text of its text parts`."""
    out: list[str] = []
    for c in body["contents"]:  # type: ignore[union-attr]
        texts = [p["text"] for p in c["parts"] if "text" in p]
        out.append(f"{c['role']}: {''.join(texts)}")
    return out


class Events(TurnEvents):
    """Records what a turn tells its client."""

    def __init__(self, streaming: bool = False) -> None:
        self.streaming = streaming
        self.models: list[str] = []
        self.values: list[Json] = []
        self.notices: list[RetryNotice] = []
        self.began = asyncio.Event()

    async def begin(self, model: str) -> None:
        self.models.append(model)
        self.began.set()

    async def progress(self, value: Json) -> None:
        # Kept as sent: the daemon serialises each value at once; later changes are not seen.
        self.values.append(json.loads(json.dumps(value)))

    async def retry(self, notice: RetryNotice) -> None:
        self.notices.append(notice)

    def of(self, kind: str) -> list[object]:
        """The progress values of one kind ("text", "tool", ...), in order."""
        return [v[kind] for v in self.values if kind in v]


def workspace(root: Path) -> Workspace:
    """The workspace of a folder, as the daemon keys it."""
    root.mkdir(parents=True, exist_ok=True)
    resolved = root.resolve()
    return Workspace(str(resolved), resolved.as_uri())


class Rig:
    """A ChatService over the scripted Gemini, with a store and settings in `tmp`."""

    def __init__(self, tmp: Path, **settings: Any) -> None:
        self.gemini = Gemini()
        self.harness = Harness(self.gemini)
        self.settings = Settings(
            api_key=KEY, base_url=BASE, data_dir=tmp / "data", max_retries=0, **settings
        )
        self.store = ConversationStore(tmp / "data")
        self.service = ChatService(self.harness.client, lambda: self.settings, lambda: self.store)
        self.models = Models(self.harness.client, lambda: self.settings)
        self.ws = workspace(tmp / "project")

    def configure(self, **changes: Any) -> None:
        """Change settings (validated); the next turn reads them."""
        values = self.settings.model_dump() | changes
        self.settings = Settings.model_validate(values)

    async def turn(self, message: str, events: Events | None = None, **kw: Any) -> Json:
        """Run one turn in the rig's workspace."""
        return await self.service.chat(Turn(self.ws, message, **kw), events or Events())

    def stored(self, ws: Workspace | None = None) -> list[tuple[str, str]]:
        """The stored entries as (role, text of their text parts)."""
        entries = self.store.history((ws or self.ws).key)
        return [
            (e.role, "".join(str(p.get("text", "")) for p in _parts(e.content))) for e in entries
        ]

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.harness.client.aclose()
        self.store.close()


def with_app(rig: Rig) -> Rig:
    """`rig` with src/app.py (APP) in its folder."""
    (rig.ws.root / "src").mkdir()
    (rig.ws.root / "src" / "app.py").write_text(APP)
    return rig


def _parts(content: Json) -> list[Json]:
    parts = content.get("parts")
    return parts if isinstance(parts, list) else []  # type: ignore[return-value]


class FakeCore:
    """What the handlers use of the core: the rig's chat service, models, library, image
    service and settings."""

    def __init__(self, rig: Rig) -> None:
        self.chat = rig.service
        self.models = rig.models
        self.limits = RateLimits()
        self.library = Library(rig.service)
        self.images = ImageService(
            rig.harness.client, rig.service, rig.models, lambda: rig.settings
        )
        self._rig = rig

    @property
    def settings(self) -> FakeCore:
        """Stands in for the settings manager: `current` is the rig's settings."""
        return self

    @property
    def current(self) -> Settings:
        """The settings in effect."""
        return self._rig.settings


class FakeDaemon:
    """The JSON-RPC edge as the handlers see it; records what they send the client."""

    def __init__(self, rig: Rig) -> None:
        self.core = FakeCore(rig)
        self.workspaces = Workspaces()
        self.workspaces.set_folders([rig.ws.uri])
        self.texts: dict[str, str] = {}
        self.sent: list[tuple[str, object, object]] = []

    def open_text(self, uri: str) -> str | None:
        return self.texts.get(uri)

    def send_progress(self, token: int | str, value: Json) -> None:
        self.sent.append(("progress", token, json.loads(json.dumps(value))))

    def work_begin(self, token: int | str, title: str) -> None:
        self.sent.append(("begin", token, title))

    def work_report(self, token: int | str, message: str) -> None:
        self.sent.append(("report", token, message))

    def work_end(self, token: int | str) -> None:
        self.sent.append(("end", token, None))


async def call(daemon: FakeDaemon, method: str, params: object) -> dict[str, object]:
    """Run a method's handler as the server does; its result (every gemini/* answers an object)."""
    result = await handlers.HANDLERS[method](daemon, params)
    assert isinstance(result, dict), f"{method} answered {result!r}, not an object"
    return result  # type: ignore[return-value]


async def refused(daemon: FakeDaemon, method: str, params: object) -> JsonRpcException:
    """The JSON-RPC error a method's handler ends with."""
    with pytest.raises(JsonRpcException) as info:
        await handlers.HANDLERS[method](daemon, params)
    return info.value


def full_disk(db_path: Path, event: str) -> None:
    """From another connection, make every `event` ("INSERT ON entries", "UPDATE ON journal")
    in the store at `db_path` fail as it does on a full disk."""
    db = sqlite3.connect(db_path)
    db.execute(
        f"CREATE TRIGGER full_disk BEFORE {event} "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    db.commit()
    db.close()


def moment() -> float:
    """Now, returned once the clock has moved past it: rows written after this are later."""
    now = time.time()
    while time.time() == now:
        pass
    return now


def staged(question: str, answer: str, **reply_meta: Any) -> list[tuple[str, Json, Json]]:
    """One exchange as the chat service commits it: the user and model contents, with what
    history shows of each (`reply_meta` adds to the model's, e.g. images or usage)."""
    user: Json = {"role": "user", "parts": [{"text": question}]}
    model: Json = {"role": "model", "parts": [{"text": answer}]}
    return [
        ("user", user, {"text": question, "attachments": []}),
        ("model", model, {"text": answer, **reply_meta}),
    ]


class Sink:
    """A LiveSink recording the watcher's notifications as (method, params), in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Json]] = []

    def conversation_changed(self, params: Json) -> None:
        self.sent.append(("conversationChanged", params))

    def turn_progress(self, params: Json) -> None:
        self.sent.append(("turnProgress", params))

    def take(self) -> list[tuple[str, Json]]:
        """What was sent since the last take."""
        sent, self.sent = self.sent, []
        return sent
