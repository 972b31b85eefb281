"""`/retry` of an interrupted Imagen request in the REPL (tmux, 120x40): another editor's real
daemon on the same folder and data dir is killed while the emulator holds its `:predict`; the
REPL's own daemon then offers the request back, and /retry draws it again as /image would."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from gemini_chat.emulator import Emulator
from polling import until

from .conftest import StartDaemon
from .test_terminal_images import IMAGEN, assert_two_drawn, prompt_after
from .tmux import Tmux, shows, start_repl

PROMPT = "a lighthouse at dusk"


@pytest.fixture
def tmux_width() -> int:
    """A 120x40 pane: an `image saved: PATH` line fits on one row."""
    return 120


async def test_an_interrupted_image_request_is_drawn_again_by_retry(
    tmux: Tmux,
    emulator: Emulator,
    server_env: dict[str, str],
    workspace: Path,
    data_dir: Path,
    daemons: StartDaemon,
):
    """The other editor's `gemini/generateImage` (2 images, 16:9) is killed (SIGKILL) while the
    emulator delays its `:predict`: the REPL's note says the other editor stopped before the
    images came and that /retry draws again (not "asks again"); /history shows the prompt with
    its Imagen line and that /retry draws again; /retry sends one more `:predict` (and no
    generate request) to the same model with the prompt, sampleCount 2 and 16:9, and shows the
    two saved PNGs (the emulator's images for the prompt) and the usage line as /image does."""
    await start_repl(tmux, server_env, workspace)
    other = await daemons()
    emulator.script({"delay": 30})
    other.send(
        "gemini/generateImage", {"prompt": PROMPT, "numberOfImages": 2, "aspectRatio": "16:9"}
    )
    await until(lambda: emulator.requests(":predict"), "the other daemon's predict request")
    await shows(tmux, f"you> {PROMPT}", "the other editor's request mirrored")
    os.kill(other.process.pid, signal.SIGKILL)
    screen = await shows(tmux, prompt_after("the other editor stopped"), "the interruption")
    assert (
        "(the other editor stopped before the images came: /history shows the request, "
        "/retry draws again)" in screen
    )
    assert "asks again" not in screen
    tmux.type("/history")
    note = f"Imagen · 2 images · 16:9 · {IMAGEN}"
    listed = prompt_after("/retry draws again")  # as the live note says it too: after /history
    screen = await shows(
        tmux, lambda s: listed(s.partition("you> /history")[2]), "the interrupted request"
    )
    shown = screen.split("you> /history", 1)[1]
    assert "── interrupted at " in shown
    assert f"you> {PROMPT}\n  {note}\n" in shown
    assert "gemini>" not in shown  # no reply to show: an image request streams none
    tmux.type("/retry")
    screen = await shows(tmux, prompt_after("turn 1"), "the images drawn again")
    drawn = screen.split("you> /retry", 1)[1]
    assert f"you> {PROMPT}\n  {note}\n" in drawn
    first, again = emulator.requests(":predict")
    assert again.path == first.path
    assert emulator.requests("enerateContent") == []
    assert_two_drawn(drawn, again, data_dir, PROMPT)
