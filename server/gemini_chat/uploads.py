"""Media too large to send inline goes through the Files API before the turn (issue 14), and a
file Gemini no longer keeps (uploads expire after 48 hours) is left out of later requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from .attachments import Prepared, Upload
from .gemini import wire
from .gemini.client import GeminiClient
from .protocol import Json, objects
from .store import Entry
from .turn import TurnContext, TurnEvents, dumps

if TYPE_CHECKING:  # loaded with the first call that needs it
    from .gemini.files import UploadProgress


async def upload_all(
    client: GeminiClient, ctx: TurnContext, prepared: Prepared, events: TurnEvents
) -> tuple[Prepared, list[Json]]:
    """Upload the pending files (progress as `{"upload": {...}}` values); return the turn's
    attachments with their `fileData` parts, and what history keeps of each upload."""
    if not prepared.uploads:
        return prepared, []
    parts = list(prepared.parts)
    kept: list[Json] = []
    for upload in prepared.uploads:
        file = await client.upload_file(
            upload.path,
            upload.mime_type,
            upload.name,
            ctx.opts,
            _reporter(upload, events),
            on_retry=events.retry,
        )
        parts[upload.index] = dict(wire.dump(file.part()))
        expires = file.expiration_time
        kept.append(
            {
                "name": upload.name,
                "uri": file.uri,
                "expires": expires.isoformat() if expires is not None else None,
            }
        )
    return replace(prepared, parts=parts, uploads=[]), kept


def _reporter(upload: Upload, events: TurnEvents):
    async def report(progress: UploadProgress) -> None:
        value: Json = {
            "name": upload.name,
            "sent": progress.sent,
            "total": progress.total,
            "state": progress.state,
        }
        await events.progress({"upload": value})

    return report


def sendable(entry: Entry, now: datetime | None = None) -> str:
    """An entry's JSON text as sent upstream: a file part Gemini no longer keeps becomes a
    note (a request naming an expired file would fail as a whole)."""
    files = objects(entry.meta.get("files"))
    moment = now or datetime.now(UTC)
    gone = {
        str(f.get("uri")): str(f.get("name", "a file"))
        for f in files
        if f.get("expires") and _passed(str(f["expires"]), moment)
    }
    if not gone:
        return entry.raw or dumps(entry.content)
    kept: list[object] = []
    for part in objects(entry.content.get("parts")):
        data = part.get("fileData")
        uri = cast(Json, data).get("fileUri") if isinstance(data, dict) else None
        if isinstance(uri, str) and uri in gone:
            kept.append({"text": f"[{gone[uri]} was attached here; uploaded files expire]"})
        else:
            kept.append(part)
    return dumps({**entry.content, "parts": kept})


def _passed(stamp: str, moment: datetime) -> bool:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")) <= moment
    except ValueError:
        return False
