"""One non-streamed turn three ways over a growing history: daemon, direct httpx (floor), SDK.

The daemon and the floor run turn by turn in one pass (the added time); the SDK runs in a pass
of its own; a third pass interleaves all three, as the bench did until 2026-11-30; a fourth runs
the daemon and the floor with the caches flushed before each call (see `measure`)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast

import httpx
from google import genai
from google.genai import types
from google.genai.chats import AsyncChat

from gemini_chat.emulator import Emulator
from gemini_chat.terminal.rpc import JsonObject, RpcClient

from .common import BENCH_KEY, MODEL, Metric, Section, Stats, at_most, running_daemon, stats_ms

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


FLUSH_SECONDS = 0.05
FLUSHER = f"""
import sys, time
buf = bytearray(32 << 20)
while sys.stdin.buffer.read(1):
    end, i = time.perf_counter() + {FLUSH_SECONDS}, 0
    while time.perf_counter() < end:
        for j in range(i, len(buf), 4096):
            buf[j] = (buf[j] + 1) & 255
        i = (i + 64) % 4096
    sys.stdout.buffer.write(b"x")
    sys.stdout.buffer.flush()
"""
"""Another process's work between two calls, like the SDK's turn (about 50 ms of CPU) but in
neither path's process: it writes over 32 MB, so both paths then run out of cold caches."""


class Flusher:
    """A process that runs FLUSHER's work each time it is asked, and says when it is done."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls) -> Flusher:
        """The flushing process, waiting to be asked."""
        pipe = asyncio.subprocess.PIPE
        return cls(
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", FLUSHER, stdin=pipe, stdout=pipe
            )
        )

    async def flush(self) -> None:
        """Run the work once and wait for it."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"x")
        await self.proc.stdin.drain()
        await self.proc.stdout.readexactly(1)

    async def close(self) -> None:
        """End the process."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        await self.proc.wait()


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
    """Three passes over the same messages, each a fresh conversation of `turns` turns:

    1. *paired*: the daemon then the floor, turn by turn, so drift in load hits both alike
       and every call follows a call of the other path (alternating the order made a daemon
       turn after its own warm and one after two floor calls cold: two populations whose
       median swung between runs); the added time and the daemon's side of the SDK ratio
       come from here;
    2. *SDK*: google-genai's chat alone;
    3. *interleaved*: all three turn by turn (daemon, floor, SDK), as the bench measured
       until 2026-11-30: the daemon's turn then follows the SDK's ~56 ms of CPU on the same
       two cores, and, being another process, runs out of cold caches while the floor shares
       the SDK's warm process. Reported for comparison, without a target;
    4. *cold*: the daemon then the floor, each call after another process's 50 ms of work
       over 32 MB (`Flusher`), so both run out of cold caches, as a daemon does when a
       question comes after a while in the editor. Without a target.
    """
    folder = tmp / "turns-ws"
    folder.mkdir()
    async with running_daemon(emu.url, tmp / "turns-data", [folder]) as client:
        template = await _template(client, emu, folder)
        paired = await _pass(client, folder, emu, template, turns, ("daemon", "direct"))
        sdk = await _pass(client, folder, emu, template, turns, ("sdk",))
        mixed = await _pass(client, folder, emu, template, turns, ("daemon", "direct", "sdk"))
        flusher = await Flusher.start()
        try:
            cold = await _pass(client, folder, emu, template, turns, ("daemon", "direct"), flusher)
        finally:
            await flusher.close()
        # The transport alone: a request the daemon answers without upstream or store.
        rtt = [await _timed(client.request("gemini/status", {})) for _ in range(turns)]
    return _section(paired, sdk, mixed, cold, turns, rtt)


class Pass:
    """One pass's samples (seconds) by path, and whether the floor sent the daemon's body."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {"daemon": [], "direct": [], "sdk": []}
        self.same_body = True


async def _template(client: RpcClient, emu: Emulator, folder: Path) -> JsonObject:
    """Everything but `contents` of the daemon's request (system instruction, tools, config),
    from one turn; the conversation is reset after it."""
    await _daemon_turn(client, folder, "Which settings does the daemon send?")
    body = _as_object(emu.requests(":generateContent")[-1].body)
    await client.request("gemini/reset", {"workspace": folder.as_uri()})
    return {k: v for k, v in body.items() if k != "contents"}


async def _pass(
    client: RpcClient,
    folder: Path,
    emu: Emulator,
    template: JsonObject,
    turns: int,
    paths: tuple[str, ...],
    flusher: Flusher | None = None,
) -> Pass:
    """`turns` turns of each path in `paths`, interleaved turn by turn in that order, each
    path its own conversation from the first message; with `flusher`, each call after its
    work (not timed)."""
    result = Pass()
    direct = DirectChat(emu.url)
    direct.template = template
    sdk = _sdk_chat(emu.url, template)  # keep the client: it owns the HTTP pool
    daemon_body: JsonObject = {}
    calls: dict[str, Callable[[str], Awaitable[object]]] = {
        "daemon": lambda msg: _daemon_turn(client, folder, msg),
        "direct": direct.send,
        "sdk": sdk[1].send_message,  # pyright: ignore[reportUnknownMemberType]
    }
    try:
        for i in range(turns):
            msg = _message(i)
            for path in paths:
                if flusher is not None:
                    await flusher.flush()
                result.times[path].append(await _timed(calls[path](msg)))
                if path == "daemon" and i == turns - 1:
                    daemon_body = _as_object(emu.requests(":generateContent")[-1].body)
    finally:
        await direct.http.aclose()
    if "daemon" in paths:
        await client.request("gemini/reset", {"workspace": folder.as_uri()})
        result.same_body = daemon_body == direct.last_body
    return result


def _as_object(body: object) -> JsonObject:
    if not isinstance(body, dict):
        raise RuntimeError("the daemon sent a request body that is not a JSON object")
    return cast("JsonObject", body)


async def _daemon_turn(client: RpcClient, folder: Path, message: str) -> None:
    await client.request("gemini/chat", {"workspace": folder.as_uri(), "message": message})


def _section(
    paired: Pass, sdk: Pass, mixed: Pass, cold: Pass, turns: int, rtt: list[float]
) -> Section:
    d, f, s = (
        stats_ms(t) for t in (paired.times["daemon"], paired.times["direct"], sdk.times["sdk"])
    )
    r = stats_ms(rtt)
    added = _added(paired)
    tail = max(1, turns // 10)
    tail_d = stats_ms(paired.times["daemon"][-tail:])
    tail_s = stats_ms(sdk.times["sdk"][-tail:])
    ratio_tail = tail_s.p50 / tail_d.p50
    ratio_all = s.p50 / d.p50
    mixed_added = _added(mixed)
    cold_added = _added(cold)
    cold_d, cold_f = stats_ms(cold.times["daemon"]), stats_ms(cold.times["direct"])
    mixed_ratio = (
        stats_ms(mixed.times["sdk"][-tail:]).p50 / stats_ms(mixed.times["daemon"][-tail:]).p50
    )
    note = "" if paired.same_body else "bodies differ: the floor is not the daemon's request"
    metrics = [
        Metric("turn_daemon", f"turn via daemon ({turns} turns)", d.p50, "ms", d.p90),
        Metric("turn_direct", "same request, direct httpx (floor)", f.p50, "ms", f.p90),
        Metric("turn_sdk", "google-genai aio chats (peer, own pass)", s.p50, "ms", s.p90),
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
        Metric(
            "turn_added_interleaved",
            "  added, SDK turns interleaved (daemon cold)",
            mixed_added.p50,
            "ms",
            mixed_added.p90,
            "",
            None,
            f"SDK / daemon {mixed_ratio:.1f}x; the method until 2026-11-30",
        ),
        Metric(
            "turn_added_cold",
            "  added, both cold (caches flushed before each call)",
            cold_added.p50,
            "ms",
            cold_added.p90,
            "",
            None,
            f"daemon {cold_d.p50:.3f}, floor {cold_f.p50:.3f} ms",
        ),
    ]
    details: dict[str, object] = {
        "turns": turns,
        "same_body_as_daemon": paired.same_body,
        "samples_s": paired.times | {"sdk": sdk.times["sdk"]},
        "interleaved_samples_s": mixed.times,
        "cold_samples_s": {k: v for k, v in cold.times.items() if v},
        "rpc_rtt_s": rtt,
        "tail": {"n": tail, "daemon_ms": tail_d.p50, "sdk_ms": tail_s.p50},
    }
    return Section("turns", metrics, details)


def _added(p: Pass) -> Stats:
    """Daemon minus floor, turn by turn (the same history length)."""
    return stats_ms([a - b for a, b in zip(p.times["daemon"], p.times["direct"], strict=True)])
