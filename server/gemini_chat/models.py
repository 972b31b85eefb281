"""The models a key can use: listed (chat models first, the rest marked) and checked."""

from __future__ import annotations

import difflib
import logging
import re
import time
from collections.abc import Callable
from typing import cast

from .gemini import wire
from .gemini.client import GeminiClient
from .gemini.errors import GeminiError
from .protocol import FieldError, Json
from .settings import Settings
from .turn import call_options

log = logging.getLogger(__name__)
MODELS_TTL = 300.0
IMAGE_KIND = "image"
"""The `kind` gemini/models gives Imagen models."""
_SPECIAL = re.compile(
    r"tts|robotics|computer-use|deep-research|customtools|native-audio|gemma|embedding|aqa"
)
"""Models that answer generateContent but are not for a chat about code."""


def model_kind(m: wire.Model) -> str | None:
    """`chat`, `special` (generateContent, but TTS, robotics...), `image` (Imagen), or None."""
    if m.supports("predict") and m.id.startswith("imagen-"):
        return IMAGE_KIND
    if not m.supports("generateContent"):
        return None
    return "special" if _SPECIAL.search(m.id) else "chat"


class Models:
    """`gemini/models`, cached a few minutes per base URL and key."""

    def __init__(self, client: GeminiClient, settings: Callable[[], Settings]) -> None:
        self._client = client
        self._settings = settings
        self._models: tuple[float, tuple[str, str | None], list[wire.Model]] | None = None

    async def list(self) -> Json:
        """The models that support generateContent (cached a few minutes)."""
        settings = self._settings()
        cache_key = (settings.base_url, settings.key)
        now = time.monotonic()
        if self._models and self._models[1] == cache_key and now - self._models[0] < MODELS_TTL:
            listed = self._models[2]
        else:
            listed = await self._client.list_models(call_options(settings))
            self._models = (now, cache_key, listed)
        kinds = [(m, model_kind(m)) for m in listed]
        shown = [(m, k) for m, k in kinds if k is not None]
        shown.sort(key=lambda mk: mk[1] != "chat")  # chat models first, in the API's order
        return {
            "models": [
                {
                    "name": m.id,
                    "displayName": m.display_name or m.id,
                    "inputTokenLimit": m.input_token_limit,
                    "outputTokenLimit": m.output_token_limit,
                    "thinking": bool(m.thinking),
                    "kind": kind,
                }
                for m, kind in shown
            ],
            "default": settings.model,
        }

    async def check(self, model: str) -> None:
        """Refuse a model the API does not list (-32602 naming `model`, with the closest
        names); accept any when the list cannot be had (offline, no key yet)."""
        try:
            listed = (await self.list())["models"]
        except GeminiError as exc:
            log.info("Not checking the model name (%s)", exc.message)
            return
        names = [str(cast(Json, m)["name"]) for m in cast(list[object], listed)]
        if model not in names:
            close = difflib.get_close_matches(model, names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else "; see gemini/models"
            raise FieldError(f"{model} is not a model this API key can use{hint}", "model")
