"""Pictures in the Neovim plugin, in real Neovim 0.11 against the real daemon and the emulator's
Imagen `predict`: `:GeminiChatImage` as a turn of the folder's conversation (shown, stored,
queued, refused, seen from another editor), the image editing loop with a Gemini image model,
and an image plugin (snacks.image) used when it is there and never loaded."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from gemini_chat.emulator import Emulator
from gemini_chat.emulator.imagen import colour, png

from .nvim_helpers import NvimChat, OtherEditor, generate_bodies, start_nvim

IMAGEN = "imagen-4.0-generate-001"
"""The first Imagen model the emulator lists: the daemon's choice without an imageModel."""
EDITOR = "gemini-2.5-flash-image"
IMAGE_LINE = re.compile(r"^!\[image\]\(<?([^<>)]+)>?\)$", re.M)


def image_paths(text: str) -> list[Path]:
    """The files of the chat's image lines, in order."""
    return [Path(p) for p in IMAGE_LINE.findall(text)]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_an_imagen_request_is_a_turn_with_its_pictures(
    nvim: NvimChat, emulator: Emulator, data_dir: Path, server_env: dict[str, str], tmp_path: Path
) -> None:
    """`:GeminiChatImage 2x 16:9 a lighthouse at dusk` asks predict for 2 images at 16:9;
    while the emulator holds it, the reply's dim line under `## Gemini` is "⋯ drawing 2
    images…" and the winbar says "drawing 2 images…" (as for another editor's request; not
    "waiting for Gemini" nor "replying"). Then the chat shows the prompt with a dim "🎨 Imagen
    · 2 images · 16:9" line, the two saved files (the emulator's 88x48 PNGs of the prompt) as
    image lines, and the usage line with the count, the model and the cost ($0.04 an image),
    and the winbar no longer says drawing; a second Neovim on the store shows the same exchange
    from the history."""
    prompt = "a lighthouse at dusk"
    emulator.script({"delay": 3})  # held long enough to look
    nvim.cmd(f"GeminiChatImage 2x 16:9 {prompt}")
    nvim.wait_winbar("drawing 2 images…")
    assert "replying" not in nvim.winbar()
    assert nvim.virt_text(nvim.line_of("## Gemini") + 1) == "⋯ drawing 2 images…"
    assert "_2 images" not in nvim.chat_text(), "seen while :predict was held"
    nvim.wait_text("_2 images")
    nvim.wait_idle()
    assert "drawing" not in nvim.winbar()
    [request] = emulator.requests(":predict")
    assert request.path == f"/v1beta/models/{IMAGEN}:predict"
    assert request.body["instances"] == [{"prompt": prompt}]  # type: ignore[index]
    assert request.body["parameters"]["sampleCount"] == 2  # type: ignore[index]
    assert request.body["parameters"]["aspectRatio"] == "16:9"  # type: ignore[index]
    text = nvim.chat_text()
    paths = image_paths(text)
    assert len(paths) == 2
    for index, path in enumerate(paths):
        assert path.parent == data_dir / "images"
        assert path.read_bytes() == png(88, 48, colour(prompt, index))
    exchange = (
        f"## You\n{prompt}\n🎨 Imagen · 2 images · 16:9\n\n## Gemini\n"
        f"![image]({paths[0]})\n![image]({paths[1]})\n\n"
        f"_2 images · {IMAGEN} · $0.08 (conversation $0.08)_\n"
    )
    assert exchange in text
    assert nvim.line_hl("🎨 Imagen") == "GeminiChatHint"
    assert nvim.line_hl("![image]") == "GeminiChatImage"
    with start_nvim(server_env, nvim_cwd(nvim), tmp_path / "nvim2") as again:
        again.cmd("GeminiChat")
        again.wait_text("_2 images")
        assert exchange in again.chat_text()


def nvim_cwd(nvim: NvimChat) -> Path:
    """The folder Neovim runs in (the workspace)."""
    return Path(nvim.lua("return vim.fn.getcwd()"))


def test_an_imagen_request_waits_for_the_reply_in_progress(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """Sent while a reply streams, the Imagen request shows as "⏳ queued: 🎨 ..." above the
    input area, goes when the reply ends, and lands below it; the winbar keeps the chat model
    (the Imagen model is named on the usage line only)."""
    emulator.script({"chunks": ["One. ", "Two. ", "Three."], "chunkDelay": 0.4})
    nvim.cmd("GeminiChat count to three")
    nvim.wait_text("One.")
    nvim.cmd("GeminiChatImage a red fox")
    input_row = nvim.line_of("## You", last=True)
    assert "⏳ queued: 🎨 a red fox" in nvim.virt_text(input_row)
    nvim.wait_text("_1 image ·")
    text = nvim.chat_text()
    assert text.index("One. Two. Three.") < text.index("a red fox\n🎨 Imagen · 1 image\n")
    assert "queued" not in nvim.virt_text(nvim.line_of("## You", last=True))
    assert "gemini-2.5-flash" in nvim.winbar() and IMAGEN not in nvim.winbar()


def test_imagen_options_the_daemon_refuses_are_told(nvim: NvimChat, emulator: Emulator) -> None:
    """`:GeminiChatImage 9x a cat` is refused by the daemon before anything is sent: the reply
    ends with its message naming numberOfImages, one error line is notified, and no predict
    call went out; the prompt is not put in the input area (it would go as a message)."""
    nvim.cmd("GeminiChatImage 9x a cat")
    nvim.wait_text("**Error:**")
    assert "numberOfImages" in nvim.chat_text()
    note = nvim.wait_note("numberOfImages")
    assert note["level"] == 4 and "\n" not in note["msg"]
    assert emulator.requests(":predict") == []
    nvim.wait_idle()
    assert nvim.input_text() == ""


def test_another_editors_imagen_request_shows_as_one_while_it_draws(
    nvim: NvimChat, other: OtherEditor, emulator: Emulator
) -> None:
    """Another editor's generateImage (2 images, 16:9) while the emulator holds its `:predict`:
    Neovim shows its prompt at once, the `## You` header marked "from another editor", under it
    the dim "🎨 Imagen · 2 images · 16:9" line, and under `## Gemini` the dim "⋯ drawing 2 images
    in another editor…" (not the chat reply's "replying in another editor"); the winbar says
    another editor is drawing. Once Imagen answers: the result's two pictures as image lines and
    the usage line, the prompt and its Imagen line once, no drawing line, still marked."""
    prompt = "a harbour in the fog"
    nvim.cmd("GeminiChat")
    nvim.wait_loaded()
    emulator.script({"delay": 8})  # held long enough to look; checked below that it was
    made = other.start("gemini/generateImage", prompt=prompt, numberOfImages=2, aspectRatio="16:9")
    nvim.wait_text(prompt)
    text = nvim.chat_text()
    assert (
        f"## You\n{prompt}\n🎨 Imagen · 2 images · 16:9\n\n"
        "## Gemini\n⋯ drawing 2 images in another editor…\n\n---\n" in text
    )
    assert "replying" not in text
    assert "from another editor" in nvim.virt_text(nvim.line_of(prompt) - 1)
    assert nvim.line_hl("🎨 Imagen") == nvim.line_hl("⋯ drawing") == "GeminiChatHint"
    nvim.wait_winbar("another editor is drawing")
    assert not made.done(), "all of it seen while :predict was held"
    result = made.result(30)
    nvim.wait_text(f"_2 images · {IMAGEN}")
    winbar = f"vim.wo[vim.fn.bufwinid({nvim.chat_buf()})].winbar"
    nvim.wait(f"not {winbar}:find('another editor', 1, true)", "the winbar to say it is over")
    text = nvim.chat_text()
    paths = [Path(i["path"]) for i in result["images"]]
    assert len(paths) == 2
    assert (
        f"## You\n{prompt}\n🎨 Imagen · 2 images · 16:9\n\n## Gemini\n"
        f"![image]({paths[0]})\n![image]({paths[1]})\n\n_2 images · {IMAGEN} · $0.08" in text
    )
    assert text.count(prompt) == text.count("🎨 Imagen") == 1
    assert "drawing" not in text
    assert "from another editor" in nvim.virt_text(nvim.line_of(prompt) - 1)


def test_editing_a_picture_with_an_image_model(
    nvim: NvimChat, emulator: Emulator, workspace: Path
) -> None:
    """The editing loop: with the workspace's model gemini-2.5-flash-image, an attached
    logo.png and "make it blue" go upstream with responseModalities TEXT+IMAGE and the picture
    as inline data; the blue picture comes back and shows; "now make it round" sends the blue
    picture back as the model's part of the history and shows the round one. Back on
    gemini-2.5-flash, a message asks for no modalities."""
    red, blue, round_blue = (png(8, 8, c) for c in ((255, 0, 0), (0, 0, 255), (0, 0, 254)))
    (workspace / "logo.png").write_bytes(red)
    emulator.script(
        {"reply": "Here it is in blue.", "image": {"mimeType": "image/png", "data": b64(blue)}},
        {"reply": "Now round.", "image": {"mimeType": "image/png", "data": b64(round_blue)}},
        {"reply": "Plain text."},
    )
    nvim.cmd(f"GeminiChatModel {EDITOR}")
    nvim.wait_note(f"model {EDITOR}")
    nvim.cmd("GeminiChatAttach logo.png")
    nvim.cmd("GeminiChat make it blue")
    nvim.wait_text("Here it is in blue.")
    nvim.wait_text("_tokens:")
    first = generate_bodies(emulator)[0]
    assert f"/models/{EDITOR}:" in emulator.requests("enerateContent")[0].path
    assert first["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]
    assert {"inlineData": {"mimeType": "image/png", "data": b64(red)}} in first["contents"][-1][
        "parts"
    ]
    [blue_path] = image_paths(nvim.chat_text())
    assert blue_path.read_bytes() == blue
    nvim.cmd("GeminiChat now make it round")
    nvim.wait_text("Now round.")
    nvim.wait_idle()
    second = generate_bodies(emulator)[1]
    assert second["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]
    blue_part = {"inlineData": {"mimeType": "image/png", "data": b64(blue)}}
    assert second["contents"][1]["role"] == "model" and blue_part in second["contents"][1]["parts"]
    paths = image_paths(nvim.chat_text())
    assert len(paths) == 2 and paths[1].read_bytes() == round_blue
    nvim.cmd("GeminiChatModel gemini-2.5-flash")
    nvim.wait_note("model gemini-2.5-flash for")
    nvim.cmd("GeminiChat describe it")
    nvim.wait_text("Plain text.")
    assert "responseModalities" not in generate_bodies(emulator)[2].get("generationConfig", {})


# A stand-in for snacks.nvim's image module (snacks.nvim is not on a registry this machine
# reaches: only PyPI, npm and Debian's apt): the part of its API the plugin calls.
SNACKS = """
_G.attached = {}
_G.Snacks = { image = {
  config = { enabled = ..., doc = { enabled = true } },
  supports_terminal = function() return true end,
  doc = { attach = function(buf) table.insert(_G.attached, buf) end },
} }
"""


def test_snacks_image_draws_the_pictures_when_it_is_set_up(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """With snacks.nvim's image module loaded and enabled, the first picture drawn attaches its
    document renderer to the chat buffer, once (a second picture does not attach again)."""
    nvim.lua(SNACKS, True)
    nvim.cmd("GeminiChatImage 2x a blue whale")
    nvim.wait_text("_2 images")
    assert nvim.lua("return _G.attached") == [nvim.chat_buf()]
    nvim.cmd("GeminiChatImage an orca")
    nvim.wait_text("_1 image")
    assert nvim.lua("return _G.attached") == [nvim.chat_buf()]


def test_without_an_image_plugin_pictures_are_links_and_nothing_is_loaded(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """Without snacks, and with snacks whose image module is not enabled, pictures stay image
    lines: nothing is attached, and the plugin never tried to load snacks."""
    nvim.lua(
        "_G.tried = {} table.insert(package.loaders, 2, function(name) "
        "table.insert(_G.tried, name) end)"
    )
    nvim.cmd("GeminiChatImage a blue whale")
    nvim.wait_text("_1 image")
    assert not any("snacks" in name for name in nvim.lua("return _G.tried"))
    nvim.lua(SNACKS, False)
    nvim.cmd("GeminiChatImage an orca")
    nvim.wait_text("an orca")
    nvim.wait_idle()
    assert nvim.lua("return _G.attached") == []
    assert len(image_paths(nvim.chat_text())) == 2


def test_counts_and_ratios_complete_before_the_prompt(nvim: NvimChat) -> None:
    """`:GeminiChatImage <Tab>` offers 1x-4x and the five ratios; after a count, only the
    ratios that match (and the counts after a ratio); once the prompt has begun, nothing."""
    complete = "return vim.fn.getcompletion(..., 'cmdline')"
    assert nvim.lua(complete, "GeminiChatImage ") == [
        "1x",
        "2x",
        "3x",
        "4x",
        "1:1",
        "3:4",
        "4:3",
        "9:16",
        "16:9",
    ]
    assert nvim.lua(complete, "GeminiChatImage 2x 1") == ["1:1", "16:9"]
    assert nvim.lua(complete, "GeminiChatImage 16:9 ") == ["1x", "2x", "3x", "4x"]
    assert nvim.lua(complete, "GeminiChatImage a lighthouse ") == []
