"""`$/cancelRequest` to the upstream connection closing (the emulator's "disconnect" event)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from pathlib import Path

from gemini_chat.emulator import Emulator
from gemini_chat.terminal.rpc import REQUEST_CANCELLED, JsonObject, RpcClient, RpcError

from .common import Metric, Section, at_most, running_daemon, stats_ms

WAIT = 10.0  # seconds an event may take before the bench gives up
SLOW = 30.0  # the scripted upstream delay: far longer than any cancel


class FirstDelta:
    """Futures resolved by the first `$/progress` of each partial-result token."""

    def __init__(self, client: RpcClient) -> None:
        self._waiting: dict[str, asyncio.Future[None]] = {}
        client.on_notification("$/progress", self._seen)

    def expect(self, token: str) -> asyncio.Future[None]:
        """A future for `token`'s first delta."""
        future = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        return future

    def _seen(self, params: JsonObject) -> None:
        future = self._waiting.pop(str(params.get("token")), None)
        if future is not None and not future.done():
            future.set_result(None)


async def _wait(awaitable: Awaitable[object]) -> object:
    return await awaitable


async def _one(
    emu: Emulator, client: RpcClient, folder: Path, deltas: FirstDelta | None, n: int
) -> float:
    """One cancelled turn; seconds from sending the cancel to the emulator seeing the close."""
    emu.clear()
    params: JsonObject = {"workspace": folder.as_uri(), "message": "Take your time."}
    if deltas is not None:
        emu.script({"chunks": ["One ", "two ", "three."], "chunkDelay": SLOW})
        params["partialResultToken"] = token = f"cancel-{n}"
        started: asyncio.Future[object] = asyncio.ensure_future(_wait(deltas.expect(token)))
    else:
        emu.script({"delay": SLOW})
        started = asyncio.ensure_future(
            _wait(asyncio.to_thread(emu.wait_for_event, "request", WAIT))
        )
    msg_id = client.new_id()
    call = asyncio.create_task(client.request("gemini/chat", params, msg_id=msg_id))
    await asyncio.wait_for(started, WAIT)
    sent = time.monotonic()
    await client.cancel(msg_id)
    event = await asyncio.to_thread(emu.wait_for_event, "disconnect", WAIT)
    try:
        await call
        code = None
    except RpcError as exc:
        code = exc.code
    if code != REQUEST_CANCELLED:
        raise RuntimeError(f"a cancelled turn answered {code}, not RequestCancelled")
    return float(str(event["time"])) - sent


async def measure(emu: Emulator, tmp: Path, repeats: int) -> Section:
    """Cancel `repeats` turns waiting for the reply and `repeats` turns mid-stream."""
    folder = tmp / "cancel-ws"
    folder.mkdir()
    metrics: list[Metric] = []
    details: dict[str, object] = {}
    async with running_daemon(emu.url, tmp / "cancel-data", [folder]) as client:
        deltas = FirstDelta(client)
        for streamed in (False, True):
            watch = deltas if streamed else None
            samples = [await _one(emu, client, folder, watch, n) for n in range(repeats)]
            s = stats_ms(samples)
            kind = "mid-stream" if streamed else "waiting for the reply"
            key = "cancel_stream" if streamed else "cancel"
            label = f"cancel -> upstream closed ({kind})"
            ok = at_most(s.p50, 100)
            metrics.append(Metric(key, label, s.p50, "ms", s.p90, "<= 100 ms", ok))
            details[key] = samples
    return Section("cancel", metrics, details)
