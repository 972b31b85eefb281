"""gemini/generateImage through the real daemon against the emulator's Imagen `predict`: the
images saved and recorded as an exchange of the folder's conversation (history, export, live
notifications to another daemon), the model chosen, errors mapped, and the editing loop with a
Gemini image model (the history carries the latest image)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat.emulator import Emulator
from gemini_chat.emulator.imagen import colour, png
from polling import until

from .conftest import StartDaemon
from .daemon import Daemon, error_data

IMAGEN = "imagen-4.0-generate-001"
"""The first Imagen model of the emulator's catalog (gemini/models lists it first of kind image)."""
EDITOR = "gemini-2.5-flash-image"
WITH_IMAGES = {"responseModalities": ["TEXT", "IMAGE"]}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def _refused(d: Daemon, params: dict[str, Any]) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as info:
        await d.request("gemini/generateImage", params)
    return info.value


async def test_images_are_saved_and_recorded_as_an_exchange(
    daemon: Daemon, emulator: Emulator, data_dir: Path
) -> None:
    """Two 16:9 images of a prompt: predict is asked for sampleCount 2, aspectRatio 16:9 and
    the filter reasons; each image is saved under dataDir/images with the emulator's bytes
    (88x48 PNGs of the prompt's colours) and streamed as an {"image"} progress value; the
    result names turn 1, the default Imagen model, the images and their usage (2 images,
    priced per image); history shows the prompt with its imagen marker and the images."""
    prompt = "a lighthouse at dusk"
    result = await daemon.request(
        "gemini/generateImage",
        {"prompt": prompt, "numberOfImages": 2, "aspectRatio": "16:9", "partialResultToken": "p"},
    )
    [request] = emulator.requests(":predict")
    assert request.path == f"/v1beta/models/{IMAGEN}:predict"
    assert request.body == {
        "instances": [{"prompt": prompt}],
        "parameters": {"sampleCount": 2, "aspectRatio": "16:9", "includeRaiReason": True},
    }
    assert (result["workspace"], result["turn"], result["model"]) == (
        daemon.folders[0],
        1,
        IMAGEN,
    )
    images = result["images"]
    assert [i["mimeType"] for i in images] == ["image/png", "image/png"]
    for index, image in enumerate(images):
        path = Path(image["path"])
        assert path.parent == data_dir / "images"
        assert path.read_bytes() == png(88, 48, colour(prompt, index))  # noqa: ASYNC240
    assert daemon.client.progress["p"] == [{"image": i} for i in images]
    assert result["usage"]["images"] == 2
    assert result["usage"]["cost"] == {"reply": 0.08, "conversation": 0.08, "currency": "USD"}
    assert "filtered" not in result
    turns = await daemon.history()
    assert turns[0]["text"] == prompt
    assert turns[0]["imagen"] == {"model": IMAGEN, "numberOfImages": 2, "aspectRatio": "16:9"}
    assert (turns[1]["model"], turns[1]["images"], turns[1]["usage"]) == (
        IMAGEN,
        images,
        result["usage"],
    )


async def test_a_later_gemini_turn_carries_the_images_and_export_shows_them(
    daemon: Daemon, emulator: Emulator
) -> None:
    """The stored exchange is the prompt as a user turn and the images as inlineData parts of
    a model turn: the next gemini/chat sends exactly that before its own message; export has
    the prompt under "## You" and each image as a link with the image count and cost."""
    made = await daemon.request("gemini/generateImage", {"prompt": "a red fox"})
    await daemon.chat("describe it")
    contents = emulator.requests(":generateContent")[-1].body["contents"]  # type: ignore[index]
    data = _b64(png(64, 64, colour("a red fox", 0)))
    assert contents[:2] == [
        {"role": "user", "parts": [{"text": "a red fox"}]},
        {"role": "model", "parts": [{"inlineData": {"mimeType": "image/png", "data": data}}]},
    ]
    markdown = (await daemon.request("gemini/export", {}))["markdown"]
    path = Path(made["images"][0]["path"])
    assert "## You\n\na red fox" in markdown
    assert f"![{path.name}](<{path}>)" in markdown
    assert f"_{IMAGEN}: 1 image, $0.040000_" in markdown


async def test_another_daemon_sees_the_request_live(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """A second daemon on the folder gets turnProgress started (the prompt as the message)
    and finished for turn 1 (with the image), and conversationChanged (reason turn, turn 1);
    the requesting daemon's client gets no turnProgress of its own request."""
    a, b = await daemons(), await daemons()
    emulator.script({"delay": 0.3})
    await a.request("gemini/generateImage", {"prompt": "a quiet harbour"})
    seen = await until(
        lambda: b.mirrored() if [m["state"] for m in b.mirrored()][-1:] == ["finished"] else None,
        "the mirrored image request to finish",
    )
    assert [(m["state"], m["turn"]) for m in seen] == [("started", 1), ("finished", 1)]
    assert seen[0]["message"] == "a quiet harbour"
    assert [i["mimeType"] for i in seen[1]["images"]] == ["image/png"]
    change = await until(lambda: b.changes(), "conversationChanged")
    assert [(c["reason"], c["turn"]) for c in change] == [("turn", 1)]
    assert a.mirrored() == []


async def test_the_image_model_comes_from_params_then_the_setting(
    daemons: StartDaemon, emulator: Emulator
) -> None:
    """The `imageModel` setting replaces the default Imagen model; a request's `model` wins
    over both."""
    d = await daemons(init_options={"imageModel": "imagen-4.0-fast-generate-001"})
    first = await d.request("gemini/generateImage", {"prompt": "a"})
    second = await d.request(
        "gemini/generateImage", {"prompt": "b", "model": "imagen-4.0-ultra-generate-001"}
    )
    paths = [r.path for r in emulator.requests(":predict")]
    assert paths == [
        "/v1beta/models/imagen-4.0-fast-generate-001:predict",
        "/v1beta/models/imagen-4.0-ultra-generate-001:predict",
    ]
    assert (first["usage"]["cost"]["reply"], second["usage"]["cost"]["reply"]) == (0.02, 0.06)
    assert second["usage"]["cost"]["conversation"] == 0.08


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"prompt": "x", "numberOfImages": 5}, "numberOfImages"),
        ({"prompt": "x", "numberOfImages": 0}, "numberOfImages"),
        ({"prompt": "x", "aspectRatio": "2:1"}, "aspectRatio"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x", "model": "gemini-2.5-flash"}, "model"),
        ({"prompt": "x", "model": "imagen-9"}, "model"),
    ],
)
async def test_bad_params_are_refused_before_sending(
    daemon: Daemon, emulator: Emulator, params: dict[str, Any], field: str
) -> None:
    """A count outside 1-4, an aspect ratio Imagen does not take, a blank prompt, a model that
    is not an Imagen model or not listed: -32602 naming the field; predict is never called
    and nothing is stored."""
    err = await _refused(daemon, params)
    assert err.code == -32602
    assert error_data(err)["field"] == field
    assert emulator.requests(":predict") == []
    assert await daemon.history() == []


@pytest.mark.parametrize(
    ("step", "block_reason"),
    [({"imageBlock": "prompt"}, "SAFETY"), ({"imageBlock": "output"}, "IMAGE_SAFETY")],
)
async def test_refusals_are_blocked_and_leave_nothing(
    daemons: StartDaemon, emulator: Emulator, step: dict[str, Any], block_reason: str
) -> None:
    """A prompt Imagen refuses, or every image filtered: -32803 reason blocked with the block
    reason; nothing is stored, the other daemon is told the request failed, no interrupted
    turn is left."""
    a, b = await daemons(), await daemons()
    emulator.script(step)
    err = await _refused(a, {"prompt": "something refused"})
    assert err.code == -32803
    assert error_data(err)["reason"] == "blocked"
    assert error_data(err)["blockReason"] == block_reason
    states = await until(
        lambda: b.mirrored() if len(b.mirrored()) >= 2 else None, "the failed request mirrored"
    )
    assert [s["state"] for s in states] == ["started", "failed"]
    history = await a.request("gemini/history", {})
    assert history["turns"] == [] and "interrupted" not in history


async def test_filtered_images_are_told(daemon: Daemon, emulator: Emulator) -> None:
    """One image of three filtered after drawing: two are saved and priced, the result and the
    stored model turn say why the third is missing."""
    emulator.script({"imagesFiltered": 1})
    result = await daemon.request("gemini/generateImage", {"prompt": "pets", "numberOfImages": 3})
    assert len(result["images"]) == 2
    assert result["usage"]["images"] == 2
    assert len(result["filtered"]) == 1 and "filtered out" in result["filtered"][0]
    assert (await daemon.history())[1]["filtered"] == result["filtered"]


async def test_work_done_progress_names_the_model(daemon: Daemon) -> None:
    """With a workDoneToken the request opens work done progress titled with the Imagen model
    and ends it."""
    await daemon.request("gemini/generateImage", {"prompt": "x", "workDoneToken": "w"})
    kinds = [v["kind"] for v in daemon.client.progress["w"]]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert daemon.client.progress["w"][0]["title"] == f"Gemini ({IMAGEN})"


async def test_editing_an_attached_image_then_the_latest_one(
    daemon: Daemon, emulator: Emulator
) -> None:
    """The editing loop with a Gemini image model: an attached image and "make it blue" go
    upstream with TEXT+IMAGE modalities and the edited image comes back saved; the next turn
    ("now make it round") sends the history with the blue image as the model's inlineData,
    and its own edit comes back as a new file."""
    red, blue, round_blue = (png(8, 8, c) for c in ((255, 0, 0), (0, 0, 255), (0, 0, 254)))
    emulator.script(
        {"reply": "Here it is in blue.", "image": {"mimeType": "image/png", "data": _b64(blue)}},
        {"reply": "Now round.", "image": {"mimeType": "image/png", "data": _b64(round_blue)}},
    )
    attached = {"name": "logo.png", "mimeType": "image/png", "data": _b64(red)}
    first = await daemon.chat(
        "make it blue", attachments=[attached], model=EDITOR, generationConfig=WITH_IMAGES
    )
    body = emulator.requests(":generateContent")[0].body
    assert body["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]  # type: ignore[index]
    assert body["contents"][-1]["parts"][0] == {  # type: ignore[index]
        "inlineData": {"mimeType": "image/png", "data": _b64(red)}
    }
    assert Path(first["images"][0]["path"]).read_bytes() == blue  # noqa: ASYNC240
    second = await daemon.chat("now make it round", model=EDITOR, generationConfig=WITH_IMAGES)
    contents = emulator.requests(":generateContent")[1].body["contents"]  # type: ignore[index]
    assert contents[1]["role"] == "model"
    assert {"inlineData": {"mimeType": "image/png", "data": _b64(blue)}} in contents[1]["parts"]
    assert contents[2] == {"role": "user", "parts": [{"text": "now make it round"}]}
    assert Path(second["images"][0]["path"]).read_bytes() == round_blue  # noqa: ASYNC240
    assert second["images"][0]["path"] != first["images"][0]["path"]


async def test_a_gemini_turn_edits_an_imagen_image(daemon: Daemon, emulator: Emulator) -> None:
    """generateImage, then a gemini/chat with an image model: the Imagen image is in the
    request as the model's inlineData, and the edit comes back as the turn's image."""
    await daemon.request("gemini/generateImage", {"prompt": "a green square"})
    edited = png(8, 8, (9, 9, 9))
    emulator.script({"reply": "Darker.", "image": {"mimeType": "image/png", "data": _b64(edited)}})
    result = await daemon.chat("make it darker", model=EDITOR, generationConfig=WITH_IMAGES)
    contents = emulator.requests(":generateContent")[-1].body["contents"]  # type: ignore[index]
    drawn = _b64(png(64, 64, colour("a green square", 0)))
    assert contents[1]["parts"] == [{"inlineData": {"mimeType": "image/png", "data": drawn}}]
    assert Path(result["images"][0]["path"]).read_bytes() == edited  # noqa: ASYNC240
