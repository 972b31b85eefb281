"""Imagen's ``predict``: checked parameters, deterministic PNGs, and the filtered answers.

Each image is one solid colour taken from a hash of the prompt and the image's index, at 1/16 of
Imagen 4's size for the aspect ratio, so tests can tell images apart and check their shape.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from dataclasses import dataclass
from typing import cast

from .errors import plain_error
from .replies import part_tokens
from .schema import JsonObject, objects

SIZES = {"1:1": (64, 64), "3:4": (56, 80), "4:3": (80, 56), "9:16": (48, 88), "16:9": (88, 48)}
"""Width x height per aspectRatio: Imagen 4's 1024x1024, 896x1280, 1280x896, 768x1408 and
1408x768, divided by 16. ``sampleImageSize: "2K"`` doubles them."""
DEFAULT_COUNT = 4
"""Imagen's sampleCount when none is given."""
MAX_COUNT = 4
_PERSON = ("dont_allow", "allow_adult", "allow_all")
_KNOWN = frozenset(
    {"sampleCount", "aspectRatio", "guidanceScale", "safetySetting", "personGeneration"}
    | {"includeSafetyAttributes", "includeRaiReason", "language", "outputOptions"}
    | {"sampleImageSize"}
)
"""The parameters the Gemini API takes (seed, negativePrompt, addWatermark are Vertex-only)."""
PROMPT_REFUSED = (
    "Image generation failed with the following error: The prompt could not be submitted. "
    "This prompt contains sensitive words that violate Google's Responsible AI practices. "
    "Try rephrasing the prompt. If you think this was an error, send feedback. "
    "Support codes: 56562880"
)
ALL_FILTERED = (
    "Unable to show generated images. All images were filtered out because they violated "
    "Google's Responsible AI practices. You will not be charged for blocked images. Try "
    "rephrasing the prompt. If you think this was an error, send feedback. "
    "Support codes: 29310472"
)
ONE_FILTERED = (
    "This image was filtered out because it violated Google's Responsible AI practices. "
    "Try rephrasing the prompt. Support codes: 29310472"
)


@dataclass(frozen=True)
class ImagenRequest:
    """What a valid predict request asks for."""

    prompt: str
    count: int
    width: int
    height: int
    with_reasons: bool

    def tokens(self) -> int:
        """The prompt's token count, as the emulator counts text."""
        return part_tokens({"text": self.prompt})


def read_request(request: JsonObject) -> ImagenRequest:
    """The prompt and parameters of a schema-valid PredictRequest; 400 for what Imagen refuses."""
    instances = objects(request.get("instances"))
    if len(instances) != 1 or len(cast("list[object]", request.get("instances"))) != 1:
        raise plain_error(400, 'Imagen takes exactly one instance: {"prompt": "..."}.')
    prompt = instances[0].get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise plain_error(400, "The instance's prompt must be a non-empty string.")
    params = request.get("parameters", {})
    if not isinstance(params, dict):
        raise plain_error(400, "parameters must be an object.")
    params = cast("JsonObject", params)
    unknown = sorted(set(params) - _KNOWN)
    if unknown:
        raise plain_error(400, f"{unknown[0]} parameter is not supported in Gemini API.")
    count = params.get("sampleCount", DEFAULT_COUNT)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise plain_error(400, f"sampleCount must be an integer from 1 to {MAX_COUNT}: {count!r}.")
    ratio = params.get("aspectRatio", "1:1")
    if ratio not in SIZES:
        raise plain_error(
            400, f"Unsupported aspect ratio {ratio!r}; use one of {', '.join(SIZES)}."
        )
    _check_choices(params)
    scale = 2 if params.get("sampleImageSize") == "2K" else 1
    width, height = SIZES[str(ratio)]
    reasons = params.get("includeRaiReason") is True
    return ImagenRequest(prompt, count, width * scale, height * scale, reasons)


def _check_choices(params: JsonObject) -> None:
    """The enumerated parameters: personGeneration, sampleImageSize, the output type."""
    person = params.get("personGeneration", "allow_adult")
    if person not in _PERSON:
        raise plain_error(400, f"personGeneration must be one of {', '.join(_PERSON)}.")
    if params.get("sampleImageSize", "1K") not in ("1K", "2K"):
        raise plain_error(400, 'sampleImageSize must be "1K" or "2K".')
    output = params.get("outputOptions", {})
    mime = cast("JsonObject", output).get("mimeType") if isinstance(output, dict) else None
    if mime not in (None, "image/png"):
        raise plain_error(400, f"This emulator makes image/png only, not {mime!r}.")


def answer(request: ImagenRequest, step: JsonObject) -> JsonObject:
    """The predict response for a step: images, some or all filtered, or the prompt refused."""
    if step.get("imageBlock") == "prompt":
        raise plain_error(400, PROMPT_REFUSED)
    filtered = request.count if step.get("imageBlock") == "output" else 0
    filtered = max(filtered, min(int(cast("int", step.get("imagesFiltered", 0))), request.count))
    predictions: list[JsonObject] = []
    for index in range(request.count - filtered):
        image = png(request.width, request.height, colour(request.prompt, index))
        data = base64.b64encode(image).decode()
        predictions.append({"bytesBase64Encoded": data, "mimeType": "image/png"})
    if request.with_reasons and filtered:
        reason = ALL_FILTERED if filtered == request.count else ONE_FILTERED
        predictions.extend({"raiFilteredReason": reason} for _ in range(filtered))
    # Every image filtered and no reasons asked for: the API answers an empty object.
    return {"predictions": predictions} if predictions else {}


def colour(prompt: str, index: int) -> tuple[int, int, int]:
    """The deterministic RGB colour of image `index` for `prompt`."""
    digest = hashlib.sha256(f"{index}:{prompt}".encode()).digest()
    return digest[0], digest[1], digest[2]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid PNG (8-bit RGB, no interlace) of one solid colour."""
    row = b"\x00" + bytes(rgb) * width  # filter type 0 (None), then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = [(b"IHDR", header), (b"IDAT", zlib.compress(row * height, 9)), (b"IEND", b"")]
    out = b"\x89PNG\r\n\x1a\n"
    for kind, data in chunks:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        out += struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
    return out
