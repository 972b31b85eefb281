"""gemini/models and the model check: kinds, chat models first, a few minutes' cache per base
URL and key, unknown names refused with the closest ones, any name taken when offline."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from gemini_chat import models
from gemini_chat.gemini import wire
from gemini_chat.models import Models, model_kind
from gemini_chat.protocol import FieldError
from gemini_chat.settings import Settings

from .core_fakes import KEY
from .gemini_fakes import BASE, MODELS_JSON, Harness

LISTED = json.loads(MODELS_JSON.read_text())["models"]
"""The models.list answer the emulator ships (recorded from the API)."""


class ModelsApi:
    """models.list: the recorded answer, or a scripted error; counts the calls."""

    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.failure: httpx.Response | Exception | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "GET" and request.url.path == "/v1beta/models"
        self.calls.append(request)
        if isinstance(self.failure, Exception):
            raise self.failure
        if self.failure is not None:
            return self.failure
        return httpx.Response(200, json={"models": LISTED})


class Setup:
    """Models over the scripted API, with settings the test can change."""

    def __init__(self) -> None:
        self.api = ModelsApi()
        self.harness = Harness(self.api)
        self.settings = Settings(api_key=KEY, base_url=BASE, max_retries=0)
        self.models = Models(self.harness.client, lambda: self.settings)

    def configure(self, **changes: object) -> None:
        """Change settings (validated), as a client's configuration change does."""
        self.settings = Settings.model_validate(self.settings.model_dump() | changes)


@pytest.fixture
async def m() -> AsyncIterator[Setup]:
    """Models over the scripted models.list."""
    setup = Setup()
    yield setup
    await setup.harness.client.aclose()


def model(name: str, *methods: str) -> wire.Model:
    """A listed model with these generation methods."""
    return wire.Model(name=f"models/{name}", supported_generation_methods=list(methods))


@pytest.mark.parametrize(
    ("name", "methods", "kind"),
    [
        ("gemini-2.5-flash", ["generateContent", "countTokens"], "chat"),
        ("gemini-2.5-flash-image", ["generateContent"], "chat"),
        ("gemini-2.5-flash-preview-tts", ["generateContent"], "special"),
        ("gemma-3-1b-it", ["generateContent"], "special"),
        ("gemini-robotics-er-1.5-preview", ["generateContent"], "special"),
        ("gemini-2.5-computer-use-preview-10-2025", ["generateContent"], "special"),
        ("imagen-4.0-generate-001", ["predict"], "image"),
        ("some-other-predictor", ["predict"], None),
        ("veo-3.0-generate-001", ["predictLongRunning"], None),
        ("gemini-embedding-001", ["embedContent"], None),
    ],
)
def test_model_kinds(name: str, methods: list[str], kind: str | None) -> None:
    """chat for generateContent models, special for TTS/robotics/Gemma/..., image for Imagen's
    predict, None (not listed) for anything else."""
    assert model_kind(model(name, *methods)) == kind


async def test_list_puts_chat_models_first_and_names_the_default(m: Setup) -> None:
    """The listed models: chat ones first in the API's order, then special and image ones;
    nothing that is neither (embeddings, Veo); each with limits, thinking and kind."""
    listed = await m.models.list()
    assert listed["default"] == m.settings.model
    shown = listed["models"]
    kinds = [x["kind"] for x in shown]
    assert kinds == sorted(kinds, key=lambda k: k != "chat")
    names = [x["name"] for x in shown]
    api_chat = [x["name"].removeprefix("models/") for x in LISTED
                if model_kind(wire.Model.model_validate(x)) == "chat"]  # fmt: skip
    assert names[: len(api_chat)] == api_chat
    assert "imagen-4.0-generate-001" in names and "gemini-embedding-001" not in names
    assert not any(n.startswith("veo-") for n in names)
    flash = next(x for x in shown if x["name"] == "gemini-2.5-flash")
    recorded = next(x for x in LISTED if x["name"] == "models/gemini-2.5-flash")
    assert flash == {
        "name": "gemini-2.5-flash",
        "displayName": recorded["displayName"],
        "inputTokenLimit": recorded["inputTokenLimit"],
        "outputTokenLimit": recorded["outputTokenLimit"],
        "thinking": bool(recorded.get("thinking")),
        "kind": "chat",
    }


async def test_the_list_is_cached_per_base_url_and_key_for_a_while(
    m: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second list within MODELS_TTL asks nothing; another key or base URL asks again; so
    does the same one once the TTL has passed."""
    clock = [1000.0]
    monkeypatch.setattr(models.time, "monotonic", lambda: clock[0])
    await m.models.list()
    await m.models.list()
    assert len(m.api.calls) == 1
    m.configure(api_key="another-key-7c1d")
    await m.models.list()
    assert len(m.api.calls) == 2
    assert m.api.calls[-1].headers["x-goog-api-key"] == "another-key-7c1d"
    m.configure(base_url="https://other.test")
    await m.models.list()
    assert m.api.calls[-1].url.host == "other.test"
    clock[0] += models.MODELS_TTL + 1
    await m.models.list()
    assert len(m.api.calls) == 4


async def test_check_accepts_a_listed_model(m: Setup) -> None:
    """A name the API lists passes (Imagen ones too, for gemini/setModel's own check), checked
    against the fetched list (a failed fetch would let any name through)."""
    await m.models.check("gemini-2.5-pro")
    await m.models.check("imagen-4.0-generate-001")
    assert len(m.api.calls) == 1, "one fetch, cached: the list was had (failures are not kept)"


async def test_check_refuses_an_unknown_model_naming_the_closest(m: Setup) -> None:
    """A misspelt name is a FieldError on `model` suggesting up to three close names; one
    like nothing listed points at gemini/models."""
    with pytest.raises(FieldError) as info:
        await m.models.check("gemini-2.5-flsh")
    assert info.value.field == "model"
    message = str(info.value)
    assert message.startswith("gemini-2.5-flsh is not a model this API key can use; did you mean")
    suggested = message.split("did you mean ")[1].rstrip("?").split(", ")
    assert "gemini-2.5-flash" in suggested and len(suggested) <= 3
    with pytest.raises(FieldError, match=r"^zzz is not a model .*; see gemini/models$"):
        await m.models.check("zzz")


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503, json={"error": {"code": 503, "status": "UNAVAILABLE",
                                            "message": "overloaded"}}),
        httpx.ConnectError("offline"),
    ],
)  # fmt: skip
async def test_check_accepts_any_name_when_the_list_cannot_be_had(
    m: Setup, failure: httpx.Response | Exception, caplog: pytest.LogCaptureFixture
) -> None:
    """models.list failing (5xx, offline): any name is accepted, the reason logged."""
    m.api.failure = failure
    with caplog.at_level("INFO", logger="gemini_chat.models"):
        await m.models.check("anything-goes")
    assert "Not checking the model name" in caplog.text
