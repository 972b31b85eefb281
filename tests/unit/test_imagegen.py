"""gemini/generateImage: Imagen draws, and the request and its images become one exchange of the
folder's conversation (journaled while it runs, committed with its feed row, shown in history
and export); the model is chosen and checked against gemini/models."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sqlite3
from pathlib import Path

import httpx
import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat import handlers, protocol
from gemini_chat.db import Database
from gemini_chat.imagegen import ImageRequest
from gemini_chat.store import ConversationStore

from .core_fakes import (
    AWS_KEY,
    Events,
    FakeDaemon,
    Gate,
    Rig,
    call,
    error,
    full_disk,
    ok,
    refused,
    text,
)
from .gemini_fakes import MODELS_JSON

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels-one"
PNG2 = b"\x89PNG\r\n\x1a\n" + b"pixels-two"
IMAGEN = "imagen-4.0-generate-001"


def predictions(*images: bytes, filtered: str | None = None) -> httpx.Response:
    """Imagen's predict answer: one prediction per image, and one filtered out."""
    preds: list[dict[str, str]] = [
        {"bytesBase64Encoded": base64.b64encode(i).decode(), "mimeType": "image/png"}
        for i in images
    ]
    if filtered:
        preds.append({"raiFilteredReason": filtered})
    return ok({"predictions": preds})


async def draw(daemon: FakeDaemon, **params: object) -> dict[str, object]:
    """gemini/generateImage through its handler; the result."""
    return await call(daemon, protocol.GENERATE_IMAGE, params)


async def draw_refused(daemon: FakeDaemon, **params: object) -> JsonRpcException:
    """The JSON-RPC error gemini/generateImage ends with."""
    return await refused(daemon, protocol.GENERATE_IMAGE, params)


async def test_images_are_drawn_saved_and_committed_as_an_exchange(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """Without a model: the first Imagen model listed. The predict call carries the prompt,
    count and aspect ratio; each image is saved under dataDir/images and reported as
    progress; the result and history show the images, usage (2 images, priced) and the
    filtered reason; the stored model turn holds the images as inlineData; the feed has the
    journaled start and the turn."""
    rig.gemini.script(predictions(PNG, PNG2, filtered="Filtered for safety"))
    result = await draw(daemon, prompt="A red fox", numberOfImages=3, aspectRatio="16:9",
                        partialResultToken="p", workDoneToken="w")  # fmt: skip
    (sent,) = [r for r in rig.gemini.requests if r.method == "POST"]
    assert sent.url.path == f"/v1beta/models/{IMAGEN}:predict"
    assert json.loads(sent.read()) == {
        "instances": [{"prompt": "A red fox"}],
        "parameters": {"sampleCount": 3, "aspectRatio": "16:9", "includeRaiReason": True},
    }
    images = result["images"]
    assert isinstance(images, list) and len(images) == 2
    paths = [Path(i["path"]) for i in images]
    assert [p.read_bytes() for p in paths] == [PNG, PNG2]
    assert all(p.parent == rig.settings.data_dir / "images" for p in paths)
    assert [v for kind, _, v in daemon.sent if kind == "progress"] == [{"image": i} for i in images]
    assert daemon.sent[0] == ("begin", "w", f"Gemini ({IMAGEN})")
    assert (result["turn"], result["model"], result["filtered"]) == (
        1, IMAGEN, ["Filtered for safety"],
    )  # fmt: skip
    usage = result["usage"]
    assert isinstance(usage, dict)
    assert (usage["images"], usage["cost"]["reply"]) == (2, 0.08)
    user, model = rig.store.history(rig.ws.key)
    assert user.meta["imagen"] == {"model": IMAGEN, "numberOfImages": 3, "aspectRatio": "16:9"}
    assert user.content == {"role": "user", "parts": [{"text": "A red fox"}]}
    assert [p["inlineData"]["data"] for p in model.content["parts"]] == [  # type: ignore[index]
        base64.b64encode(PNG).decode(), base64.b64encode(PNG2).decode(),
    ]  # fmt: skip
    reasons = [c.reason for c in rig.store.journal.changes_since(0)]
    assert reasons == ["started", "turn"] and rig.store.journal.in_flight(rig.ws.key) == []
    exported = await handlers.HANDLERS[protocol.EXPORT](daemon, {})
    assert f"![{paths[0].name}](<{paths[0]}>)" in exported["markdown"]  # type: ignore[index]
    assert f"_{IMAGEN}: 2 images, $0.080000_" in exported["markdown"]  # type: ignore[index]


async def test_the_image_model_setting_and_an_asked_model_are_used(rig: Rig) -> None:
    """The imageModel setting is used when no model is asked; an asked one wins; neither
    count nor aspect ratio asked: one image, no aspectRatio in the stored request."""
    rig.configure(image_model="imagen-4.0-fast-generate-001")
    rig.gemini.script(predictions(PNG), predictions(PNG2))
    service = FakeDaemon(rig).core.images
    first = await service.generate(ImageRequest(rig.ws, "a fox"), Events())
    second = await service.generate(
        ImageRequest(rig.ws, "an owl", model="imagen-4.0-ultra-generate-001"), Events()
    )
    assert (first["model"], second["model"]) == (
        "imagen-4.0-fast-generate-001", "imagen-4.0-ultra-generate-001",
    )  # fmt: skip
    assert rig.store.history(rig.ws.key)[0].meta["imagen"] == {
        "model": "imagen-4.0-fast-generate-001", "numberOfImages": 1,
    }  # fmt: skip
    assert second["turn"] == 2


@pytest.mark.parametrize(
    ("asked", "setting", "message"),
    [
        ("gemini-2.5-flash", None, "gemini-2.5-flash is not an Imagen model; pick one"),
        (None, "gemini-2.5-pro", "gemini-2.5-pro (the imageModel setting) is not an Imagen"),
        ("imagen-4.0-generte-001", None, "did you mean imagen-4.0-generate-001"),
    ],
)
async def test_a_model_that_is_not_imagen_is_refused_naming_model(
    rig: Rig, daemon: FakeDaemon, asked: str | None, setting: str | None, message: str
) -> None:
    """A Gemini model asked (or set as imageModel), or an unknown name: -32602 on `model`,
    saying why, before anything is drawn or stored."""
    if setting:
        rig.configure(image_model=setting)
    params: dict[str, object] = {"prompt": "a fox"} | ({"model": asked} if asked else {})
    err = await draw_refused(daemon, **params)
    assert (err.code, err.data) == (-32602, {"reason": "invalidParams", "field": "model"})
    assert message in err.message
    assert rig.gemini.generated == [] and rig.stored() == []


async def test_a_key_without_imagen_models_is_told_so(rig: Rig, daemon: FakeDaemon) -> None:
    """A model list without any Imagen model and no model asked: -32602 on `model`."""
    flash = {"name": "models/gemini-2.5-flash", "supportedGenerationMethods": ["generateContent"]}
    rig.gemini.models_list = ok({"models": [flash]})
    err = await draw_refused(daemon, prompt="a fox")
    assert err.data == {"reason": "invalidParams", "field": "model"}
    assert "can use no Imagen model" in err.message


async def test_an_unlisted_name_is_used_when_the_list_cannot_be_had(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """models.list failing: an asked model is used unchecked; with none asked or set, the
    list's failure is the answer (-32803)."""
    rig.gemini.models_list = error(503, "UNAVAILABLE", "overloaded")
    rig.gemini.script(predictions(PNG))
    result = await draw(daemon, prompt="a fox", model="imagen-5-preview")
    assert result["model"] == "imagen-5-preview"
    err = await draw_refused(daemon, prompt="a fox")
    assert err.code == -32803 and err.data["reason"] == "upstreamUnavailable"  # type: ignore[index]


async def test_a_failed_request_leaves_nothing_but_its_failed_row(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """Imagen refusing: -32803, nothing stored, the journal cleared, the feed says failed;
    an empty prompt is -32602 on `prompt` before anything."""
    rig.gemini.script(error(400, "INVALID_ARGUMENT", "Bad aspect"))
    err = await draw_refused(daemon, prompt="a fox", workDoneToken=3)
    assert err.code == -32803 and daemon.sent[-1] == ("end", 3, None)
    assert rig.stored() == [] and rig.store.journal.in_flight(rig.ws.key) == []
    assert [c.reason for c in rig.store.journal.changes_since(0)] == ["started", "failed"]
    empty = await draw_refused(daemon, prompt="  ")
    assert empty.data == {"reason": "invalidParams", "field": "prompt"}


async def test_an_image_request_keeps_its_place_before_a_later_chat_turn(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """The folder's requests are served in the order they arrived: a chat turn sent while an
    earlier image request still looks up its model waits for it, and the image is the
    conversation's first exchange (the place is taken on arrival, before any await)."""
    listing = Gate(httpx.Response(200, content=MODELS_JSON.read_bytes()))
    rig.gemini.models_list = listing
    rig.gemini.script(predictions(PNG), text("Four paws."))
    image = asyncio.create_task(draw(daemon, prompt="a fox"))
    await asyncio.wait_for(listing.arrived.wait(), 5)
    chat = asyncio.create_task(call(daemon, protocol.CHAT, {"message": "How many paws?"}))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not chat.done() and rig.gemini.generated == []
    listing.released.set()
    drawn, answered = await asyncio.wait_for(asyncio.gather(image, chat), 5)
    assert (drawn["turn"], answered["turn"]) == (1, 2)
    assert [text for _, text in rig.stored()][::2] == ["a fox", "How many paws?"]


async def test_an_image_request_in_flight_is_journaled_with_its_parameters(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """While Imagen draws, the journal holds the prompt and the request's parameters (count,
    the model used, aspect ratio), so a daemon that dies here leaves an interrupted turn that
    `gemini/history` offers back as an image request (`interrupted.image`)."""
    gate = Gate(predictions(PNG))
    rig.gemini.script(gate)
    task = asyncio.create_task(draw(daemon, prompt="a fox", numberOfImages=2, aspectRatio="4:3"))
    await asyncio.wait_for(gate.arrived.wait(), 5)
    (live,) = rig.store.journal.in_flight(rig.ws.key)
    assert live.message == "a fox"
    assert live.interrupted()["image"] == {
        "numberOfImages": 2,
        "model": IMAGEN,
        "aspectRatio": "4:3",
    }
    gate.released.set()
    await asyncio.wait_for(task, 5)
    assert rig.store.journal.in_flight(rig.ws.key) == []


async def test_a_cancelled_request_says_cancelled(rig: Rig) -> None:
    """Cancelled while Imagen draws: the feed says cancelled, nothing is stored."""
    gate = Gate(predictions(PNG))
    rig.gemini.script(gate)
    service = FakeDaemon(rig).core.images
    task = asyncio.create_task(service.generate(ImageRequest(rig.ws, "a fox"), Events()))
    await asyncio.wait_for(gate.arrived.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [c.reason for c in rig.store.journal.changes_since(0)] == ["started", "cancelled"]
    assert rig.stored() == []


async def test_a_journal_that_cannot_be_cleared_is_logged(
    rig: Rig, daemon: FakeDaemon, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed request whose journal row cannot be removed: the request's own error is the
    answer; the journal failure is a warning."""
    rig.gemini.script(error(500, "INTERNAL", "boom"))
    full_disk(rig.store.path, "DELETE ON journal")
    with caplog.at_level(logging.WARNING, logger="gemini_chat.imagegen"):
        err = await draw_refused(daemon, prompt="a fox")
    assert err.data["reason"] == "upstreamUnavailable"  # type: ignore[index]
    assert "Could not clear the journal of a failed image request" in caplog.text


async def test_a_secret_in_the_prompt_is_masked_before_it_is_sent(
    rig: Rig, daemon: FakeDaemon
) -> None:
    """An AWS key in the prompt is replaced before the predict call and in history; the
    result and a progress value say what was masked."""
    rig.gemini.script(predictions(PNG))
    result = await draw(daemon, prompt=f"a fox holding {AWS_KEY}", partialResultToken="p")
    body = rig.gemini.requests[-1].read().decode()
    assert AWS_KEY not in body and "[REDACTED:aws-access-key]" in body
    assert result["redacted"] == [{"kind": "aws-access-key", "where": "message"}]
    assert ("progress", "p", {"redacted": result["redacted"]}) in daemon.sent
    assert AWS_KEY not in str(rig.stored())


async def test_a_read_only_store_refuses_before_drawing(
    rig: Rig, daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that cannot be written: -32803 reason storage at once: nothing is asked of
    Gemini (not even the model list) and the work never begins (a drawing that could not be
    kept would be paid for nothing)."""

    def refuse(self: Database) -> sqlite3.Connection:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(Database, "_open", refuse)
    rig.store.close()
    rig.store = ConversationStore(rig.settings.data_dir)
    err = await draw_refused(daemon, prompt="a fox", workDoneToken="w")
    assert err.data == {"reason": "storage"}
    assert rig.gemini.requests == []
    assert "begin" not in [kind for kind, _, _ in daemon.sent]
