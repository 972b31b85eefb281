"""Imagen through ``models/{imagen-*}:predict``: a prompt in, up to four images out.

The API filters images two ways: a prompt it refuses is a 400 naming Google's Responsible AI
practices (raised here as BlockedError), and images filtered after drawing come back as
predictions holding only ``raiFilteredReason`` (asked for with ``includeRaiReason``), or not at
all. A call that yields no image at all raises BlockedError.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from pydantic import ValidationError

from gemini_chat.gemini.api import ApiCore, CallOptions, RetryCallback, model_id
from gemini_chat.gemini.errors import BadRequestError, BlockedError, UpstreamUnavailableError
from gemini_chat.gemini.limits import ASPECT_RATIOS, MAX_IMAGES
from gemini_chat.gemini.media_wire import (
    ImagenInstance,
    ImagenParameters,
    PredictRequest,
    PredictResponse,
)
from gemini_chat.gemini.sse import parse_body
from gemini_chat.gemini.wire import dump

_PROMPT_REFUSED = "Responsible AI"
"""Words of the 400 the API answers for a prompt its filter refuses."""
_DEFAULT_MIME = "image/png"


@dataclass(frozen=True)
class GeneratedImage:
    """One image: its bytes and their MIME type."""

    data: bytes = field(repr=False)
    mime_type: str


@dataclass(frozen=True)
class GeneratedImages:
    """What one predict call made: the images, and why any others were filtered out."""

    images: list[GeneratedImage]
    filtered: list[str] = field(default_factory=list[str])


async def generate_images(
    api: ApiCore,
    model: str,
    prompt: str,
    count: int,
    aspect_ratio: str | None,
    opts: CallOptions,
    on_retry: RetryCallback | None = None,
) -> GeneratedImages:
    """Draw ``count`` images of ``prompt``; see GeminiClient.generate_images."""
    bare = model_id(model)
    url = api.url(opts, f"models/{bare}:predict")
    body = dump(_request(prompt, count, aspect_ratio))

    async def once() -> PredictResponse:
        return parse_body(PredictResponse, await api.call(opts, "POST", url, body, bare))

    try:
        response = await api.with_retries(once, opts, on_retry)
    except BadRequestError as error:
        if _PROMPT_REFUSED not in error.message:
            raise
        raise BlockedError(
            f"Imagen refused the prompt; rephrase it. {error.message}",
            http_status=error.http_status,
            status=error.status,
            block_reason="SAFETY",
        ) from None
    return _images(response)


def _request(prompt: str, count: int, aspect_ratio: str | None) -> PredictRequest:
    """The predict body, or BadRequestError (before any I/O) for values Imagen does not take."""
    try:
        parameters = ImagenParameters.model_validate(
            {"sample_count": count, "aspect_ratio": aspect_ratio, "include_rai_reason": True}
        )
        return PredictRequest(instances=[ImagenInstance(prompt=prompt)], parameters=parameters)
    except ValidationError:
        pass
    if not prompt:
        problem = "the prompt is empty"
    elif not 1 <= count <= MAX_IMAGES:
        problem = f"numberOfImages must be 1 to {MAX_IMAGES}, not {count}"
    else:
        problem = f"aspectRatio must be one of {', '.join(ASPECT_RATIOS)}, not {aspect_ratio!r}"
    raise BadRequestError(f"Cannot ask Imagen for that: {problem}.")


def _images(response: PredictResponse) -> GeneratedImages:
    """Decode the images; BlockedError when every image was filtered out."""
    images: list[GeneratedImage] = []
    filtered: list[str] = []
    for prediction in response.predictions:
        if prediction.bytes_base64_encoded:
            try:
                data = base64.b64decode(prediction.bytes_base64_encoded, validate=True)
            except (binascii.Error, ValueError):
                raise UpstreamUnavailableError(
                    "Imagen sent an image this client cannot decode (bad base64). Try again."
                ) from None
            images.append(GeneratedImage(data, prediction.mime_type or _DEFAULT_MIME))
        elif prediction.rai_filtered_reason:
            filtered.append(prediction.rai_filtered_reason)
    if not images:
        why = f" ({filtered[0]})" if filtered else ""
        raise BlockedError(
            f"Imagen filtered out every image it drew{why}. Rephrase the prompt.",
            block_reason="IMAGE_SAFETY",
        )
    return GeneratedImages(images, filtered)
