"""`gemini/generateImage`: Imagen draws images of a prompt, and the request and its images
become one exchange of the folder's conversation, through the same path as a turn: the folder
held, the request journaled (other editors see it start), the exchange committed with its
change-feed row (every editor sees it land), history and export showing it.

The user turn is the prompt (meta `imagen`); the model turn holds the images as `inlineData`
parts, so a later turn with an image-capable Gemini model can edit them.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from . import pricing, redaction
from .chat import ChatService, end_in_flight
from .exchange import USAGE_KEYS
from .gemini.client import GeminiClient
from .gemini.errors import GeminiError
from .images import write_image
from .models import IMAGE_KIND, Models
from .protocol import FieldError, Json
from .redaction import Redactions
from .settings import Settings
from .store import Entry
from .turn import TurnEvents, call_options
from .workspaces import Workspace

if TYPE_CHECKING:  # loaded with the first call that needs it
    from .gemini.imagen import GeneratedImage, GeneratedImages


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageRequest:
    """What to draw, checked against the protocol already."""

    ws: Workspace
    prompt: str
    model: str | None = None
    count: int = 1
    aspect_ratio: str | None = None


class ImageService:
    """Imagen requests, recorded in the folder's conversation."""

    def __init__(
        self,
        client: GeminiClient,
        chat: ChatService,
        models: Models,
        settings: Callable[[], Settings],
    ) -> None:
        self._client = client
        self._chat = chat
        self._models = models
        self._settings = settings

    async def generate(self, req: ImageRequest, events: TurnEvents) -> Json:
        """Draw the images and commit them as the folder's next exchange (in the order the
        folder's requests arrived: its place is taken before the model is looked up)."""
        key = req.ws.key
        async with self._chat.queued(key) as place:
            return await self._generate(req, events, place)

    async def _generate(
        self, req: ImageRequest, events: TurnEvents, place: Awaitable[None]
    ) -> Json:
        settings = self._settings()
        store = self._chat.store()
        store.check_writable()
        model = await self._model(req.model, settings)
        redactions = Redactions(settings.redact_secrets)
        prompt = redactions.mask(req.prompt, redaction.MESSAGE)
        await events.begin(model)
        if redactions.found:
            await events.progress({"redacted": redactions.found})
        key = req.ws.key
        await place
        async with self._chat.across_daemons(store, key, events):
            history = store.history(key)
            live = store.journal.start(key, prompt, [], _asked(req, model))
            try:
                made = await self._client.generate_images(
                    model, prompt, req.count, req.aspect_ratio, call_options(settings), events.retry
                )
                saved = await asyncio.to_thread(_save, settings.data_dir, made.images)
                for image, _ in saved:
                    await events.progress({"image": image})
                reply = _reply(model, made, saved, settings, history)
                number = store.commit(key, [_question(req, prompt, model), reply])
            except BaseException as exc:
                end_in_flight(store, key, live, exc, "image request")
                raise
        result: Json = {"workspace": req.ws.uri, "turn": number, **reply[2]}
        if redactions.found:
            result["redacted"] = redactions.found
        return result

    async def _model(self, asked: str | None, settings: Settings) -> str:
        """The model asked for, else the `imageModel` setting, else the first Imagen model the
        API lists; a name the list has but not as an Imagen model is refused (-32602)."""
        name = asked or settings.image_model
        try:
            listed = cast(list[Json], (await self._models.list())["models"])
        except GeminiError as exc:
            if name is None:
                raise
            log.info("Not checking the image model's name (%s)", exc.message)
            return name
        kinds = {str(m["name"]): m.get("kind") for m in listed}
        if name is None:
            first = next((n for n, kind in kinds.items() if kind == IMAGE_KIND), None)
            if first is None:
                raise FieldError("This API key can use no Imagen model (gemini/models)", "model")
            return first
        if name not in kinds:
            await self._models.check(name)  # refuses it, naming the closest models
        if kinds.get(name) != IMAGE_KIND:
            where = "" if asked else " (the imageModel setting)"
            raise FieldError(
                f"{name}{where} is not an Imagen model; pick one of kind image in gemini/models "
                "(Gemini's own image models draw in gemini/chat with responseModalities)",
                "model",
            )
        return name


def _save(data_dir: Path, images: Sequence[GeneratedImage]) -> list[tuple[Json, Json]]:
    """Each image saved under dataDir/images, with its `inlineData` part (base64)."""
    out: list[tuple[Json, Json]] = []
    for image in images:
        path = write_image(data_dir, image.mime_type, image.data)
        data = base64.b64encode(image.data).decode("ascii")
        shown: Json = {"mimeType": image.mime_type, "path": str(path)}
        out.append((shown, {"inlineData": {"mimeType": image.mime_type, "data": data}}))
    return out


def _question(req: ImageRequest, prompt: str, model: str) -> tuple[str, Json, Json]:
    """The user turn: the prompt, marked as a request to Imagen (with its parameters)."""
    content: Json = {"role": "user", "parts": [{"text": prompt}]}
    return ("user", content, {"text": prompt, "attachments": [], "imagen": _asked(req, model)})


def _reply(
    model: str,
    made: GeneratedImages,
    saved: list[tuple[Json, Json]],
    settings: Settings,
    history: Sequence[Entry],
) -> tuple[str, Json, Json]:
    """The model turn: the images as parts; what history and the result show of it."""
    usage: Json = {**dict.fromkeys(USAGE_KEYS, 0), "images": len(saved)}
    cost = pricing.images_cost(model, settings.prices, len(saved))
    meta: Json = {
        "text": "",
        "thoughts": "",
        "model": model,
        "usage": pricing.priced(usage, cost, history),
        "images": [shown for shown, _ in saved],
    }
    if made.filtered:
        meta["filtered"] = made.filtered
    content: Json = {"role": "model", "parts": [part for _, part in saved]}
    return ("model", content, meta)


def _asked(req: ImageRequest, model: str) -> Json:
    """The request's parameters as `gemini/generateImage` takes them: the stored question's
    `imagen` marker, and what an interrupted or mirrored request is shown with."""
    asked: Json = {"numberOfImages": req.count, "model": model}
    if req.aspect_ratio is not None:
        asked["aspectRatio"] = req.aspect_ratio
    return asked
