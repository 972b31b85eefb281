"""The API's limits and choices that the daemon checks requests against before any call.

Kept apart from media_wire.py (its pydantic models) so that params.py and attachments.py can
name them without building the Files API and Imagen models at start: those load with the
first upload or image.
"""

from __future__ import annotations

from typing import Literal, get_args

AspectRatio = Literal["1:1", "3:4", "4:3", "9:16", "16:9"]
ASPECT_RATIOS: tuple[str, ...] = get_args(AspectRatio)
"""The aspect ratios Imagen takes."""
MAX_IMAGES = 4
"""The most images one ``predict`` call makes (``sampleCount`` is 1 to 4)."""
MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
"""The Files API's limit per file (the discovery document's ``maxSize``)."""
