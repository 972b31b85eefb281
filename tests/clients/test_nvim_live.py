"""One live conversation per folder, in real Neovim 0.11: another editor (a second real daemon
on the same folder and store) asks while Neovim's chat is open or hidden; the turn appears as it
streams, a killed editor leaves an interrupted turn to send again, changes reload the chat, and
a question asked while a reply is coming waits in a queue."""

from __future__ import annotations

from gemini_chat.emulator import Emulator
from gemini_chat.emulator.imagen import colour, png
from polling import wait_until

from .nvim_helpers import NvimChat, OtherEditor, generate_bodies
from .test_nvim_images import IMAGEN, image_paths

SLOW = {"chunks": ["First piece. ", "Second piece. ", "Third piece. ", "Last piece."]}


def contents(emulator: Emulator) -> list[tuple[str, str]]:
    """(role, text) of each content of the last generate request."""
    body = generate_bodies(emulator)[-1]
    return [(c["role"], "".join(p.get("text", "") for p in c["parts"])) for c in body["contents"]]


def winbar_lacks(nvim: NvimChat, text: str) -> None:
    """Wait until the chat window's winbar no longer shows `text`."""
    nvim.wait(
        f"not vim.wo[vim.fn.bufwinid({nvim.chat_buf()})].winbar:find({text!r}, 1, true)",
        f"{text!r} to leave the winbar",
    )


def test_another_editors_turn_streams_into_the_open_chat(
    nvim: NvimChat, other: OtherEditor, emulator: Emulator
) -> None:
    """A turn sent from another editor shows its question at once, marked "from another
    editor", and its reply piece by piece while it streams; the winbar says another editor is
    replying until it ends; then the exchange looks as a stored one (usage line), still marked."""
    nvim.cmd("GeminiChat")
    nvim.wait_loaded()
    emulator.script({**SLOW, "chunkDelay": 0.4})
    answer = other.start_chat("question from the terminal")
    nvim.wait_text("question from the terminal")
    assert "from another editor" in nvim.virt_text(nvim.line_of("question from the terminal") - 1)
    nvim.wait_winbar("another editor is replying")
    nvim.wait_text("First piece.")
    assert "Last piece." not in nvim.chat_text(), "the reply was not shown while it streamed"
    assert not answer.done()
    answer.result(30)
    nvim.wait_text("_tokens:")
    winbar_lacks(nvim, "another editor")
    assert (
        "## You\nquestion from the terminal\n\n## Gemini\n"
        "First piece. Second piece. Third piece. Last piece.\n\n_tokens:" in nvim.chat_text()
    )
    assert "from another editor" in nvim.virt_text(nvim.line_of("question from the terminal") - 1)


def test_a_hidden_chat_follows_and_is_current_when_reopened(
    nvim: NvimChat, other: OtherEditor, emulator: Emulator
) -> None:
    """With the chat window closed and another buffer current, the chat buffer still receives
    the other editor's turn while it streams; reopened, it shows the whole exchange."""
    nvim.cmd("GeminiChat")
    nvim.wait_loaded()
    nvim.cmd("close")
    nvim.cmd("edit src/app.py")
    assert nvim.lua("return vim.fn.bufwinid(...)", nvim.chat_buf()) == -1
    emulator.script({**SLOW, "chunkDelay": 0.4})
    answer = other.start_chat("asked while the chat is hidden")
    nvim.wait_text("asked while the chat is hidden")
    nvim.wait_text("Second piece.")
    assert "Last piece." not in nvim.chat_text(), "the hidden buffer did not follow the stream"
    answer.result(30)
    nvim.wait_text("_tokens:")
    nvim.cmd("GeminiChat")
    assert nvim.lua("return vim.api.nvim_get_current_buf()") == nvim.chat_buf()
    assert (
        "## You\nasked while the chat is hidden\n\n## Gemini\n"
        "First piece. Second piece. Third piece. Last piece." in nvim.chat_text()
    )


def test_a_killed_editor_leaves_an_interrupted_turn_to_send_again(
    nvim: NvimChat, other: OtherEditor, emulator: Emulator
) -> None:
    """kill -9 of the other editor's daemon mid-reply: the chat shows its question and partial
    reply as interrupted, with the resend key; `gr` asks the question again from Neovim (without
    the partial reply), and the interrupted turn gives way to the answered one."""
    nvim.cmd("GeminiChat")
    nvim.wait_loaded()
    emulator.script({"chunks": [f"part{i} " for i in range(40)], "chunkDelay": 0.25})
    other.start_chat("the question that dies")
    nvim.wait_text("part1 ")
    other.kill()
    nvim.wait_text("⚠ Interrupted:")
    text = nvim.chat_text()
    assert "## You\nthe question that dies\n\n## Gemini\npart0 part1 " in text
    assert "gr or :GeminiChatResend sends it again" in text
    winbar_lacks(nvim, "another editor")
    emulator.script({"reply": "Answered at last."})
    nvim.nvim.input("gr")
    nvim.wait_text("Answered at last.")
    nvim.wait_idle()
    text = nvim.chat_text()
    assert "Interrupted" not in text and "part1" not in text
    assert text.count("the question that dies") == 1
    assert contents(emulator) == [("user", "the question that dies")]


def test_an_interrupted_image_request_is_drawn_again(
    nvim: NvimChat, other: OtherEditor, emulator: Emulator
) -> None:
    """kill -9 of the other editor's daemon while Imagen works on its `generateImage` (2 images,
    16:9): the chat shows the prompt with its "🎨 Imagen · 2 images · 16:9" line as interrupted,
    under `## Gemini` the dim "(no images had arrived)" (not a question's "(no reply had
    arrived)"), then that the editor stopped before the images came (the terminal's words) and
    that `gr` sends the image request again; `gr` sends it as an image request (a second
    `:predict` with the prompt, sampleCount 2, 16:9 and the journaled model; no
    generateContent), and the pictures show as `:GeminiChatImage` shows them, once."""
    prompt = "a lighthouse that dies"
    nvim.cmd("GeminiChat")
    nvim.wait_loaded()
    emulator.script({"delay": 30})
    other.start("gemini/generateImage", prompt=prompt, numberOfImages=2, aspectRatio="16:9")
    wait_until(lambda: emulator.requests(":predict"), "the other editor's predict call")
    other.kill()
    nvim.wait_text("⚠ Interrupted:")
    text = nvim.chat_text()
    assert (
        f"## You\n{prompt}\n🎨 Imagen · 2 images · 16:9\n\n## Gemini\n(no images had arrived)\n\n"
        "⚠ Interrupted: the editor sending this stopped before the images came; "
        "gr or :GeminiChatResend sends the image request again" in text
    )
    assert "no reply" not in text
    assert nvim.line_hl("(no images had arrived)") == "GeminiChatHint"
    winbar_lacks(nvim, "another editor")
    nvim.nvim.input("gr")
    nvim.wait_text("_2 images")
    nvim.wait_idle()
    first, again = emulator.requests(":predict")
    assert again.path == first.path == f"/v1beta/models/{IMAGEN}:predict"
    assert again.body["instances"] == [{"prompt": prompt}]  # type: ignore[index]
    assert again.body["parameters"]["sampleCount"] == 2  # type: ignore[index]
    assert again.body["parameters"]["aspectRatio"] == "16:9"  # type: ignore[index]
    assert generate_bodies(emulator) == []
    text = nvim.chat_text()
    paths = image_paths(text)
    assert [p.read_bytes() for p in paths] == [png(88, 48, colour(prompt, i)) for i in (0, 1)]
    assert "Interrupted" not in text and text.count(prompt) == 1
    assert (
        f"## You\n{prompt}\n🎨 Imagen · 2 images · 16:9\n\n## Gemini\n"
        f"![image]({paths[0]})\n![image]({paths[1]})\n\n_2 images · {IMAGEN} · $0.08" in text
    )


def test_changes_from_another_editor_reload_the_chat(
    nvim: NvimChat, other: OtherEditor, emulator: Emulator
) -> None:
    """The other editor's setModel shows in the winbar; its reset empties the chat; its
    openConversation of the archived conversation brings the exchange back."""
    emulator.script({"reply": "Kept answer."})
    nvim.cmd("GeminiChat first question")
    nvim.wait_text("Kept answer.")
    nvim.wait_idle()
    other.request("gemini/setModel", model="gemini-2.5-pro")
    nvim.wait_winbar("gemini-2.5-pro")
    other.request("gemini/reset")
    nvim.wait("not _G.chat_has('Kept answer.')", "the reset to empty the chat")
    listed = other.request("gemini/conversations")
    archived = next(c["id"] for c in listed["conversations"] if not c["active"])
    other.request("gemini/openConversation", id=archived)
    nvim.wait_text("Kept answer.")
    assert nvim.chat_text().count("## You\nfirst question\n") == 1


def test_a_question_sent_while_the_reply_streams_is_queued(
    nvim: NvimChat, emulator: Emulator
) -> None:
    """<CR> on a second question while the first reply streams neither refuses nor drops it: it
    shows as queued, then goes once the reply ends, carrying the first exchange."""
    emulator.script(
        {"chunks": ["one ", "two ", "three"], "chunkDelay": 0.4}, {"reply": "Queued answered."}
    )
    nvim.cmd("GeminiChat first")
    nvim.wait_text("one ")
    nvim.nvim.input("Gosecond question<Esc><CR>")
    nvim.wait("#require('gemini_chat.session').all()[1].queue == 1", "the queued question")
    header = nvim.line_of("## You", last=True)
    assert "queued: second question" in nvim.virt_text(header)
    assert nvim.input_text() == ""
    nvim.wait_text("Queued answered.")
    assert contents(emulator) == [
        ("user", "first"),
        ("model", "one two three"),
        ("user", "second question"),
    ]
    assert not [n for n in nvim.notes() if n["level"] >= 3]
    assert "queued" not in nvim.virt_text(nvim.line_of("## You", last=True))


def test_a_question_sent_while_another_editor_replies_waits_for_it(
    nvim: NvimChat, other: OtherEditor, emulator: Emulator
) -> None:
    """`:GeminiChat mine` while another editor's reply streams is queued behind it: it is shown
    and sent after the other exchange, and its request carries that exchange."""
    nvim.cmd("GeminiChat")
    nvim.wait_loaded()
    emulator.script({**SLOW, "chunkDelay": 0.4}, {"reply": "Mine answered."})
    answer = other.start_chat("theirs first")
    nvim.wait_text("First piece.")
    nvim.cmd("GeminiChat mine")
    nvim.wait_winbar("1 queued")
    answer.result(30)
    nvim.wait_text("Mine answered.")
    text = nvim.chat_text()
    assert text.index("theirs first") < text.index("Last piece.") < text.index("\nmine\n")
    assert contents(emulator)[-1] == ("user", "mine")
    assert ("user", "theirs first") in contents(emulator)
