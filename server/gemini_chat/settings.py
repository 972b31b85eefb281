"""Settings: defaults, environment, client layers; the API key kept as a secret."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias, cast

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.alias_generators import to_camel

from . import logs

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
DEFAULT_SYSTEM_INSTRUCTION = (
    "You are a helpful coding assistant inside the user's editor. Answer precisely and "
    "concisely, use Markdown, and put code in fenced code blocks with a language."
)

JsonObject: TypeAlias = dict[str, object]


class _Values(BaseModel):
    """The `gemini` settings section, every key optional; used to validate one key at a time."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    api_key: SecretStr | None = None
    model: str = Field(default=DEFAULT_MODEL, min_length=1, pattern=r"^(models/)?[A-Za-z0-9._-]+$")
    base_url: str = Field(default=DEFAULT_BASE_URL, pattern=r"^https?://[^\s?#]+$")
    system_instruction: str = DEFAULT_SYSTEM_INSTRUCTION
    generation_config: JsonObject = Field(default_factory=dict[str, object])
    safety_settings: list[JsonObject] = Field(default_factory=list[JsonObject])
    request_timeout: float = Field(default=300.0, gt=0, le=3600)
    max_retries: int = Field(default=4, ge=0, le=20)
    max_retry_delay: float = Field(default=60.0, ge=0, le=3600)
    stream_idle_timeout: float = Field(default=120.0, gt=0, le=3600)
    data_dir: Path | None = None
    context_file: str = Field(default="GEMINI.md", pattern=r"^[^/\\]*$")
    tools: bool = True
    max_tool_calls: int = Field(default=10, ge=0, le=100)
    compact_threshold: float = Field(default=0.8, ge=0, le=1)


FIELDS = {name: f.alias or name for name, f in _Values.model_fields.items()}
"""Python name -> camelCase setting name."""


@dataclass(frozen=True)
class Settings:
    """The effective settings of a daemon."""

    api_key: SecretStr | None = None
    model: str = DEFAULT_MODEL
    base_url: str = DEFAULT_BASE_URL
    system_instruction: str = DEFAULT_SYSTEM_INSTRUCTION
    generation_config: JsonObject = field(default_factory=dict[str, object])
    safety_settings: list[JsonObject] = field(default_factory=list[JsonObject])
    request_timeout: float = 300.0
    max_retries: int = 4
    max_retry_delay: float = 60.0
    stream_idle_timeout: float = 120.0
    data_dir: Path = field(default_factory=lambda: default_data_dir())
    context_file: str = "GEMINI.md"
    tools: bool = True
    max_tool_calls: int = 10
    compact_threshold: float = 0.8

    @property
    def key(self) -> str | None:
        """The API key in clear, for the request header only."""
        return self.api_key.get_secret_value() if self.api_key else None


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


def client_section(options: object) -> JsonObject:
    """The `gemini` section from initializationOptions or didChangeConfiguration settings."""
    if not isinstance(options, dict):
        return {}
    opts = cast(JsonObject, options)
    inner = opts.get("gemini")
    return cast(JsonObject, inner) if isinstance(inner, dict) else opts


def _check(name: str, value: object) -> object:
    """Validate one setting's value, with the field's own constraints."""
    probe = _Values.model_validate({FIELDS[name]: value})
    return getattr(probe, name)


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

    def set_warn(self, warn: Callable[[str], None]) -> None:
        """Where reports of bad values go (window/showMessage once the client is there)."""
        self._warn = warn

    def update(self, options: object) -> Settings:
        """Replace the client's layer; keys it leaves out fall back to env and defaults."""
        self._client = client_section(options)
        self.current = self._build()
        return self.current

    def _build(self) -> Settings:
        values: dict[str, object] = {}
        for layer in (self._env, self._client):
            for name, camel in FIELDS.items():
                if camel not in layer or layer[camel] is None:
                    continue
                try:
                    values[name] = _check(name, layer[camel])
                except ValidationError as exc:
                    self._report(camel, layer[camel], exc)
        settings = Settings(**values)  # pyright: ignore[reportArgumentType]
        if settings.key:
            logs.register_secret(settings.key)
        return settings

    def _report(self, name: str, value: object, exc: ValidationError) -> None:
        shown = "(hidden)" if name == "apiKey" else json.dumps(value, default=str)[:80]
        text = f"Ignoring gemini.{name} = {shown}: {exc.errors()[0]['msg']}; using the default."
        if text not in self._warned:
            self._warned.add(text)
            self._warn(text)
