"""The emulator's Imagen `predict` over real HTTP: catalog, deterministic PNGs, checks, filters."""

from __future__ import annotations

import base64
import json
import struct
import warnings
import zlib

import httpx
import pytest
from google import genai
from google.genai import models as sdk_models
from google.genai import types

from conftest import EMULATOR_KEY
from gemini_chat.emulator import Emulator

IMAGEN = "/v1beta/models/imagen-4.0-generate-001"
IMAGEN_IDS = {
    "imagen-4.0-generate-001",
    "imagen-4.0-ultra-generate-001",
    "imagen-4.0-fast-generate-001",
}


def _predict(client: httpx.Client, prompt: str = "A red fox", **params: object) -> httpx.Response:
    return client.post(
        f"{IMAGEN}:predict", json={"instances": [{"prompt": prompt}], "parameters": params}
    )


def _message(r: httpx.Response) -> str:
    return str(r.json()["error"]["message"])


def decode_png(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the set of distinct RGB pixels of an 8-bit RGB PNG, checking CRCs."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in {kind!r}"
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    assert list(chunks)[-1] == b"IEND"
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 3 * width
    assert len(raw) == stride * height
    pixels = set()
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0  # filter type None
        pixels |= {row[1 + 3 * x : 4 + 3 * x] for x in range(width)}
    return width, height, pixels


def _images(r: httpx.Response) -> list[bytes]:
    assert r.status_code == 200, r.text
    return [base64.b64decode(p["bytesBase64Encoded"]) for p in r.json()["predictions"]]


def test_imagen_models_are_predict_only(client: httpx.Client) -> None:
    """models.list holds the imagen-* models with supportedGenerationMethods ["predict"];
    predict refuses other models and generateContent refuses imagen, with the API's 404."""
    models = client.get("/v1beta/models", params={"pageSize": 1000}).json()["models"]
    imagen = {m["name"].removeprefix("models/"): m for m in models if "imagen" in m["name"]}
    assert set(imagen) == IMAGEN_IDS
    assert all(m["supportedGenerationMethods"] == ["predict"] for m in imagen.values())
    flash = client.post(
        "/v1beta/models/gemini-2.5-flash:predict", json={"instances": [{"prompt": "x"}]}
    )
    assert flash.status_code == 404
    assert "not supported for predict" in _message(flash)
    text = {"contents": [{"parts": [{"text": "x"}]}]}
    assert client.post(f"{IMAGEN}:generateContent", json=text).status_code == 404


@pytest.mark.parametrize(
    ("ratio", "size"),
    [
        ("1:1", (64, 64)),
        ("3:4", (56, 80)),
        ("4:3", (80, 56)),
        ("9:16", (48, 88)),
        ("16:9", (88, 48)),
    ],
)
def test_images_are_deterministic_solid_pngs_sized_by_ratio(
    client: httpx.Client, ratio: str, size: tuple[int, int]
) -> None:
    """Each image is a valid PNG of one colour, sized 1/16 of Imagen 4's for the aspect ratio;
    the same prompt gives the same images, each index its own colour."""
    first = _images(_predict(client, sampleCount=3, aspectRatio=ratio))
    assert first == _images(_predict(client, sampleCount=3, aspectRatio=ratio))
    decoded = [decode_png(image) for image in first]
    assert all((w, h) == size and len(pixels) == 1 for w, h, pixels in decoded)
    assert len({next(iter(pixels)) for _, _, pixels in decoded}) == 3
    other = _images(_predict(client, "A blue whale", sampleCount=1, aspectRatio=ratio))
    assert other[0] != first[0]


def test_defaults_and_options(client: httpx.Client) -> None:
    """Without parameters: 4 square PNGs with mimeType image/png; sampleImageSize 2K doubles
    the size; the other Gemini API parameters are accepted."""
    r = client.post(f"{IMAGEN}:predict", json={"instances": [{"prompt": "A cat"}]})
    predictions = r.json()["predictions"]
    assert [p["mimeType"] for p in predictions] == ["image/png"] * 4
    big = _images(_predict(client, sampleCount=1, sampleImageSize="2K", aspectRatio="16:9"))
    assert decode_png(big[0])[:2] == (176, 96)
    accepted = _predict(
        client,
        sampleCount=1,
        personGeneration="dont_allow",
        includeSafetyAttributes=True,
        guidanceScale=7,
        language="en",
        outputOptions={"mimeType": "image/png"},
    )
    assert accepted.status_code == 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"instances": [{"prompt": "x"}], "parameters": {"sampleCount": 0}}, "from 1 to 4"),
        ({"instances": [{"prompt": "x"}], "parameters": {"sampleCount": 5}}, "from 1 to 4"),
        ({"instances": [{"prompt": "x"}], "parameters": {"sampleCount": "2"}}, "from 1 to 4"),
        ({"instances": [{"prompt": "x"}], "parameters": {"aspectRatio": "2:1"}}, "aspect ratio"),
        ({"instances": [{"prompt": "x"}], "parameters": {"seed": 3}}, "seed parameter"),
        ({"instances": [{"prompt": "x"}], "parameters": {"personGeneration": "all"}}, "person"),
        ({"instances": [{"prompt": "x"}], "parameters": {"sampleImageSize": "4K"}}, "1K"),
        (
            {
                "instances": [{"prompt": "x"}],
                "parameters": {"outputOptions": {"mimeType": "image/jpeg"}},
            },
            "image/png only",
        ),
        ({"instances": [{"prompt": "x"}, {"prompt": "y"}]}, "exactly one instance"),
        ({"instances": []}, "exactly one instance"),
        ({"instances": [{"prompt": "  "}]}, "non-empty"),
        ({"instances": [{"text": "x"}]}, "non-empty"),
        ({"instances": {"prompt": "x"}}, "Invalid value at 'instances'"),
        ({"instances": [{"prompt": "x"}], "extra": 1}, 'Unknown name "extra"'),
    ],
)
def test_bad_requests_are_400s(client: httpx.Client, body: dict, expected: str) -> None:
    """Counts outside 1-4, unknown ratios and parameters, bad instances: 400 INVALID_ARGUMENT;
    the document's schema (PredictRequest) is checked first."""
    r = client.post(f"{IMAGEN}:predict", json=body)
    assert (r.status_code, r.json()["error"]["status"]) == (400, "INVALID_ARGUMENT")
    assert expected in _message(r)


def test_key_and_token_limit(client: httpx.Client, emulator: Emulator) -> None:
    """predict needs the key; a prompt over the model's 480-token limit is the API's 400 and
    uses up no script step."""
    no_key = httpx.post(f"{emulator.url}{IMAGEN}:predict", json={"instances": [{"prompt": "x"}]})
    assert no_key.status_code == 403
    emulator.script({"status": 503})
    long = _predict(client, "word " * 400, sampleCount=1)
    assert _message(long) == (
        "The input token count (500) exceeds the maximum number of tokens allowed (480)."
    )
    assert _predict(client, sampleCount=1).status_code == 503


def test_scripted_filters_and_errors(client: httpx.Client, emulator: Emulator) -> None:
    """imageBlock "prompt" is the API's Responsible-AI 400; "output" filters every image
    (reasons only with includeRaiReason, else {}); imagesFiltered drops some; status errors."""
    emulator.script(
        {"imageBlock": "prompt"},
        {"imageBlock": "output"},
        {"imageBlock": "output"},
        {"imagesFiltered": 1},
        {"status": 429, "retryDelay": "4s"},
    )
    refused = _predict(client, sampleCount=2)
    assert refused.status_code == 400
    assert _message(refused).startswith("Image generation failed with the following error: ")
    assert "Responsible AI practices" in _message(refused)
    with_reasons = _predict(client, sampleCount=2, includeRaiReason=True).json()
    reasons = [p["raiFilteredReason"] for p in with_reasons["predictions"]]
    assert len(reasons) == 2 and reasons[0].startswith("Unable to show generated images.")
    assert all(set(p) == {"raiFilteredReason"} for p in with_reasons["predictions"])
    assert _predict(client, sampleCount=2).json() == {}
    some = _predict(client, sampleCount=3, includeRaiReason=True).json()["predictions"]
    assert [("bytesBase64Encoded" in p, "raiFilteredReason" in p) for p in some] == [
        (True, False),
        (True, False),
        (False, True),
    ]
    assert _predict(client, sampleCount=1).status_code == 429
    with pytest.raises(ValueError, match="imageBlock"):
        emulator.script({"imageBlock": "everything"})


def test_google_genai_sdk_builds_and_reads_predict(emulator: Emulator) -> None:
    """google-genai 3.x keeps its Imagen request builder and response parser only on its Vertex
    path (its Developer-API generate_images refuses before any I/O), so the SDK's own builder,
    transport and parser are driven directly against predict: they agree with the emulator."""
    client = genai.Client(
        api_key=EMULATOR_KEY,
        http_options=types.HttpOptions(base_url=emulator.url, api_version="v1beta"),
    )
    model = "imagen-4.0-generate-001"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK marks generate_images deprecated
        with pytest.raises(ValueError, match="not in Gemini Developer API mode"):
            # Should the SDK serve Imagen on the Developer API again, use it here instead.
            client.models.generate_images(model=model, prompt="x")
    config = types.GenerateImagesConfig(
        number_of_images=2, aspect_ratio="4:3", include_rai_reason=True
    )
    params = types._GenerateImagesParameters(model=model, prompt="A lighthouse", config=config)
    body = sdk_models._GenerateImagesParameters_to_vertex(client._api_client, params, None, params)
    body.pop("_url")
    assert body == {
        "instances": [{"prompt": "A lighthouse"}],
        "parameters": {"sampleCount": 2, "aspectRatio": "4:3", "includeRaiReason": True},
    }
    raw = client._api_client.request("post", f"models/{model}:predict", body)
    parsed = types.GenerateImagesResponse._from_response(
        response=sdk_models._GenerateImagesResponse_from_vertex(json.loads(raw.body), None, params),
        kwargs={},
    )
    images = [g.image for g in parsed.generated_images or [] if g.image is not None]
    assert [i.mime_type for i in images] == ["image/png", "image/png"]
    assert all(decode_png(i.image_bytes or b"")[:2] == (80, 56) for i in images)
    too_many = types._GenerateImagesParameters(
        model=model, prompt="x", config=types.GenerateImagesConfig(number_of_images=9)
    )
    bad = sdk_models._GenerateImagesParameters_to_vertex(
        client._api_client, too_many, None, too_many
    )
    bad.pop("_url")
    with pytest.raises(genai.errors.ClientError) as info:
        client._api_client.request("post", f"models/{model}:predict", bad)
    assert info.value.code == 400
    assert "from 1 to 4" in str(info.value.message)
