"""Pydantic models of the Files API and of Imagen's ``predict`` (camelCase on the wire).

The generateContent models are in wire.py; these follow the same rules (requests forbid unknown
fields, responses ignore them). The emulator never imports them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import Field

from gemini_chat.gemini.limits import MAX_IMAGES, AspectRatio
from gemini_chat.gemini.wire import FileData, JsonObject, Part, RequestModel, ResponseModel

_FILE_NAME = re.compile(r"files/[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")


def file_name(name: str) -> str:
    """A File resource name (``files/abc-123``, or the bare id); ValueError for anything else.

    Ids are lower-case letters, digits and dashes (the API's rule), so a name cannot change the
    meaning of the URL it goes into.
    """
    full = name if name.startswith("files/") else f"files/{name}"
    if not _FILE_NAME.fullmatch(full):
        raise ValueError(f"{name!r} is not a file name such as files/abc-123")
    return full


# --- Files API -------------------------------------------------------------------------------


class FileStatus(ResponseModel):
    """Why processing failed (a google.rpc.Status)."""

    code: int | None = None
    message: str | None = None


class File(ResponseModel):
    """An uploaded file as the Files API describes it; usable in a turn once ``ACTIVE``."""

    name: str
    display_name: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None
    expiration_time: datetime | None = None
    sha256_hash: str | None = None
    uri: str | None = None
    download_uri: str | None = None
    state: str | None = None
    """``PROCESSING``, ``ACTIVE`` or ``FAILED`` (kept as text: new states must not break us)."""
    source: str | None = None
    error: FileStatus | None = None
    video_metadata: JsonObject | None = None

    def part(self) -> Part:
        """The ``fileData`` part that puts this file in a turn."""
        if not self.uri:
            raise ValueError(f"{self.name} has no uri")
        return Part(file_data=FileData(file_uri=self.uri, mime_type=self.mime_type))


class FileMetadata(RequestModel):
    """What we say about a file when starting its upload (size and type go in headers)."""

    display_name: Annotated[str, Field(max_length=512)] | None = None


class CreateFileRequest(RequestModel):
    """The body of the upload's ``start`` request."""

    file: FileMetadata = Field(default_factory=FileMetadata)


class CreateFileResponse(ResponseModel):
    """The body of the upload's ``finalize`` answer."""

    file: File


# --- Imagen ``predict`` ----------------------------------------------------------------------


class ImagenInstance(RequestModel):
    """What to draw."""

    prompt: Annotated[str, Field(min_length=1)]


class ImagenParameters(RequestModel):
    """How many images, of which shape; ``includeRaiReason`` names why an image was dropped."""

    sample_count: Annotated[int, Field(ge=1, le=MAX_IMAGES)]
    aspect_ratio: AspectRatio | None = None
    include_rai_reason: bool | None = None


class PredictRequest(RequestModel):
    """The body of ``models/{imagen}:predict``: one instance (the prompt) and the parameters."""

    instances: Annotated[list[ImagenInstance], Field(min_length=1, max_length=1)]
    parameters: ImagenParameters


class ImagenPrediction(ResponseModel):
    """One image (base64 bytes), or the reason it was filtered out."""

    bytes_base64_encoded: str | None = None
    mime_type: str | None = None
    rai_filtered_reason: str | None = None


class PredictResponse(ResponseModel):
    """The answer of ``predict``; ``{}`` when every image was filtered out without reasons."""

    predictions: list[ImagenPrediction] = Field(default_factory=list[ImagenPrediction])
