"""A `session/prompt`'s content blocks as one turn: the message, its attachments, and the texts
the client gave (embedded resources) or will give (fs/read_text_file) for its files."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from acp.schema import (
    AudioContentBlock,
    BlobResourceContents,
    EmbeddedResourceContentBlock,
    ImageContentBlock,
    ResourceContentBlock,
    TextContentBlock,
)

from ..params import Attachment, DataAttachment, TextAttachment, UriAttachment
from ..protocol import FieldError

Block = (
    TextContentBlock
    | ImageContentBlock
    | AudioContentBlock
    | ResourceContentBlock
    | EmbeddedResourceContentBlock
)


@dataclass
class PromptInput:
    """What a prompt asks: the message, attachments, and texts by URI that stand for files."""

    message: str = ""
    attachments: list[Attachment] = field(default_factory=list[Attachment])
    texts: dict[str, str] = field(default_factory=dict[str, str])
    """Text the client sent for a file URI (an embedded resource): used instead of the disk."""


def read(blocks: list[Block]) -> PromptInput:
    """Text blocks make the message; a link or resource among them is named in it (`@name`)
    where it stood; links, resources, images and audio become attachments."""
    out = PromptInput()
    pieces: list[tuple[bool, str]] = []
    """(is a mention, text) in prompt order."""
    for i, block in enumerate(blocks):
        if isinstance(block, TextContentBlock):
            pieces.append((False, block.text))
        elif isinstance(block, ImageContentBlock | AudioContentBlock):
            name = f"{block.type}-{i + 1}"
            out.attachments.append(
                DataAttachment(name=name, mime_type=block.mime_type, data=block.data)
            )
        elif isinstance(block, ResourceContentBlock):
            pieces.append((True, f"@{block.name}"))
            if _is_file(block.uri):
                out.attachments.append(UriAttachment(uri=block.uri))
        else:
            pieces.append((True, f"@{_name(block.resource.uri)}"))
            _embedded(out, block)
    if any(not mention for mention, _ in pieces):
        out.message = _join(pieces)
    return out


def _embedded(out: PromptInput, block: EmbeddedResourceContentBlock) -> None:
    """A file's text the client sent stands for the file (confined like any attachment); a
    blob is inline data; text that is no file is attached as text."""
    res = block.resource
    if isinstance(res, BlobResourceContents):
        mime = res.mime_type or "application/octet-stream"
        out.attachments.append(DataAttachment(name=_name(res.uri), mime_type=mime, data=res.blob))
    elif _is_file(res.uri):
        out.attachments.append(UriAttachment(uri=res.uri))
        out.texts[res.uri] = res.text
    else:
        out.attachments.append(TextAttachment(name=_name(res.uri), text=res.text))


def _join(pieces: list[tuple[bool, str]]) -> str:
    """The texts as written, each mention set apart by spaces unless whitespace is there."""
    text = ""
    after_mention = False
    for mention, piece in pieces:
        apart = mention or (after_mention and piece[:1].isalnum())
        if text and apart and not text[-1].isspace():
            piece = " " + piece
        text += piece
        after_mention = mention
    return text


def _is_file(uri: str) -> bool:
    return urlsplit(uri).scheme == "file"


def _name(uri: str) -> str:
    """A readable name for a URI: its last path segment, else the URI itself."""
    path = unquote(urlsplit(uri).path).rstrip("/")
    return path.rsplit("/", 1)[-1] or uri


def check_empty(prompt: PromptInput) -> None:
    """Refuse a prompt that asks nothing (no text, nothing attached)."""
    if not prompt.message.strip() and not prompt.attachments:
        raise FieldError("The prompt is empty; type a question or attach something", "prompt")
