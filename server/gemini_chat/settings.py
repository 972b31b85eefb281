"""Settings: defaults, environment, client layers; the API key kept as a secret."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.alias_generators import to_camel

from . import logs, redaction
from .gemini import wire
from .pricing import Price
from .protocol import settings_section

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
DEFAULT_SYSTEM_INSTRUCTION = (
    "You are a helpful coding assistant inside the user's editor. Answer precisely and "
    "concisely, use Markdown, and put code in fenced code blocks with a language."
)

JsonObject: TypeAlias = dict[str, object]


def _generation_config(value: JsonObject) -> JsonObject:
    """A generationConfig that Gemini would take, in wire JSON; refused when it would not."""
    return dict(wire.dump(wire.GenerationConfig.model_validate(value)))


def _safety_settings(value: list[JsonObject]) -> list[JsonObject]:
    return [dict(wire.dump(wire.SafetySetting.model_validate(s))) for s in value]


class Settings(BaseModel):
    """The effective settings of a daemon: each field's name, default and constraints, once."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )

    api_key: SecretStr | None = None
    model: wire.ModelId = DEFAULT_MODEL
    base_url: str = Field(default=DEFAULT_BASE_URL, pattern=r"^https?://[^\s?#]+$")
    system_instruction: str = DEFAULT_SYSTEM_INSTRUCTION
    generation_config: Annotated[JsonObject, AfterValidator(_generation_config)] = Field(
        default_factory=dict[str, object]
    )
    safety_settings: Annotated[list[JsonObject], AfterValidator(_safety_settings)] = Field(
        default_factory=list[JsonObject]
    )
    request_timeout: float = Field(default=300.0, gt=0, le=3600)
    max_retries: int = Field(default=4, ge=0, le=20)
    max_retry_delay: float = Field(default=60.0, ge=0, le=3600)
    stream_idle_timeout: float = Field(default=120.0, gt=0, le=3600)
    data_dir: Path = Field(default_factory=lambda: default_data_dir())
    context_file: str = Field(default="GEMINI.md", pattern=r"^[^/\\]*$")
    tools: bool = True
    max_tool_calls: int = Field(default=10, ge=0, le=100)
    compact_threshold: float = Field(default=0.8, ge=0, le=1)
    redact_secrets: bool = True
    image_model: wire.ModelId | None = None
    """gemini/generateImage's model when a request names none (else the first Imagen model)."""
    prices: dict[wire.ModelId, Price] = Field(default_factory=dict[str, Price])
    """Prices per model replacing (or adding to) the table shipped in prices.json."""

    @property
    def key(self) -> str | None:
        """The API key in clear, for the request header only."""
        return self.api_key.get_secret_value() if self.api_key else None


FIELDS = {name: f.alias or name for name, f in Settings.model_fields.items()}
"""Python name -> camelCase setting name."""


def default_data_dir() -> Path:
    """The platform's user data dir for gemini-chat."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("gemini-chat", appauthor=False))


def env_layer(environ: Mapping[str, str]) -> JsonObject:
    """Settings given by environment variables."""
    layer: JsonObject = {}
    key = environ.get("GEMINI_API_KEY") or environ.get("GOOGLE_API_KEY")
    if key:
        layer["apiKey"] = key
    base = environ.get("GEMINI_BASE_URL") or environ.get("GOOGLE_GEMINI_BASE_URL")
    if base:
        layer["baseUrl"] = base
    if data_dir := environ.get("GEMINI_CHAT_DATA_DIR"):
        layer["dataDir"] = data_dir
    return layer


def _check(name: str, value: object) -> object:
    """Validate one setting's value, with the field's own constraints."""
    return getattr(Settings.model_validate({FIELDS[name]: value}), name)


def _ignore(_message: str) -> None:
    """Drop a warning (until the client is there to show it)."""


class SettingsManager:
    """Builds `Settings` from defaults, the environment and the client's section."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, warn: Callable[[str], None] | None = None
    ) -> None:
        self._env = env_layer(os.environ if environ is None else environ)
        self._client: JsonObject = {}
        self._warn: Callable[[str], None] = warn or _ignore
        self._warned: set[str] = set()
        self.current = self._build()

    def update(self, options: object) -> Settings:
        """Replace the client's layer; keys it leaves out fall back to env and defaults."""
        self._client = settings_section(options)
        self.current = self._build()
        return self.current

    def _build(self) -> Settings:
        for layer in (self._env, self._client):  # known as secrets before any value is shown
            key = layer.get("apiKey")
            if isinstance(key, str):
                logs.register_secret(key)
        values: dict[str, object] = {}
        for layer in (self._env, self._client):
            for name, camel in FIELDS.items():
                if camel not in layer or layer[camel] is None:
                    continue
                try:
                    values[name] = _check(name, layer[camel])
                except ValidationError as exc:
                    self._report(camel, layer[camel], exc)
        return Settings.model_validate(values)

    def _report(self, name: str, value: object, exc: ValidationError) -> None:
        # Known secrets, known formats and key-like values are hidden; redacted whole, then
        # cut (a secret cut in two is no longer recognised).
        shown = json.dumps(value, default=str)
        if name == "apiKey" or redaction.looks_random(shown):
            shown = "(hidden)"
        else:
            shown = logs.redact(redaction.redact_secrets(shown)[0])[:80]
        text = f"Ignoring gemini.{name} = {shown}: {exc.errors()[0]['msg']}; using the default."
        if text not in self._warned:
            self._warned.add(text)
            self._warn(text)
