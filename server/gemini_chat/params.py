"""The params of PROTOCOL.md's methods as pydantic models; a failure names the bad field."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.alias_generators import to_camel

from .gemini.limits import MAX_IMAGES, AspectRatio
from .gemini.wire import ModelId
from .protocol import FieldError, Json

MAX_MESSAGE_CHARS = 1_000_000
"""A message's cap (about 250k tokens, past any model's input limit with its history)."""
ProgressToken = int | Annotated[str, StringConstraints(min_length=1, max_length=256)]


T = TypeVar("T", bound=BaseModel)


class _Params(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", strict=True
    )


class Position(_Params):
    """An LSP position."""

    line: int = Field(ge=0)
    character: int = Field(ge=0)


class Range(_Params):
    """An LSP range; `end` is exclusive."""

    start: Position
    end: Position


class UriAttachment(_Params):
    """A file of the workspace, whole or a range of it."""

    uri: Annotated[str, StringConstraints(min_length=1)]
    range: Range | None = None


class DataAttachment(_Params):
    """Base64 data with a mime type (images, PDF, audio, video)."""

    name: str = "attachment"
    mime_type: Annotated[str, StringConstraints(pattern=r"^[\w.+-]+/[\w.+-]+$")]
    data: str


class TextAttachment(_Params):
    """Free text context."""

    name: str = "text"
    text: str


Attachment = UriAttachment | DataAttachment | TextAttachment


class JsonModeParams(_Params):
    """`gemini/chat`'s `json`: reply as JSON, shaped by a JSON Schema when one is given."""

    schema_: Json | None = Field(default=None, alias="schema")


class ChatParams(_Params):
    """`gemini/chat` params."""

    workspace: str | None = None
    message: Annotated[str, StringConstraints(max_length=MAX_MESSAGE_CHARS)]
    attachments: list[Attachment] = Field(default_factory=list[Attachment], max_length=100)
    model: ModelId | None = None
    generation_config: Json | None = None
    json_mode: JsonModeParams | None = Field(default=None, alias="json")
    work_done_token: ProgressToken | None = None
    partial_result_token: ProgressToken | None = None


class GenerateImageParams(_Params):
    """`gemini/generateImage` params."""

    workspace: str | None = None
    prompt: Annotated[str, StringConstraints(max_length=MAX_MESSAGE_CHARS)]
    model: ModelId | None = None
    number_of_images: int = Field(default=1, ge=1, le=MAX_IMAGES)
    aspect_ratio: AspectRatio | None = None
    work_done_token: ProgressToken | None = None
    partial_result_token: ProgressToken | None = None


class WorkspaceParams(_Params):
    """Params of methods that only name a workspace."""

    workspace: str | None = None


class CountTokensParams(_Params):
    """`gemini/countTokens` params."""

    workspace: str | None = None
    message: Annotated[str, StringConstraints(max_length=MAX_MESSAGE_CHARS)] = ""
    attachments: list[Attachment] = Field(default_factory=list[Attachment], max_length=100)
    model: ModelId | None = None


class SetModelParams(_Params):
    """`gemini/setModel` params: `model` None forgets the workspace's choice."""

    workspace: str | None = None
    model: ModelId | None


class ConversationsParams(_Params):
    """`gemini/conversations` params (`limit`/`offset` page a long list)."""

    workspace: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class ConversationParams(_Params):
    """Params naming one conversation of a folder."""

    workspace: str | None = None
    id: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class RenameParams(ConversationParams):
    """`gemini/renameConversation` params."""

    title: Annotated[str, StringConstraints(max_length=200)]


class ExportParams(_Params):
    """`gemini/export` params: the active conversation when `id` is left out."""

    workspace: str | None = None
    id: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None


class EmptyParams(_Params):
    """Methods that take no params."""


class ParamsError(FieldError):
    """Params that do not fit the protocol; becomes InvalidParams naming the field."""


def parse(model: type[T], raw: object) -> T:
    """Validate raw JSON params against a params model, or raise ParamsError naming the field."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ParamsError("params must be a JSON object", "params")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"] if not _is_union_tag(p)]
        field = ".".join(loc) or "params"
        raise ParamsError(f"Invalid {field}: {err['msg']}", field) from None


def _is_union_tag(part: object) -> bool:
    return isinstance(part, str) and part in {"UriAttachment", "DataAttachment", "TextAttachment"}
