"""The terminal client's `/image` options, image editing's model test, inline image sequences,
JSON mode (schema files, what is shown, the check's verdict) and the completion of both."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from gemini_chat.terminal import imaging
from gemini_chat.terminal.editor import LineEditor, complete
from gemini_chat.terminal.structured import JsonMode, reply_source, schema_files, verdict

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.mark.parametrize(
    ("arg", "prompt", "params"),
    [
        ("a cat", "a cat", {}),
        ("-n 2 --aspect 16:9 a cat's hat", "a cat's hat",
         {"numberOfImages": 2, "aspectRatio": "16:9"}),
        ("--count=3 -a 9:16 -m imagen-4.0-ultra-generate-001 x", "x",
         {"numberOfImages": 3, "aspectRatio": "9:16", "model": "imagen-4.0-ultra-generate-001"}),
        ("-- -n is part of it", "-n is part of it", {}),
    ],
)  # fmt: skip
def test_image_options_lead_the_prompt(arg: str, prompt: str, params: dict[str, object]):
    """Options (and their aliases, `=` forms) before the prompt become generateImage params;
    `--` ends them; the prompt is kept as typed (an apostrophe is no quote)."""
    assert imaging.parse(arg) == (prompt, params)


@pytest.mark.parametrize(
    ("arg", "words"),
    [
        ("-n 5 a cat", "1 to 4"),
        ("--aspect 2:1 a cat", "1:1, 3:4"),
        ("--size 2 a cat", "unknown option --size"),
        ("-n 2", "what should the image show?"),
        ("", "what should the image show?"),
    ],
)
def test_bad_image_options_say_why(arg: str, words: str):
    """A count or ratio Imagen does not take, an unknown option, no prompt: ValueError saying
    which, before anything is sent."""
    with pytest.raises(ValueError, match=words.replace("?", r"\?")):
        imaging.parse(arg)


@pytest.mark.parametrize(
    ("model", "edits"),
    [
        ("gemini-2.5-flash-image", True),
        ("gemini-3-pro-image-preview", True),
        ("gemini-2.5-flash", False),
        ("imagen-4.0-generate-001", False),
        ("", False),
    ],
)
def test_gemini_image_models_edit_images(model: str, edits: bool):
    """Gemini's image models (name says image, not Imagen) are asked for images back."""
    assert imaging.edits_images(model) is edits


@pytest.mark.parametrize(
    ("env", "protocol"),
    [
        ({"TERM": "xterm-kitty"}, "kitty"),
        ({"KITTY_WINDOW_ID": "1", "TERM": "xterm-256color"}, "kitty"),
        ({"TERM_PROGRAM": "ghostty"}, "kitty"),
        ({"TERM_PROGRAM": "iTerm.app"}, "iterm"),
        ({"TERM_PROGRAM": "WezTerm"}, "iterm"),
        ({"TERM_PROGRAM": "iTerm.app", "TMUX": "/tmp/t,1,0"}, None),
        ({"TERM": "xterm-kitty", "STY": "1.pts"}, None),
        ({"TERM": "screen-256color", "TERM_PROGRAM": "WezTerm"}, None),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "vscode"}, None),
        ({}, None),
    ],
)
def test_inline_images_only_where_the_terminal_names_itself(
    env: dict[str, str], protocol: str | None
):
    """kitty and Ghostty get kitty's protocol, iTerm2 and WezTerm iTerm2's; tmux, screen
    and every other terminal none."""
    assert imaging.inline_protocol(env) == protocol


def test_inline_sequences_carry_the_file(tmp_path: Path):
    """iTerm2: one OSC 1337 with the size, height and the file's base64; kitty: APC chunks of
    at most 4096 base64 characters, the first asking to draw a PNG quietly, the last m=0;
    kitty skips a JPEG, and a missing file or no protocol draws nothing."""
    path = tmp_path / "a.png"
    path.write_bytes(PNG * 400)  # large enough for several kitty chunks
    data = base64.b64encode(path.read_bytes()).decode()
    iterm = imaging.inline_image("iterm", path, "image/png", rows=5)
    assert iterm == (
        f"\x1b]1337;File=inline=1;size={path.stat().st_size};height=5;preserveAspectRatio=1:"
        f"{data}\x07"
    )
    kitty = imaging.inline_image("kitty", path, "image/png")
    chunks = [c for c in kitty.split("\x1b\\") if c]
    assert chunks[0].startswith("\x1b_Ga=T,f=100,q=2,r=12,m=1;")
    assert chunks[-1].startswith("\x1b_Gm=0;")
    assert "".join(c.split(";", 1)[1] for c in chunks) == data
    assert all(len(c.split(";", 1)[1]) <= 4096 for c in chunks)
    assert imaging.inline_image("kitty", path, "image/jpeg") == ""
    assert imaging.inline_image("iterm", tmp_path / "gone.png", "image/png") == ""
    assert imaging.inline_image(None, path, "image/png") == ""


def test_an_interrupted_image_request_is_asked_again_with_its_options():
    """`gemini/history`'s interrupted `image` becomes /image's options: count, model and ratio
    kept, a field the request does not take (or a null) left out."""
    image = {"numberOfImages": 2, "model": "imagen-4.0-generate-001", "aspectRatio": "16:9"}
    assert imaging.asked_again({**image, "other": 1}) == image
    assert imaging.asked_again({"numberOfImages": 1, "aspectRatio": None}) == {"numberOfImages": 1}


def test_history_markers_in_words():
    """History's imagen marker, the drawing line of an image request (one image when the
    count is left out) and filtered reasons as the REPL prints them."""
    note = imaging.imagen_note(
        {"model": "imagen-4.0-generate-001", "numberOfImages": 2, "aspectRatio": "16:9"}
    )
    assert note == "Imagen · 2 images · 16:9 · imagen-4.0-generate-001"
    assert imaging.drawing({"numberOfImages": 2}) == "drawing 2 images…"
    assert imaging.drawing({"model": "imagen-4.0-generate-001"}) == "drawing 1 image…"
    assert imaging.filtered_lines({"filtered": ["unsafe"]}) == ["an image was filtered out: unsafe"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder with schemas at two depths, one in a skipped folder, and plain JSON."""
    (tmp_path / "api" / "v1").mkdir(parents=True)
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "person.schema.json").write_text(json.dumps({"type": "object"}))
    (tmp_path / "api" / "v1" / "order.schema.json").write_text("{}")
    (tmp_path / "node_modules" / "dep.schema.json").write_text("{}")
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "broken.schema.json").write_text("{nope")
    return tmp_path


def test_schema_files_are_found_shallow_first(folder: Path):
    """`*.schema.json` of the folder, shallowest first, not in node_modules, no plain JSON."""
    assert schema_files(folder) == [
        "broken.schema.json",
        "person.schema.json",
        "api/v1/order.schema.json",
    ]


def test_json_mode_toggles_and_reads_the_schema_each_time(folder: Path):
    """`/json FILE` checks the file at once and turns the mode on (label `json: person`); the
    schema is read for each question, so an edit applies; `/json` alone asks for any JSON;
    `/json off` ends it; a file that is not JSON or missing is refused, naming it."""
    mode = JsonMode(folder)
    assert mode.request() is None and mode.label() == ""
    assert "matching person.schema.json" in mode.set("person.schema.json")
    assert (mode.label(), mode.shown()) == ("json: person", "person.schema.json")
    assert mode.request() == {"schema": {"type": "object"}}
    (folder / "person.schema.json").write_text('{"type": "array"}')
    assert mode.request() == {"schema": {"type": "array"}}
    mode.set("")
    assert (mode.label(), mode.request()) == ("json", {})
    mode.set("off")
    assert mode.request() is None
    with pytest.raises(ValueError, match=r"broken\.schema\.json is not JSON"):
        mode.set("broken.schema.json")
    with pytest.raises(ValueError, match="no such file"):
        mode.set("gone.schema.json")
    assert not mode.on


def test_a_json_reply_is_shown_pretty_on_a_terminal_and_exact_elsewhere():
    """On a terminal the parsed value is indented in a ```json block (highlighted by the
    Markdown renderer); a reply that did not parse is fenced as it came (a longer fence when
    it holds one); without a terminal the text is exactly the model's."""
    result = {"text": '{"a":[1,2]}', "json": {"valid": True, "errors": [], "value": {"a": [1, 2]}}}
    pretty = '```json\n{\n  "a": [\n    1,\n    2\n  ]\n}\n```\n'
    assert reply_source(result, terminal=True) == pretty
    assert reply_source(result, terminal=False) == '{"a":[1,2]}'
    broken = {"text": "see ```x```", "json": {"valid": False, "errors": ["The reply is not JSON"]}}
    assert reply_source(broken, terminal=True) == "````\nsee ```x```\n````\n"


def test_the_checks_verdict_in_lines():
    """Valid: one dim line naming the schema; a mismatch: a warning line and each error
    indented; not JSON: the daemon's reason; not a JSON turn: nothing."""
    assert verdict({"json": {"valid": True, "errors": [], "value": 1}}, "p.schema.json") == [
        ("✓ valid JSON, matches p.schema.json", False)
    ]
    mismatch = {"json": {"valid": False, "errors": ["$.age: -1 < 0"], "value": {}}}
    assert verdict(mismatch, "p.schema.json") == [
        ("✗ the reply does not match p.schema.json:", True),
        ("  $.age: -1 < 0", True),
    ]
    unparsed = {"json": {"valid": False, "errors": ["The reply is not JSON: x"]}}
    assert verdict(unparsed, "") == [("✗ The reply is not JSON: x", True)]
    assert verdict({"text": "hi"}, "") == []


def texts(folder: Path, before: str, images: list[str] | None = None) -> list[str]:
    """The completions offered for the text before the cursor."""
    editor = LineEditor("you> ", "...> ", folder, lambda _wait: [])
    editor.image_models = lambda _wait: images or []
    return [c.text for c in complete(editor, before)]


def test_completion_of_image_options_and_values(folder: Path):
    """`/image ` offers its options; a given one is not offered again; after `-n` the
    counts, after `--aspect` the ratios, after `--model` the Imagen models; nothing once the
    prompt has begun."""
    assert texts(folder, "/image ") == ["-n", "--aspect", "--model"]
    assert texts(folder, "/image -n 2 -") == ["--aspect", "--model"]
    assert texts(folder, "/image -n ") == ["1", "2", "3", "4"]
    assert texts(folder, "/image --aspect 1") == ["1:1", "16:9"]
    assert texts(folder, "/image --aspect=16:9 --model i", ["imagen-4.0-generate-001"]) == [
        "imagen-4.0-generate-001"
    ]
    assert texts(folder, "/image a cat -") == []
    assert texts(folder, "/im") == ["/image"]


def test_completion_of_json_schema_files(folder: Path):
    """`/json ` offers `off` and the schema files; a prefix narrows them; a path that is none
    of them completes as a path."""
    assert texts(folder, "/json ") == [
        "off",
        "broken.schema.json",
        "person.schema.json",
        "api/v1/order.schema.json",
    ]
    assert texts(folder, "/json api") == ["api/v1/order.schema.json"]
    assert texts(folder, "/json packa") == ["package.json"]


def test_typing_after_json_looks_through_the_folder_once_and_again_on_tab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The completer runs on the prompt's loop at every keystroke: in a folder of 1,500
    folders, four keystrokes after `/json` open at most 1,000 folders in all (listed once, the
    walk capped; a path that names no schema file reads its own folder), and a schema file made
    since shows only once Tab asks again."""
    for index in range(1500):
        (tmp_path / f"d{index:04}").mkdir()
    (tmp_path / "a.schema.json").write_text("{}")
    opened: list[object] = []
    real = os.scandir

    def counting(path: str = ".") -> object:
        opened.append(path)
        return real(path)

    monkeypatch.setattr(os, "scandir", counting)
    editor = LineEditor("you> ", "...> ", tmp_path, lambda _wait: [])
    for typed in ("/json ", "/json d", "/json d0", "/json d00"):
        list(complete(editor, typed))
    assert len(opened) <= 1000 + 3
    (tmp_path / "b.schema.json").write_text("{}")
    assert [c.text for c in complete(editor, "/json ")] == ["off", "a.schema.json"]
    tabbed = [c.text for c in complete(editor, "/json ", wait=True)]
    assert tabbed == ["off", "a.schema.json", "b.schema.json"]
