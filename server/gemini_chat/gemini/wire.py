"""Pydantic models of the Gemini API v1beta wire format (camelCase on the wire).

Dump a request with ``model.model_dump(by_alias=True, exclude_none=True, mode="json")``.
Requests we build forbid unknown fields (a typo in a user setting is a clear validation error);
responses ignore fields we do not know. ``Content``, ``Part`` and the part payloads travel both
ways: they keep unknown fields too, because history sends model parts back exactly as they came.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, JsonValue
from pydantic.alias_generators import to_camel

JsonObject = dict[str, JsonValue]
"""A JSON object kept as is (schemas, function arguments, metadata we do not model)."""

_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+@-]{0,127}")


def model_id(name: str) -> str:
    """The bare model id of a model name (`models/gemini-2.5-flash` -> `gemini-2.5-flash`).

    Refuses (ValueError) ids that could change a URL's meaning: the one rule for settings,
    params and the client.
    """
    bare = name.removeprefix("models/")
    if not _MODEL_ID.fullmatch(bare) or ".." in bare:
        raise ValueError(f"{name!r} is not a model id such as gemini-2.5-flash")
    return bare


ModelId = Annotated[str, AfterValidator(model_id)]
"""A model name, validated and made bare."""

HarmCategory = Literal[
    "HARM_CATEGORY_UNSPECIFIED",
    "HARM_CATEGORY_DEROGATORY",
    "HARM_CATEGORY_TOXICITY",
    "HARM_CATEGORY_VIOLENCE",
    "HARM_CATEGORY_SEXUAL",
    "HARM_CATEGORY_MEDICAL",
    "HARM_CATEGORY_DANGEROUS",
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
]
HarmBlockThreshold = Literal[
    "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
    "BLOCK_LOW_AND_ABOVE",
    "BLOCK_MEDIUM_AND_ABOVE",
    "BLOCK_ONLY_HIGH",
    "BLOCK_NONE",
    "OFF",
]
ThinkingLevel = Annotated[
    Literal["THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH"],
    # The API's docs write "low" and "high"; its enum is upper case.
    BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v),
]
MediaResolution = Literal[
    "MEDIA_RESOLUTION_UNSPECIFIED",
    "MEDIA_RESOLUTION_LOW",
    "MEDIA_RESOLUTION_MEDIUM",
    "MEDIA_RESOLUTION_HIGH",
]
Modality = Literal["MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO"]
FunctionCallingMode = Literal["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"]
ServiceTier = Literal["unspecified", "standard", "flex", "priority"]


class RequestModel(BaseModel):
    """Base of what we send: unknown fields are an error."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ResponseModel(BaseModel):
    """Base of what Gemini sends: unknown fields are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class RoundTripModel(BaseModel):
    """Base of what travels both ways: unknown fields are kept and dumped back verbatim."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


# --- content (both directions) ---------------------------------------------------------------


class Blob(RoundTripModel):
    """Inline bytes: ``data`` is base64 text, kept as sent."""

    mime_type: str
    data: str


class FileData(RoundTripModel):
    """A reference to an uploaded file."""

    file_uri: str
    mime_type: str | None = None


class FunctionCall(RoundTripModel):
    """A call the model asks the client to make."""

    name: str
    id: str | None = None
    # Optional on the wire; left None (not {}) so a part without args dumps back unchanged.
    args: JsonObject | None = None


class FunctionResponse(RoundTripModel):
    """The result of a function call, sent back in a ``user`` turn."""

    name: str
    response: JsonObject
    id: str | None = None
    parts: list[JsonObject] | None = None
    will_continue: bool | None = None
    scheduling: str | None = None


class Part(RoundTripModel):
    """One piece of a Content: one data field plus flags; every field round-trips verbatim."""

    text: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None
    executable_code: JsonObject | None = None
    code_execution_result: JsonObject | None = None
    tool_call: JsonObject | None = None
    tool_response: JsonObject | None = None
    thought: bool | None = None
    thought_signature: str | None = None
    video_metadata: JsonObject | None = None
    media_resolution: JsonObject | None = None
    part_metadata: JsonObject | None = None

    def is_thought(self) -> bool:
        """Whether this is a thought-summary part (shown apart from the answer)."""
        return self.thought is True


class Content(RoundTripModel):
    """A turn: ``role`` is ``user`` or ``model``."""

    role: str | None = None
    parts: list[Part] = Field(default_factory=list[Part])


# --- request ---------------------------------------------------------------------------------


class ThinkingConfig(RequestModel):
    """How much the model may think, and whether thought summaries come back."""

    thinking_budget: int | None = None
    include_thoughts: bool | None = None
    thinking_level: ThinkingLevel | None = None


class GenerationConfig(RequestModel):
    """Gemini's generation parameters (WIRE.md section 2)."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    candidate_count: int | None = None
    max_output_tokens: int | None = None
    seed: int | None = None
    stop_sequences: Annotated[list[str], Field(max_length=5)] | None = None
    response_mime_type: str | None = None
    response_schema: JsonObject | None = None
    response_json_schema: JsonValue = None
    response_modalities: list[Modality] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_logprobs: bool | None = None
    logprobs: int | None = None
    media_resolution: MediaResolution | None = None
    speech_config: JsonObject | None = None
    image_config: JsonObject | None = None
    enable_affective_dialog: bool | None = None
    enable_enhanced_civic_answers: bool | None = None
    thinking_config: ThinkingConfig | None = None


class SafetySetting(RequestModel):
    """Block content of ``category`` at or above ``threshold``."""

    category: HarmCategory
    threshold: HarmBlockThreshold


class FunctionDeclaration(RequestModel):
    """A function the model may call."""

    name: str
    description: str | None = None
    parameters: JsonObject | None = None
    parameters_json_schema: JsonValue = None
    response: JsonObject | None = None
    response_json_schema: JsonValue = None
    behavior: Literal["UNSPECIFIED", "BLOCKING", "NON_BLOCKING"] | None = None


class Tool(RequestModel):
    """Tools the model may use; the built-in kinds are passed through as objects."""

    function_declarations: list[FunctionDeclaration] | None = None
    code_execution: JsonObject | None = None
    google_search: JsonObject | None = None
    google_search_retrieval: JsonObject | None = None
    url_context: JsonObject | None = None
    file_search: JsonObject | None = None
    google_maps: JsonObject | None = None
    computer_use: JsonObject | None = None
    mcp_servers: list[JsonObject] | None = None


class FunctionCallingConfig(RequestModel):
    """How the model should use the declared functions."""

    mode: FunctionCallingMode | None = None
    allowed_function_names: list[str] | None = None


class ToolConfig(RequestModel):
    """Configuration shared by all tools in the request."""

    function_calling_config: FunctionCallingConfig | None = None
    retrieval_config: JsonObject | None = None
    include_server_side_tool_invocations: bool | None = None


class GenerateContentRequest(RequestModel):
    """The body of ``generateContent`` and ``streamGenerateContent`` (model goes in the URL)."""

    contents: list[Content]
    system_instruction: Content | None = None
    tools: list[Tool] | None = None
    tool_config: ToolConfig | None = None
    safety_settings: list[SafetySetting] | None = None
    generation_config: GenerationConfig | None = None
    cached_content: str | None = None
    service_tier: ServiceTier | None = None
    store: bool | None = None


class CountTokensRequest(RequestModel):
    """The body of ``countTokens`` as the Gemini API takes it: just the contents."""

    contents: list[Content]


# --- response --------------------------------------------------------------------------------


class ModalityTokenCount(ResponseModel):
    """Tokens of one modality."""

    modality: str | None = None
    token_count: int = 0


class UsageMetadata(ResponseModel):
    """Token counts of a reply; zero counts are left out on the wire, so they default to 0."""

    prompt_token_count: int = 0
    candidates_token_count: int = 0
    total_token_count: int = 0
    thoughts_token_count: int = 0
    cached_content_token_count: int = 0
    tool_use_prompt_token_count: int = 0
    prompt_tokens_details: list[ModalityTokenCount] | None = None
    candidates_tokens_details: list[ModalityTokenCount] | None = None


class SafetyRating(ResponseModel):
    """How likely a piece of content is to be harmful in one category."""

    category: str | None = None
    probability: str | None = None
    blocked: bool | None = None


class PromptFeedback(ResponseModel):
    """Why the prompt was blocked, if it was."""

    block_reason: str | None = None
    safety_ratings: list[SafetyRating] | None = None


class Candidate(ResponseModel):
    """One generated reply (the client asks for one)."""

    content: Content | None = None
    finish_reason: str | None = None
    finish_message: str | None = None
    index: int | None = None
    safety_ratings: list[SafetyRating] | None = None
    citation_metadata: JsonObject | None = None
    token_count: int | None = None
    avg_logprobs: float | None = None
    grounding_metadata: JsonObject | None = None
    url_context_metadata: JsonObject | None = None

    def parts(self) -> list[Part]:
        """The candidate's parts, empty when it has no content."""
        return self.content.parts if self.content is not None else []


class GenerateContentResponse(ResponseModel):
    """A whole reply, or one chunk of a streamed reply."""

    candidates: list[Candidate] | None = None
    prompt_feedback: PromptFeedback | None = None
    usage_metadata: UsageMetadata | None = None
    model_version: str | None = None
    response_id: str | None = None

    def first_candidate(self) -> Candidate | None:
        """``candidates[0]``, or None when there is none (a blocked prompt)."""
        return self.candidates[0] if self.candidates else None

    def text(self) -> str:
        """The answer text: the non-thought text parts of the first candidate, joined."""
        candidate = self.first_candidate()
        parts = candidate.parts() if candidate is not None else []
        return "".join(p.text for p in parts if p.text is not None and not p.is_thought())

    def finish_reason(self) -> str | None:
        """The first candidate's finishReason, None while a stream is still going."""
        candidate = self.first_candidate()
        return candidate.finish_reason if candidate is not None else None


class Model(ResponseModel):
    """A model as ``models.list`` / ``models.get`` describe it."""

    name: str
    base_model_id: str | None = None
    version: str | None = None
    display_name: str | None = None
    description: str | None = None
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    supported_generation_methods: list[str] = Field(default_factory=list[str])
    temperature: float | None = None
    max_temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    thinking: bool | None = None

    @property
    def id(self) -> str:
        """The bare model id (``gemini-2.5-flash``), usable as ``model``."""
        return self.name.removeprefix("models/")

    def supports(self, method: str) -> bool:
        """Whether the model lists ``method`` (e.g. ``generateContent``)."""
        return method in self.supported_generation_methods


class ListModelsResponse(ResponseModel):
    """One page of ``models.list``."""

    models: list[Model] = Field(default_factory=list[Model])
    next_page_token: str | None = None


class CountTokensResponse(ResponseModel):
    """The result of ``countTokens``."""

    total_tokens: int = 0
    cached_content_token_count: int = 0
    prompt_tokens_details: list[ModalityTokenCount] | None = None


def dump(model: BaseModel) -> JsonObject:
    """The wire JSON of a model: camelCase, no nulls."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")
