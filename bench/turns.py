"""One non-streamed turn three ways over a growing history: daemon, direct httpx (floor), SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import cast

import httpx
from google import genai
from google.genai import types
from google.genai.chats import AsyncChat

from gemini_chat.emulator import Emulator
from gemini_chat.terminal.rpc import JsonObject, RpcClient

from .common import BENCH_KEY, MODEL, Metric, Section, at_most, running_daemon, stats_ms

ADDED_GOAL_MS = 0.8
SDK_RATIO_GOAL = 15


def _message(i: int) -> str:
    return f"Question {i + 1}: how many paws do {i + 2} dogs and one cat have in total?"


class DirectChat:
    """The floor: the daemon's request body rebuilt by hand and posted with plain httpx."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient()
        self.url = f"{base_url}/v1beta/models/{MODEL}:generateContent"
        self.headers = {"x-goog-api-key": BENCH_KEY, "content-type": "application/json"}
        self.history: list[JsonObject] = []
        self.last_body: JsonObject = {}
        # Everything but `contents`, as the daemon sends it (system instruction, tools, config):
        # taken from the daemon's first request, so the floor follows the daemon's settings.
        self.template: JsonObject = {}

    async def send(self, message: str) -> str:
        """One turn: the whole history plus the new user content, as the daemon sends it."""
        user: JsonObject = {"role": "user", "parts": [{"text": message}]}
        body: JsonObject = {"contents": [*self.history, user], **self.template}
        content = json.dumps(body).encode()
        response = await self.http.post(self.url, content=content, headers=self.headers)
        response.raise_for_status()
        reply = json.loads(response.content)["candidates"][0]["content"]
        self.history += [user, reply]
        self.last_body = body
        return "".join(p.get("text", "") for p in reply["parts"])


def _sdk_chat(base_url: str, template: JsonObject) -> tuple[genai.Client, AsyncChat]:
    """The SDK's chat, configured like the daemon's requests (system instruction, tools)."""
    options = types.HttpOptions(base_url=base_url, api_version="v1beta")
    client = genai.Client(api_key=BENCH_KEY, http_options=options)
    config = types.GenerateContentConfig.model_validate(
        {
            "systemInstruction": template.get("systemInstruction"),
            "tools": template.get("tools"),
            "safetySettings": template.get("safetySettings"),
        }
    )
    return client, client.aio.chats.create(model=MODEL, config=config)


async def _timed(call: Awaitable[object]) -> float:
    start = time.perf_counter()
    await call
    return time.perf_counter() - start


async def measure(emu: Emulator, tmp: Path, turns: int) -> Section:
    """Interleave the three paths turn by turn, so load drift hits them alike."""
    folder = tmp / "turns-ws"
    folder.mkdir()
    direct = DirectChat(emu.url)
    sdk: tuple[genai.Client, AsyncChat] | None = None  # keep the client: it owns the HTTP pool
    times: dict[str, list[float]] = {"daemon": [], "direct": [], "sdk": []}
    daemon_body: JsonObject = {}
    async with running_daemon(emu.url, tmp / "turns-data", [folder]) as client:
        for i in range(turns):
            msg = _message(i)
            times["daemon"].append(await _timed(_daemon_turn(client, folder, msg)))
            daemon_body = _as_object(emu.requests(":generateContent")[-1].body)
            if sdk is None:
                direct.template = {k: v for k, v in daemon_body.items() if k != "contents"}
                sdk = _sdk_chat(emu.url, direct.template)
            times["direct"].append(await _timed(direct.send(msg)))
            times["sdk"].append(await _timed(sdk[1].send_message(msg)))  # pyright: ignore[reportUnknownMemberType]
        # The transport alone: a request the daemon answers without upstream or store.
        rtt = [await _timed(client.request("gemini/status", {})) for _ in range(turns)]
    await direct.http.aclose()
    same_body = daemon_body == direct.last_body
    return _section(times, turns, same_body, rtt)


def _as_object(body: object) -> JsonObject:
    if not isinstance(body, dict):
        raise RuntimeError("the daemon sent a request body that is not a JSON object")
    return cast("JsonObject", body)


async def _daemon_turn(client: RpcClient, folder: Path, message: str) -> None:
    await client.request("gemini/chat", {"workspace": folder.as_uri(), "message": message})


def _section(
    times: dict[str, list[float]], turns: int, same_body: bool, rtt: list[float]
) -> Section:
    d, f, s = (stats_ms(times[k]) for k in ("daemon", "direct", "sdk"))
    r = stats_ms(rtt)
    added = stats_ms([a - b for a, b in zip(times["daemon"], times["direct"], strict=True)])
    tail = max(1, turns // 10)
    tail_d = stats_ms(times["daemon"][-tail:])
    tail_s = stats_ms(times["sdk"][-tail:])
    ratio_all = s.p50 / d.p50
    ratio_tail = tail_s.p50 / tail_d.p50
    note = "" if same_body else "bodies differ: the floor is not the daemon's request"
    metrics = [
        Metric("turn_daemon", f"turn via daemon ({turns} turns)", d.p50, "ms", d.p90),
        Metric("turn_direct", "same request, direct httpx (floor)", f.p50, "ms", f.p90),
        Metric("turn_sdk", "google-genai aio chats (peer)", s.p50, "ms", s.p90),
        Metric(
            "turn_added",
            "daemon added over floor (per-turn diff)",
            added.p50,
            "ms",
            added.p90,
            f"<= {ADDED_GOAL_MS:g} ms",
            at_most(added.p50, ADDED_GOAL_MS),
            note,
        ),
        Metric("rpc_rtt", "  of which JSON-RPC round trip (status)", r.p50, "ms", r.p90),
        Metric(
            "turn_sdk_ratio",
            f"SDK / daemon, last {tail} turns",
            ratio_tail,
            "x",
            None,
            f">= {SDK_RATIO_GOAL:g}x",
            ratio_tail >= SDK_RATIO_GOAL,
            f"all turns: {ratio_all:.2f}x",
        ),
    ]
    details: dict[str, object] = {
        "turns": turns,
        "same_body_as_daemon": same_body,
        "samples_s": times,
        "rpc_rtt_s": rtt,
        "tail": {"n": tail, "daemon_ms": tail_d.p50, "sdk_ms": tail_s.p50},
    }
    return Section("turns", metrics, details)
