"""The emulator's input token limit: reported by models.get/list, enforced like the real API."""

from __future__ import annotations

import subprocess
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import types

from conftest import EMULATOR_KEY, tool
from gemini_chat.emulator import Emulator

FLASH = "/v1beta/models/gemini-2.5-flash"
GENERATE = f"{FLASH}:generateContent"
STREAM = f"{FLASH}:streamGenerateContent?alt=sse"
REAL_FLASH_LIMIT = 1048576


def _ask(text: str) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}]}


def _count(client: httpx.Client, request: dict[str, Any]) -> int:
    body = {"generateContentRequest": {"model": "models/gemini-2.5-flash", **request}}
    r = client.post(f"{FLASH}:countTokens", json=body)
    assert r.status_code == 200, r.text
    return int(r.json()["totalTokens"])


def _too_long(count: int, limit: int) -> str:
    return (
        f"The input token count ({count}) exceeds the maximum number of tokens allowed ({limit})."
    )


def _limit_of(client: httpx.Client, name: str = "gemini-2.5-flash") -> object:
    r = client.get(f"/v1beta/models/{name}")
    assert r.status_code == 200
    return r.json()["inputTokenLimit"]


def test_models_report_the_set_limit(client: httpx.Client, emulator: Emulator) -> None:
    """With a limit set, models.get and every model in models.list report it; None restores."""
    assert _limit_of(client) == REAL_FLASH_LIMIT
    emulator.set_input_token_limit(100)
    assert emulator.input_token_limit == 100
    assert _limit_of(client) == 100
    assert _limit_of(client, "gemini-2.5-pro") == 100
    models = client.get("/v1beta/models", params={"pageSize": 1000}).json()["models"]
    assert {m["inputTokenLimit"] for m in models} == {100}
    flash = next(m for m in models if m["name"] == "models/gemini-2.5-flash")
    keys = list(flash)
    assert keys.index("inputTokenLimit") < keys.index("outputTokenLimit")  # the API's key order
    emulator.set_input_token_limit(None)
    assert _limit_of(client) == REAL_FLASH_LIMIT


def test_a_prompt_over_the_limit_is_refused_like_the_api(
    client: httpx.Client, emulator: Emulator
) -> None:
    """Over the limit: 400 INVALID_ARGUMENT, the API's exact words, pretty-printed, no details."""
    request = _ask("x" * 400)
    count = _count(client, request)
    emulator.set_input_token_limit(count - 1)
    r = client.post(GENERATE, json=request)
    assert r.status_code == 400
    assert r.json() == {
        "error": {"code": 400, "message": _too_long(count, count - 1), "status": "INVALID_ARGUMENT"}
    }
    assert r.text.startswith('{\n  "error": {\n')
    assert r.text.endswith("}\n")


def test_a_prompt_at_the_limit_is_answered(client: httpx.Client, emulator: Emulator) -> None:
    """The limit is inclusive: a prompt of exactly N tokens is answered, with that prompt count."""
    request = _ask("y" * 400)
    count = _count(client, request)
    emulator.set_input_token_limit(count)
    r = client.post(GENERATE, json=request)
    assert r.status_code == 200
    assert r.json()["usageMetadata"]["promptTokenCount"] == count


def test_a_stream_over_the_limit_is_a_plain_400(client: httpx.Client, emulator: Emulator) -> None:
    """streamGenerateContent is refused before any event: a JSON 400 body, not an SSE stream."""
    request = _ask("z" * 400)
    count = _count(client, request)
    emulator.set_input_token_limit(10)
    r = client.post(STREAM, json=request)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]["message"] == _too_long(count, 10)
    assert emulator.events()[-1]["type"] == "request"  # no "done": nothing was streamed


def test_system_instruction_and_tools_count(client: httpx.Client, emulator: Emulator) -> None:
    """The count is promptTokenCount's: systemInstruction and tool declarations are in it."""
    request = _ask("short question")
    alone = _count(client, request)
    request["systemInstruction"] = {"parts": [{"text": "You are terse. " * 20}]}
    declaration = {"name": "read_file", "description": "Read a file.", "parameters": {}}
    request["tools"] = [{"functionDeclarations": [declaration]}]
    full = _count(client, request)
    assert full > alone
    emulator.set_input_token_limit(alone)
    r = client.post(GENERATE, json=request)
    assert r.status_code == 400
    assert r.json()["error"]["message"] == _too_long(full, alone)


def test_a_refused_request_keeps_the_script_step(client: httpx.Client, emulator: Emulator) -> None:
    """A refused prompt does not use up a step: the next request that fits gets it."""
    emulator.script({"reply": "scripted answer"})
    emulator.set_input_token_limit(20)
    assert client.post(GENERATE, json=_ask("w" * 400)).status_code == 400
    r = client.post(GENERATE, json=_ask("small"))
    assert r.json()["candidates"][0]["content"]["parts"][0]["text"] == "scripted answer"


def test_count_tokens_never_fails_on_size(client: httpx.Client, emulator: Emulator) -> None:
    """countTokens counts any prompt, however far over the limit (that is what it is for)."""
    emulator.set_input_token_limit(1)
    r = client.post(f"{FLASH}:countTokens", json=_ask("v" * 4000))
    assert r.status_code == 200
    assert r.json()["totalTokens"] == 1000


def test_each_model_enforces_its_own_limit_by_default(client: httpx.Client) -> None:
    """With no limit set, a model's own inputTokenLimit holds (gemma-3n-e2b-it: 8192)."""
    name = "gemma-3n-e2b-it"
    assert _limit_of(client, name) == 8192
    r = client.post(f"/v1beta/models/{name}:generateContent", json=_ask("u" * 40000))
    assert r.status_code == 400
    assert r.json()["error"]["message"] == _too_long(10000, 8192)
    ok = client.post(f"/v1beta/models/{name}:generateContent", json=_ask("u" * 32768))
    assert ok.status_code == 200


def test_clear_and_reset_keep_the_limit(client: httpx.Client, emulator: Emulator) -> None:
    """The limit is configuration: clear() and POST /_emulator/reset leave it set."""
    emulator.set_input_token_limit(50)
    emulator.clear()
    assert emulator.input_token_limit == 50
    assert client.post("/_emulator/reset").status_code == 200
    assert _limit_of(client) == 50


def test_control_endpoint_sets_and_clears_the_limit(
    client: httpx.Client, emulator: Emulator
) -> None:
    """POST /_emulator/limits {"inputTokenLimit": N | null} sets it; GET shows it."""
    r = client.post("/_emulator/limits", json={"inputTokenLimit": 30})
    assert (r.status_code, r.json()) == (200, {"inputTokenLimit": 30})
    assert emulator.input_token_limit == 30
    assert client.get("/_emulator/limits").json() == {"inputTokenLimit": 30}
    assert client.post(GENERATE, json=_ask("t" * 400)).status_code == 400
    r = client.post("/_emulator/limits", json={"inputTokenLimit": None})
    assert (r.status_code, r.json()) == (200, {"inputTokenLimit": None})
    assert client.post(GENERATE, json=_ask("t" * 400)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"inputTokenLimit": "30"}, {"inputTokenLimit": 0}, {"inputTokenLimit": True}, {}, [30]],
    ids=["string", "zero", "bool", "missing", "not-an-object"],
)
def test_control_endpoint_refuses_bad_limits(
    client: httpx.Client, emulator: Emulator, body: object
) -> None:
    """A limit that is not a positive integer or null is a 400, and the old limit stays."""
    emulator.set_input_token_limit(77)
    r = client.post("/_emulator/limits", json=body)
    assert r.status_code == 400
    assert "inputTokenLimit" in r.json()["error"]["message"]
    assert emulator.input_token_limit == 77


def test_constructor_takes_the_limit_and_checks_it() -> None:
    """Emulator(input_token_limit=N) starts with it; a bad value is a ValueError."""
    with Emulator(api_keys=[EMULATOR_KEY], input_token_limit=64) as emu:
        r = httpx.get(f"{emu.url}{FLASH}", headers={"x-goog-api-key": EMULATOR_KEY})
        assert r.json()["inputTokenLimit"] == 64
        with pytest.raises(ValueError, match="positive"):
            emu.set_input_token_limit(-5)
        assert emu.input_token_limit == 64
    with pytest.raises(ValueError, match="positive"):
        Emulator(input_token_limit=0)


def test_cli_input_token_limit() -> None:
    """gemini-chat-emulator --input-token-limit N reports and enforces N."""
    exe = tool("gemini-chat-emulator", "run `uv sync` in the repository")
    proc = subprocess.Popen(
        [exe, "--api-key", "cli-key", "--input-token-limit", "12"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        headers = {"x-goog-api-key": "cli-key"}
        assert httpx.get(f"{url}{FLASH}", headers=headers).json()["inputTokenLimit"] == 12
        r = httpx.post(f"{url}{GENERATE}", headers=headers, json=_ask("s" * 100))
        assert r.json()["error"]["message"] == _too_long(25, 12)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_cli_refuses_a_bad_limit() -> None:
    """--input-token-limit must be a positive integer: a usage error (exit 2) otherwise."""
    exe = tool("gemini-chat-emulator", "run `uv sync` in the repository")
    done = subprocess.run(
        [exe, "--input-token-limit", "0"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "positive integer" in done.stderr


def test_google_genai_sdk_sees_the_limit(emulator: Emulator) -> None:
    """The official SDK reads the limit from models.get and gets its ClientError when over it."""
    options = types.HttpOptions(base_url=emulator.url, api_version="v1beta")
    client = genai.Client(api_key=EMULATOR_KEY, http_options=options)
    emulator.set_input_token_limit(5)
    assert client.models.get(model="gemini-2.5-flash").input_token_limit == 5
    with pytest.raises(genai.errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents="q" * 100)
    assert info.value.code == 400
    assert info.value.message == _too_long(25, 5)
