"""The models the emulator knows: the bundled models.list answer, with paging."""

from __future__ import annotations

import functools
from typing import cast

from .schema import JsonObject, bundled_json, objects


class ModelCatalog:
    """The models the emulator knows (a real models.list response), with paging."""

    def __init__(self, models: list[JsonObject]) -> None:
        self._models = models
        self._by_name = {str(m.get("name")): m for m in models}

    @staticmethod
    def bundled() -> ModelCatalog:
        """The catalog shipped in gemini_chat.emulator.data/models.json (cached; never mutated)."""
        return _bundled_catalog()

    def get(self, name: str, method: str | None = None) -> JsonObject | None:
        """The model called `name` ("models/x"), if it exists and supports `method`."""
        model = self._by_name.get(name)
        if model is None or method is None:
            return model
        methods = model.get("supportedGenerationMethods")
        if not isinstance(methods, list) or method not in cast("list[object]", methods):
            return None
        return model

    def page(self, size: int, offset: int) -> tuple[list[JsonObject], int | None]:
        """One page of models and the offset of the next page (None on the last)."""
        end = offset + size
        return self._models[offset:end], (end if end < len(self._models) else None)


@functools.cache
def _bundled_catalog() -> ModelCatalog:
    return ModelCatalog(objects(bundled_json("models.json").get("models")))
