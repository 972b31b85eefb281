"""The emulator's Files API over real HTTP: resumable uploads, files.get/list/delete, fileData."""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from google import genai
from google.genai import types

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator
from polling import wait_until

from .gemini_fakes import sdk

UPLOAD = "/upload/v1beta/files"
FLASH = "/v1beta/models/gemini-2.5-flash"
START = {
    "X-Goog-Upload-Protocol": "resumable",
    "X-Goog-Upload-Command": "start",
    "Content-Type": "application/json",
}


def _start(client: httpx.Client, size: int, mime: str = "video/mp4", **meta: object) -> str:
    """Start an upload; the upload URL the emulator answers."""
    headers = START | {
        "X-Goog-Upload-Header-Content-Length": str(size),
        "X-Goog-Upload-Header-Content-Type": mime,
    }
    r = client.post(UPLOAD, headers=headers, json={"file": meta} if meta else {})
    assert r.status_code == 200, r.text
    assert r.headers["x-goog-upload-status"] == "active"
    return r.headers["x-goog-upload-url"]


def _chunk(url: str, data: bytes, offset: int, command: str = "upload") -> httpx.Response:
    """One request on the upload URL, with no API key (the upload_id is the credential)."""
    headers = {"X-Goog-Upload-Command": command, "X-Goog-Upload-Offset": str(offset)}
    return httpx.post(url, content=data, headers=headers)


def _upload(client: httpx.Client, data: bytes, mime: str = "video/mp4", **meta: object) -> dict:
    """A whole upload in one finalizing request; the File."""
    url = _start(client, len(data), mime, **meta)
    r = _chunk(url, data, 0, "upload, finalize")
    assert r.status_code == 200, r.text
    assert r.headers["x-goog-upload-status"] == "final"
    return r.json()["file"]


def _ask(client: httpx.Client, uri: str, method: str = "generateContent") -> httpx.Response:
    """A one-turn request holding a fileData part and a question."""
    parts = [{"fileData": {"mimeType": "video/mp4", "fileUri": uri}}, {"text": "Describe it"}]
    return client.post(f"{FLASH}:{method}", json={"contents": [{"role": "user", "parts": parts}]})


def _error(r: httpx.Response) -> tuple[int, str, str]:
    err = r.json()["error"]
    return r.status_code, err["status"], err["message"]


def test_resumable_upload_in_chunks_gives_an_active_file(
    client: httpx.Client, emulator: Emulator
) -> None:
    """start answers an upload URL on the emulator; chunks (multiples of the granularity) and
    `upload, finalize` need no key; the File has the API's fields and the bytes' SHA-256."""
    emulator.script_uploads({"granularity": 1024})
    data = bytes(range(256)) * 10  # 2560 bytes: two 1024-byte chunks and a 512-byte tail
    url = _start(client, len(data), "video/mp4", displayName="Cat video")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == emulator.url
    assert parts.path == UPLOAD
    assert set(parse_qs(parts.query)) == {"upload_id", "upload_protocol"}
    assert _chunk(url, data[:1024], 0).headers["x-goog-upload-status"] == "active"
    assert _chunk(url, data[1024:2048], 1024).headers["x-goog-upload-status"] == "active"
    final = _chunk(url, data[2048:], 2048, "upload, finalize")
    assert final.headers["x-goog-upload-status"] == "final"
    file = final.json()["file"]
    file_id = file["name"].removeprefix("files/")
    assert file["displayName"] == "Cat video"
    assert file["mimeType"] == "video/mp4"
    assert file["sizeBytes"] == "2560"
    assert file["sha256Hash"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert file["uri"] == f"{emulator.url}/v1beta/files/{file_id}"
    assert (file["state"], file["source"]) == ("ACTIVE", "UPLOADED")
    created = datetime.fromisoformat(file["createTime"])
    assert datetime.fromisoformat(file["expirationTime"]) - created == timedelta(hours=48)
    assert client.get(f"/v1beta/{file['name']}").json() == file
    chunks = [r for r in emulator.requests(UPLOAD) if "upload_id" in r.query]
    assert len(chunks) == 3
    assert all("x-goog-api-key" not in r.headers and r.body is None for r in chunks)
    assert emulator.wait_for_event("uploaded")["name"] == file["name"]


def test_start_is_checked(client: httpx.Client, emulator: Emulator) -> None:
    """start needs the key, the resumable protocol, the start command, a sane size and name."""
    sized = START | {"X-Goog-Upload-Header-Content-Length": "10"}
    no_key = httpx.post(f"{emulator.url}{UPLOAD}", headers=sized, json={})
    assert no_key.status_code == 403
    multipart = sized | {"X-Goog-Upload-Protocol": "multipart"}
    assert "resumable" in _error(client.post(UPLOAD, headers=multipart, json={}))[2]
    upload_cmd = sized | {"X-Goog-Upload-Command": "upload"}
    assert client.post(UPLOAD, headers=upload_cmd, json={}).status_code == 400
    huge = START | {"X-Goog-Upload-Header-Content-Length": str(2**31 + 1)}
    assert "exceeds" in _error(client.post(UPLOAD, headers=huge, json={}))[2]
    bad_name = client.post(UPLOAD, headers=sized, json={"file": {"name": "files/Bad_Name"}})
    assert bad_name.status_code == 400
    unknown_field = client.post(UPLOAD, headers=sized, json={"file": {"colour": "red"}})
    assert 'Unknown name "colour"' in _error(unknown_field)[2]
    _start(client, 3, name="files/my-clip")
    taken = client.post(UPLOAD, headers=sized, json={"file": {"name": "files/my-clip"}})
    assert taken.status_code == 200  # only a finalized file holds the name
    file = _upload(client, b"abc", name="my-clip")
    assert file["name"] == "files/my-clip"
    again = client.post(UPLOAD, headers=sized, json={"file": {"name": "files/my-clip"}})
    assert _error(again)[:2] == (409, "ALREADY_EXISTS")


def test_chunks_are_checked(client: httpx.Client, emulator: Emulator) -> None:
    """A wrong offset, a chunk off the granularity, too many or too few bytes: 400s that leave
    the session usable (X-Goog-Upload-Status: active)."""
    emulator.script_uploads({"granularity": 4})
    url = _start(client, 10)
    wrong_offset = _chunk(url, b"abcd", 4)
    assert wrong_offset.status_code == 400
    assert wrong_offset.headers["x-goog-upload-status"] == "active"
    assert "offset must be 0" in _error(wrong_offset)[2]
    assert "multiple of 4" in _error(_chunk(url, b"abc", 0))[2]
    assert _chunk(url, b"abcd", 0).status_code == 200
    short = _chunk(url, b"ef", 4, "upload, finalize")
    assert "declared 10" in _error(short)[2]
    assert "larger than" in _error(_chunk(url, b"efghijklmn", 4, "upload, finalize"))[2]
    done = _chunk(url, b"efghij", 4, "upload, finalize")
    assert done.json()["file"]["sizeBytes"] == "10"


def test_query_cancel_and_unknown_sessions(client: httpx.Client, emulator: Emulator) -> None:
    """query reports the bytes held; cancel ends the session; an unknown upload_id is a 404;
    a bare finalize after the last chunk finishes the file."""
    emulator.script_uploads({"granularity": 2}, {"granularity": 2})
    url = _start(client, 6)
    _chunk(url, b"ab", 0)
    query = _chunk(url, b"", 0, "query")
    assert query.headers["x-goog-upload-status"] == "active"
    assert query.headers["x-goog-upload-size-received"] == "2"
    assert _chunk(url, b"", 0, "cancel").headers["x-goog-upload-status"] == "cancelled"
    gone = _chunk(url, b"cd", 2)
    assert gone.status_code == 404
    assert gone.headers["x-goog-upload-status"] == "final"
    assert _chunk(url.replace("upload_id=", "upload_id=x"), b"", 0, "query").status_code == 404
    assert emulator.files() == []
    other = _start(client, 4)
    assert _chunk(other, b"abcd", 0).headers["x-goog-upload-status"] == "active"
    finished = _chunk(other, b"", 4, "finalize")
    assert finished.json()["file"]["sizeBytes"] == "4"


def test_processing_then_active(client: httpx.Client, emulator: Emulator) -> None:
    """A scripted processing time: PROCESSING (and refused in a turn with the API's
    FAILED_PRECONDITION) until it passes, then ACTIVE and usable (258 tokens, like a blob)."""
    emulator.script_uploads({"processing": 0.4})
    file = _upload(client, b"\x00" * 100)
    assert file["state"] == "PROCESSING"
    assert file["createTime"] == file["updateTime"]
    code, status, message = _error(_ask(client, file["uri"]))
    assert (code, status) == (400, "FAILED_PRECONDITION")
    assert message == (
        f"The File {file['name'].removeprefix('files/')} is not in an ACTIVE state and usage "
        "is not allowed."
    )

    def processed() -> dict[str, Any] | None:
        now = client.get(f"/v1beta/{file['name']}").json()
        return None if now["state"] == "PROCESSING" else now

    now = wait_until(processed, "the file to leave PROCESSING", within=5)
    assert now["state"] == "ACTIVE"
    assert now["updateTime"] > now["createTime"]
    answer = _ask(client, file["uri"])
    assert answer.status_code == 200
    assert _ask(client, file["uri"], "countTokens").json()["totalTokens"] == 258 + 3


def test_failed_processing(client: httpx.Client, emulator: Emulator) -> None:
    """A scripted failure: FAILED with the error message, and refused in a turn."""
    emulator.script_uploads({"fail": "Unsupported video codec."})
    file = _upload(client, b"not a video")
    assert file["state"] == "FAILED"
    assert file["error"] == {"code": 3, "message": "Unsupported video codec."}
    assert _error(_ask(client, file["uri"]))[:2] == (400, "FAILED_PRECONDITION")


def test_file_data_must_name_a_file_held(client: httpx.Client, emulator: Emulator) -> None:
    """Unknown, deleted and expired files get the API's 403; a URI that is no file URI a 400;
    countTokens checks too; YouTube URLs pass as the API takes them."""
    file = _upload(client, b"abc")
    unknown = f"{emulator.url}/v1beta/files/nosuchfile"
    assert _error(_ask(client, unknown)) == (
        403,
        "PERMISSION_DENIED",
        "You do not have permission to access the File nosuchfile or it may not exist.",
    )
    assert _ask(client, unknown, "countTokens").status_code == 403
    assert _error(_ask(client, "gs://bucket/clip.mp4"))[0] == 400
    assert _ask(client, "https://www.youtube.com/watch?v=9hE5-98ZeCg").status_code == 200
    assert _ask(client, file["uri"]).status_code == 200
    emulator.expire_file(file["name"])
    assert _ask(client, file["uri"]).status_code == 403
    assert client.get(f"/v1beta/{file['name']}").status_code == 403
    with pytest.raises(KeyError):
        emulator.expire_file(file["name"])
    system = {
        "systemInstruction": {"parts": [{"fileData": {"fileUri": unknown}}]},
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
    }
    assert client.post(f"{FLASH}:generateContent", json=system).status_code == 403


def test_files_list_and_delete(client: httpx.Client) -> None:
    """files.list pages newest first (default 10, at most 100); delete answers {} and the file
    is gone; an empty list is {}."""
    names = [_upload(client, f"file {i}".encode())["name"] for i in range(3)]
    first = client.get("/v1beta/files", params={"pageSize": 2}).json()
    assert [f["name"] for f in first["files"]] == names[::-1][:2]
    second = client.get(
        "/v1beta/files", params={"pageSize": 2, "pageToken": first["nextPageToken"]}
    ).json()
    assert [f["name"] for f in second["files"]] == [names[0]]
    assert "nextPageToken" not in second
    assert client.get("/v1beta/files", params={"pageToken": "junk"}).status_code == 400
    for name in names:
        deleted = client.delete(f"/v1beta/{name}")
        assert (deleted.status_code, deleted.json()) == (200, {})
    assert client.delete(f"/v1beta/{names[0]}").status_code == 403
    assert client.get("/v1beta/files").json() == {}
    assert client.post("/v1beta/files").status_code == 404


def test_scripted_start_errors_and_failed_chunks(client: httpx.Client, emulator: Emulator) -> None:
    """An upload step's status answers its start (429 with RetryInfo); failChunk answers one
    chunk with chunkStatus, keeping no bytes of it, so a query and a resend go on."""
    emulator.script_uploads(
        {"status": 429, "retryDelay": "3s"}, {"granularity": 2, "failChunk": 1, "chunkStatus": 503}
    )
    refused = client.post(UPLOAD, headers=START, json={})
    assert refused.status_code == 429
    retry = [d for d in refused.json()["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}]
    url = _start(client, 6, "text/plain")
    assert _chunk(url, b"ab", 0).status_code == 200
    failed = _chunk(url, b"cd", 2)
    assert (failed.status_code, failed.headers["x-goog-upload-status"]) == (503, "active")
    assert _chunk(url, b"", 0, "query").headers["x-goog-upload-size-received"] == "2"
    assert _chunk(url, b"cd", 2).status_code == 200
    file = _chunk(url, b"ef", 4, "upload, finalize").json()["file"]
    assert file["sha256Hash"] == base64.b64encode(hashlib.sha256(b"abcdef").digest()).decode()


def test_a_key_in_the_query_is_echoed_but_never_logged(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Like the API, a ?key= on start comes back inside the upload URL; the emulator's log
    lines hold paths only."""
    caplog.set_level(logging.INFO, logger="gemini_chat.emulator")
    r = httpx.post(f"{emulator.url}{UPLOAD}", params={"key": EMULATOR_KEY}, headers=START, json={})
    url = r.headers["x-goog-upload-url"]
    assert parse_qs(urlsplit(url).query)["key"] == [EMULATOR_KEY]
    assert _chunk(url, b"xyz", 0, "upload, finalize").status_code == 200
    assert "POST /upload/v1beta/files -> 200" in caplog.text
    assert EMULATOR_KEY not in caplog.text


def test_upload_control_endpoints(emulator: Emulator, client: httpx.Client) -> None:
    """/_emulator/uploads queues steps (bad ones are 400s), /_emulator/files lists what is held,
    /_emulator/files/expire drops one; reset forgets files too."""
    url = emulator.url
    queued = httpx.post(f"{url}/_emulator/uploads", json={"steps": [{"processing": 0.01}]})
    assert queued.json() == {"queued": 1}
    for bad in ({"steps": [{"procesing": 1}]}, {"steps": [{"fail": 3}]}, {"nope": []}):
        assert httpx.post(f"{url}/_emulator/uploads", json=bad).status_code == 400
    with pytest.raises(ValueError, match="chunkStatus needs failChunk"):
        emulator.script_uploads({"chunkStatus": 500})
    file = _upload(client, b"abc")
    listed = httpx.get(f"{url}/_emulator/files").json()["files"]
    assert [f["name"] for f in listed] == [file["name"]]
    expired = httpx.post(f"{url}/_emulator/files/expire", json={"name": file["name"]})
    assert expired.json() == {"expired": file["name"]}
    again = httpx.post(f"{url}/_emulator/files/expire", json={"name": file["name"]})
    assert again.status_code == 400
    _upload(client, b"def")
    assert httpx.post(f"{url}/_emulator/reset").status_code == 200
    assert emulator.files() == []


def test_google_genai_sdk_uploads_uses_lists_and_deletes(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The official SDK's files.upload/get/list/delete and a fileData turn work against the
    emulator: wire fidelity of the Files API."""
    path = tmp_path / "notes.txt"
    path.write_text("hello " * 1000)
    client = sdk(emulator)
    file = client.files.upload(file=path, config={"display_name": "Notes"})
    assert file.name is not None and file.uri is not None
    assert (file.display_name, file.mime_type, file.size_bytes) == ("Notes", "text/plain", 6000)
    assert file.state == types.FileState.ACTIVE
    assert client.files.get(name=file.name).sha256_hash == file.sha256_hash
    assert [f.name for f in client.files.list()] == [file.name]
    part = types.Part.from_uri(file_uri=file.uri, mime_type="text/plain")
    reply = client.models.generate_content(model="gemini-2.5-flash", contents=[part, "Summarize"])
    assert "gemini-chat emulator" in (reply.text or "")
    client.files.delete(name=file.name)
    with pytest.raises(genai.errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents=[part, "Again"])
    assert info.value.code == 403
