"""The terminal client's pictures with the real daemon and the emulator: `/image` in the REPL
(tmux, 120x40) and `--image` one-shot (Imagen `predict`), images drawn inline in a terminal
that says it can (a pty), the image editing loop with a Gemini image model, and another
editor's Imagen request shown in the REPL."""

from __future__ import annotations

import base64
import json
import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gemini_chat.emulator import Emulator
from gemini_chat.emulator.imagen import colour, png
from gemini_chat.emulator.state import RecordedRequest

from .conftest import StartDaemon
from .test_terminal import GEMINI_CHAT, gemini_chat, upstream_bodies
from .test_terminal_live import is_dim
from .tmux import Tmux, shows, start_repl

IMAGEN = "imagen-4.0-generate-001"
EDITOR = "gemini-2.5-flash-image"
SAVED = re.compile(r"image saved: (\S+\.png)")


@pytest.fixture
def tmux_width() -> int:
    """A 120x40 pane for this module's screens."""
    return 120


def prompt_after(text: str) -> Callable[[str], bool]:
    """`text` is on screen and the pane ends at an empty prompt after it."""
    return lambda s: text in s and s.rstrip().endswith("you>") and s.rindex(text) < s.rindex("you>")


def saved_paths(text: str) -> list[Path]:
    """The paths of the `image saved: PATH` lines, in order."""
    return [Path(p) for p in SAVED.findall(text)]


def assert_two_drawn(screen: str, request: RecordedRequest, data_dir: Path, prompt: str) -> None:
    """`request` (a recorded `:predict`) asked the default Imagen model for 2 images of
    `prompt` at 16:9, and `screen` shows them saved under the data folder (the emulator's
    PNGs) and the usage line of a first turn."""
    assert request.path == f"/v1beta/models/{IMAGEN}:predict"
    assert request.body == {
        "instances": [{"prompt": prompt}],
        "parameters": {"sampleCount": 2, "aspectRatio": "16:9", "includeRaiReason": True},
    }
    paths = saved_paths(screen)
    assert len(paths) == 2
    for index, path in enumerate(paths):
        assert path.parent == data_dir / "images"
        assert path.read_bytes() == png(88, 48, colour(prompt, index))
    assert f"{IMAGEN} · 2 images · $0.08 reply, $0.08 conversation · turn 1" in screen


async def test_image_command_asks_imagen_and_prints_the_saved_files(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path, data_dir: Path
):
    """`/image -n 2 --aspect 16:9 PROMPT`: while the emulator holds the predict request the
    status line says `drawing 2 images…` (dim, as another editor's request says it); the
    emulator gets one predict request for the default Imagen model with sampleCount 2 and
    aspectRatio 16:9; the REPL prints two `image saved: PATH` lines naming PNG files under the
    data folder holding the emulator's images, then the usage line (2 images, $0.04 each, the
    conversation's total) and no drawing line; /history shows the prompt with its Imagen line
    and the paths."""
    await start_repl(tmux, server_env, workspace)
    prompt = "a lighthouse at dusk"
    emulator.script({"delay": 3})  # held long enough to read the status line
    tmux.type(f"/image -n 2 --aspect 16:9 {prompt}")
    screen = await shows(tmux, "drawing 2 images…", "the request drawing")
    assert is_dim(tmux.raw_screen(), "drawing 2 images…")
    assert "turn 1" not in screen, "seen while :predict was held"
    screen = await shows(tmux, prompt_after("turn 1"), "the images and the usage line")
    assert "drawing" not in screen
    [request] = emulator.requests(":predict")
    assert_two_drawn(screen, request, data_dir, prompt)
    paths = saved_paths(screen)
    tmux.type("/history")
    screen = await shows(tmux, prompt_after(f"Imagen · 2 images · 16:9 · {IMAGEN}"), "history")
    listed = screen.split("/history", 1)[1]
    assert f"you> {prompt}" in listed
    assert saved_paths(listed) == paths


async def test_bad_image_options_say_how_it_goes(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """`/image -n 7 ...` and `/image` without a prompt are refused in the REPL with the usage;
    nothing reaches the API."""
    await start_repl(tmux, server_env, workspace)
    tmux.type("/image -n 7 a cat")
    await shows(tmux, prompt_after("-n takes 1 to 4 images, not 7"), "the count refused")
    tmux.type("/image --aspect 16:9")
    screen = await shows(tmux, prompt_after("what should the image show?"), "no prompt")
    assert "/image [-n 1-4] [--aspect" in screen
    assert emulator.requests(":predict") == []


def test_one_shot_image_prints_only_the_paths(
    emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """`gemini-chat --image -n 2 --aspect 9:16 --model imagen-4.0-fast-generate-001 PROMPT`
    piped: stdout is the two image paths, one a line, both existing PNGs; the usage line is on
    stderr; predict went to the named model with the count and ratio."""
    fast = "imagen-4.0-fast-generate-001"
    result = gemini_chat(
        "--image", "-n", "2", "--aspect", "9:16", "--model", fast, "a red fox",
        env=server_env, cwd=workspace,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert len(paths) == 2 and all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    assert f"{fast} · 2 images" in result.stderr
    [request] = emulator.requests(":predict")
    assert request.path == f"/v1beta/models/{fast}:predict"
    assert request.body["parameters"]["sampleCount"] == 2  # type: ignore[index]
    assert request.body["parameters"]["aspectRatio"] == "9:16"  # type: ignore[index]


def run_in_pty(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run gemini-chat with a pseudo-terminal as stdin, stdout and stderr; all it wrote."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [str(GEMINI_CHAT), *args], env=env, cwd=cwd, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    process.wait(10)
    os.close(master)
    assert process.returncode == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


def kitty_payload(output: str) -> str:
    """The base64 of the first image drawn with kitty's protocol: its chunks joined, the first
    one asking to draw a PNG 12 rows tall, quietly (no answer from the terminal)."""
    parts = re.findall(r"\x1b_G([^;]*);([^\x1b]*)\x1b\\", output)
    assert parts, "a kitty graphics sequence"
    assert parts[0][0].startswith("a=T,f=100,q=2,r=12,m=")
    data = ""
    for keys, chunk in parts:
        data += chunk
        if keys.endswith("m=0"):
            break
    return data


@pytest.mark.parametrize(
    ("terminal", "args", "drawn"),
    [
        ({"TERM_PROGRAM": "iTerm.app"}, [], "iterm"),
        ({"TERM": "xterm-kitty"}, [], "kitty"),
        ({"TERM_PROGRAM": "iTerm.app", "TMUX": "/tmp/tmux-1/default,1,0"}, [], None),
        ({"TERM_PROGRAM": "iTerm.app"}, ["--no-inline-images"], None),
        ({"TERM_PROGRAM": "Apple_Terminal"}, [], None),
    ],
    ids=["iterm2", "kitty", "inside-tmux", "option-off", "other-terminal"],
)
def test_images_are_drawn_only_where_the_terminal_says_it_can(
    terminal: dict[str, str],
    args: list[str],
    drawn: str | None,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
):
    """`--image` on a terminal (a pty): iTerm2 and kitty get the saved file's bytes in their
    own inline-image sequence (12 lines tall) after `image saved: PATH`; inside tmux, with
    --no-inline-images, or in another terminal only the path is written."""
    env = {k: v for k, v in server_env.items() if k not in ("TMUX", "STY", "TERM_PROGRAM")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40", **terminal})
    output = run_in_pty(["--image", *args, "a blue door"], env, workspace)
    [path] = saved_paths(output)
    data = base64.b64encode(path.read_bytes()).decode()
    if drawn == "iterm":
        size = path.stat().st_size
        head = f"\x1b]1337;File=inline=1;size={size};height=12;preserveAspectRatio=1:"
        assert f"{head}{data}\x07" in output
    elif drawn == "kitty":
        assert kitty_payload(output) == data
    else:
        assert "\x1b]1337" not in output and "\x1b_G" not in output
    assert output.index("image saved:") < output.index(f"{IMAGEN} · 1 image")


async def test_editing_an_attached_photo_then_the_latest_edit(
    tmux: Tmux, emulator: Emulator, server_env: dict[str, str], workspace: Path
):
    """With a chat model no image output is asked for. `/model gemini-2.5-flash-image` says it
    is an image model (questions ask for text and images back); then
    `@photo.png make it blue` sends the photo as inline data with TEXT+IMAGE modalities and
    prints the edited image's path (the file holds the emulator's image); `now make it round`
    sends the blue image back as the model's inlineData and prints the next edit's path."""
    red, blue, round_blue = (png(8, 8, c) for c in ((255, 0, 0), (0, 0, 255), (0, 0, 254)))
    (workspace / "photo.png").write_bytes(red)
    b64 = [base64.b64encode(i).decode() for i in (red, blue, round_blue)]
    await start_repl(tmux, server_env, workspace)
    tmux.type("hello")
    await shows(tmux, prompt_after("turn 1"), "a plain turn")
    assert "responseModalities" not in json.dumps(upstream_bodies(emulator)[-1])
    tmux.type(f"/model {EDITOR}")
    await shows(tmux, prompt_after("@photo.png edits it)"), "the image model, said so")
    emulator.script(
        {"reply": "Here it is in blue.", "image": {"mimeType": "image/png", "data": b64[1]}},
        {"reply": "Now round.", "image": {"mimeType": "image/png", "data": b64[2]}},
    )
    tmux.type("@photo.png make it blue")
    screen = await shows(tmux, prompt_after("turn 2"), "the first edit")
    body = upstream_bodies(emulator)[-1]
    assert body["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"]}
    last = body["contents"][-1]["parts"]  # type: ignore[index]
    assert {"inlineData": {"mimeType": "image/png", "data": b64[0]}} in last
    [first] = saved_paths(screen.split("make it blue", 1)[1])
    assert first.read_bytes() == blue
    tmux.type("now make it round")
    screen = await shows(tmux, prompt_after("turn 3"), "the second edit")
    body = upstream_bodies(emulator)[-1]
    assert body["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"]}
    model_turn = body["contents"][-2]  # type: ignore[index]
    assert model_turn["role"] == "model"
    assert {"inlineData": {"mimeType": "image/png", "data": b64[1]}} in model_turn["parts"]
    [second] = saved_paths(screen.split("make it round", 1)[1])
    assert second.read_bytes() == round_blue


async def test_another_editors_imagen_request_shows_as_one_while_it_draws(
    tmux: Tmux,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    daemons: StartDaemon,
):
    """Another editor's gemini/generateImage (2 images, 16:9) while the emulator holds its
    `:predict`: the idle REPL shows the header, its prompt, under it the dim Imagen line
    (`Imagen · 2 images · 16:9 · MODEL`, the model it was sent to) and the status line
    `drawing 2 images…`, and no `gemini>` reply. Once Imagen answers: an `image saved: PATH`
    line per image (the paths of its result, carried by the `finished` turnProgress), the end
    line, and no drawing line."""
    await start_repl(tmux, server_env, workspace)
    other = await daemons()
    emulator.script({"delay": 8})  # held long enough to look; checked below that it was
    prompt = "a quiet harbour"
    _id, answer = other.send(
        "gemini/generateImage", {"prompt": prompt, "numberOfImages": 2, "aspectRatio": "16:9"}
    )
    screen = await shows(tmux, "drawing 2 images…", "the other editor's request drawing")
    mirrored = screen.split("── from another editor ──", 1)[1]
    assert mirrored.startswith(
        f"\nyou> {prompt}\n  Imagen · 2 images · 16:9 · {IMAGEN}\ndrawing 2 images…"
    )
    assert "gemini>" not in mirrored
    raw = tmux.raw_screen()
    assert is_dim(raw, "Imagen · 2 images") and is_dim(raw, "drawing 2 images")
    assert not answer.done(), "all of it seen while :predict was held"
    result = await answer
    screen = await shows(tmux, prompt_after("from another editor · turn 1"), "the mirrored images")
    mirrored = screen.split("── from another editor ──", 1)[1]
    assert f"you> {prompt}\n  Imagen · 2 images · 16:9 · {IMAGEN}\n  image saved: " in mirrored
    assert saved_paths(mirrored) == [Path(i["path"]) for i in result["images"]]
    assert "drawing" not in mirrored and "gemini>" not in mirrored
