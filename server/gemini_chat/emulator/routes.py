"""What each v1beta path answers: models, generate (whole or streamed), countTokens, predict,
and the Files API (upload start, files.get/list/delete; the upload URL's chunks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

from . import imagen
from .errors import (
    MISSING_KEY,
    invalid_key_error,
    not_found_model,
    plain_error,
    scripted_error,
    token_limit_error,
    violations_error,
)
from .files import Answer
from .http import UPLOAD_PATH, BaseHandler, pretty, sse_event
from .pages import page_offset, page_size, page_token
from .replies import blocked, build_reply, prompt_details, response_id
from .schema import JsonObject, conversation_error

_BROKEN_JSON = '{"candidates": [{"content": {"parts": [{"text": "cut'
_ROUTE = re.compile(r"^/v1beta/(models/[^/:]+)(?::([A-Za-z]+))?$")
_FILE_ROUTE = re.compile(r"^/v1beta/files/([^/:]+)$")


class Handler(BaseHandler):
    """The API's routes on top of the connection handling."""

    def _api(self, path: str, query: dict[str, str], raw: bytes, body: object | None) -> int:
        route = self._route(path, query, raw, body)
        if route is None:
            raise plain_error(404, "Method not found.")
        self._check_key(query)
        return route()

    def _route(
        self, path: str, query: dict[str, str], raw: bytes, body: object | None
    ) -> Callable[[], int] | None:
        media = self._media_route(path, query, raw, body)
        if media is not None or path.startswith(("/v1beta/files", UPLOAD_PATH)):
            return media
        if path == "/v1beta/models":
            return (lambda: self._list_models(query)) if self.command == "GET" else None
        match = _ROUTE.match(path)
        if match is None:
            return None
        model, method = str(match.group(1)), cast("str | None", match.group(2))
        sse = query.get("alt") == "sse"
        table: dict[tuple[str, str | None], Callable[[], int]] = {
            ("GET", None): lambda: self._get_model(model),
            ("POST", "generateContent"): lambda: self._generate(model, raw, body, None),
            ("POST", "streamGenerateContent"): lambda: self._generate(model, raw, body, sse),
            ("POST", "countTokens"): lambda: self._count(model, raw, body),
            ("POST", "predict"): lambda: self._predict(model, raw, body),
        }
        return table.get((self.command, method))

    def _media_route(
        self, path: str, query: dict[str, str], raw: bytes, body: object | None
    ) -> Callable[[], int] | None:
        """Files API routes: files.list, files.get, files.delete, and the upload's start."""
        files = self.server.state.files
        if path == UPLOAD_PATH and self.command == "POST":
            return lambda: self._start_upload(query, raw, body)
        if path == "/v1beta/files" and self.command == "GET":
            return lambda: self._list_files(query)
        match = _FILE_ROUTE.match(path)
        if match is None:
            return None
        file_id = str(match.group(1))
        table: dict[str, Callable[[], int]] = {
            "GET": lambda: self._json_ok(files.get(file_id)),
            "DELETE": lambda: self._json_ok(files.delete(file_id)),
        }
        return table.get(self.command)

    def _check_key(self, query: dict[str, str]) -> None:
        key = self.headers.get("x-goog-api-key") or query.get("key")
        if not key:
            raise plain_error(403, MISSING_KEY)
        if key not in self.server.state.api_keys:
            raise invalid_key_error()

    def _json_ok(self, obj: object) -> int:
        self._send(200, pretty(obj))
        return 200

    def _list_models(self, query: dict[str, str]) -> int:
        size, offset = page_size(query, 50, 1000), page_offset(query)
        state = self.server.state
        models, next_offset = state.catalog.page(size, offset)
        result: JsonObject = {"models": [state.with_limit(m) for m in models]}
        if next_offset is not None:
            result["nextPageToken"] = page_token(next_offset)
        return self._json_ok(result)

    def _get_model(self, name: str) -> int:
        model = self.server.state.catalog.get(name)
        if model is None:
            raise not_found_model(name, "get")
        return self._json_ok(self.server.state.with_limit(model))

    def _request(self, raw: bytes, body: object | None, schema: str) -> JsonObject:
        """The parsed request body, or the API's 400 for bad JSON or a schema violation."""
        if body is None and raw.strip():
            snippet = raw[:40].decode(errors="replace")
            raise plain_error(
                400, f"Invalid JSON payload received. Unexpected token.\n{snippet}\n^"
            )
        violations, parsed = self.server.state.validator.parse({} if body is None else body, schema)
        if violations:
            raise violations_error(violations)
        return parsed

    def _count(self, model: str, raw: bytes, body: object | None) -> int:
        if self.server.state.catalog.get(model, "countTokens") is None:
            raise not_found_model(model, "countTokens")
        request = self._request(raw, body, "CountTokensRequest")
        inner = request.get("generateContentRequest")
        if isinstance(inner, dict):
            if "contents" in request:
                raise plain_error(
                    400, "Either contents or generate_content_request may be set, not both."
                )
            request = cast("JsonObject", inner)
            where = "CountTokensRequest.generate_content_request"
            if not re.fullmatch(r"models/[^/]+", str(request.get("model", ""))):
                raise plain_error(400, f"* {where}.model: unexpected model name format\n")
        else:
            where = "CountTokensRequest"
        problem = conversation_error(request.get("contents"), where, must_end_with_user=False)
        if problem:
            raise plain_error(400, problem)
        self._check_files(request)
        total, details = prompt_details(request)
        return self._json_ok({"totalTokens": total, "promptTokensDetails": details})

    def _generate(self, model: str, raw: bytes, body: object | None, sse: bool | None) -> int:
        """generateContent (sse None) or streamGenerateContent (SSE, or a JSON array)."""
        state = self.server.state
        found = state.catalog.get(model, "generateContent")
        if found is None:
            raise not_found_model(model, "generateContent")
        request = self._request(raw, body, "GenerateContentRequest")
        where = "GenerateContentRequest"
        problem = conversation_error(request.get("contents"), where, must_end_with_user=True)
        if problem:
            raise plain_error(400, problem)
        self._check_files(request)
        limit, (count, _) = state.token_limit(found), prompt_details(request)
        if limit is not None and count > limit:
            raise token_limit_error(count, limit)  # before next_step(): no step is used up
        step = state.next_step()
        if not self._wait(float(cast("float", step.get("delay", 0)))):
            return 0
        if step.get("dropConnection") and "cutAfter" not in step:
            self.close_connection = True
            return 0
        if "status" in step and ("errorAfter" not in step or sse is None):
            raise scripted_error(step, model)
        chunks, full = self._outcome(step, request, model, response_id(raw))
        if sse is None:
            self._send(200, full.encode() if isinstance(full, str) else pretty(full))
            return 200
        return self._stream(chunks, step, model, sse)

    def _check_files(self, request: JsonObject) -> None:
        """fileData parts must name files this emulator holds, ACTIVE (403/400 otherwise)."""
        problem = self.server.state.files.part_error(request)
        if problem is not None:
            raise problem

    @staticmethod
    def _outcome(
        step: JsonObject, request: JsonObject, model: str, rid: str
    ) -> tuple[list[JsonObject | str], JsonObject | str]:
        """The stream's events and the non-streamed body for a step."""
        if step.get("invalidJson"):
            return [_BROKEN_JSON], _BROKEN_JSON
        if "block" in step:
            prompt, _ = prompt_details(request)
            body = blocked(model.removeprefix("models/"), rid, prompt, str(step["block"]))
            return [body], body
        reply = build_reply(step, request, model, rid)
        return list[JsonObject | str](reply.chunks()), reply.full()

    def _stream(
        self, chunks: list[JsonObject | str], step: JsonObject, model: str, sse: bool
    ) -> int:
        content_type = "text/event-stream" if sse else "application/json"
        if not self._write(self._head(200, f"{content_type}; charset=UTF-8", None)):
            return 200
        limit = cast("int", step.get("cutAfter", step.get("errorAfter", len(chunks))))
        delay = float(cast("float", step.get("chunkDelay", 0)))
        for i, event in enumerate(chunks[:limit]):
            if (i and not self._wait(delay)) or not self._chunk(self._frame(event, i, sse)):
                return 200
        if "errorAfter" in step:
            error = scripted_error(step, model).body
            if not (self._wait(delay) and self._chunk(self._frame(error, limit, sse))):
                return 200
        if step.get("dropConnection"):
            self.close_connection = True  # cut mid-body: no terminating chunk
            return 200
        tail = b"" if sse else b"]"
        self._write((self._chunk_bytes(tail) if tail else b"") + b"0\r\n\r\n")
        self.server.state.event("done", path=urlsplit(self.path).path)
        return 200

    @staticmethod
    def _chunk_bytes(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    @staticmethod
    def _frame(event: JsonObject | str, index: int, sse: bool) -> bytes:
        if sse:
            return sse_event(event)
        text = event if isinstance(event, str) else json.dumps(event, indent=2, ensure_ascii=False)
        return (("[" if index == 0 else ",\r\n") + text).encode()

    # --- media -------------------------------------------------------------------------------

    def _answer(self, answer: Answer) -> int:
        """Write an Answer after its delay (0 when the client left while waiting)."""
        if answer.delay and not self._wait(answer.delay):
            return 0
        body = pretty(answer.body) if answer.body is not None else b""
        self._send(answer.status, body, headers=answer.headers)
        return answer.status

    def _start_upload(self, query: dict[str, str], raw: bytes, body: object | None) -> int:
        request = self._request(raw, body, "CreateFileRequest")
        host = self.headers.get("Host") or f"{self.server.server_name}:{self.server.server_port}"
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.server.state.files.start(headers, request, f"http://{host}", query.get("key"))
        return self._answer(answer)

    def _upload(self, query: dict[str, str], headers: dict[str, str]) -> int:
        answer = self.server.state.files.upload(query, headers, self._body_pieces())
        status = self._answer(answer)
        if status == 200 and answer.headers.get("X-Goog-Upload-Status") == "final":
            name = cast("JsonObject", (answer.body or {}).get("file", {})).get("name")
            self.server.state.event("uploaded", name=name)
        return status

    def _list_files(self, query: dict[str, str]) -> int:
        size, offset = page_size(query, 10, 100), page_offset(query)
        found, next_offset = self.server.state.files.page(size, offset)
        result: JsonObject = {"files": found} if found else {}
        if next_offset is not None:
            result["nextPageToken"] = page_token(next_offset)
        return self._json_ok(result)

    def _predict(self, model: str, raw: bytes, body: object | None) -> int:
        """Imagen: checked parameters, then the step's images, filtering or error."""
        state = self.server.state
        found = state.catalog.get(model, "predict")
        if found is None:
            raise not_found_model(model, "predict")
        request = imagen.read_request(self._request(raw, body, "PredictRequest"))
        limit = state.token_limit(found)
        if limit is not None and request.tokens() > limit:
            raise token_limit_error(request.tokens(), limit)  # before next_step(), as generate
        step = state.next_step()
        if not self._wait(float(cast("float", step.get("delay", 0)))):
            return 0
        if step.get("dropConnection"):
            self.close_connection = True
            return 0
        if "status" in step:
            raise scripted_error(step, model)
        return self._json_ok(imagen.answer(request, step))
