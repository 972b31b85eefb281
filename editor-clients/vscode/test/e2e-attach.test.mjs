// Attachments in real VS Code: the file picker, a pasted image, a file dropped from the explorer,
// `#` and the active editor's file, each checked in the request the emulator received.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe } from "node:test";
import { pathToFileURL } from "node:url";
import { screenshot } from "./browser.mjs";
import { ask, freshChat, reply } from "./chatUi.mjs";
import { PNG_BASE64, requests, script } from "./helpers.mjs";
import { acceptFileDialog, quickOpen, sharedVsCode } from "./vscode.mjs";

const NOTES = "Release notes: add() now accepts floats.\n";
// A second picture (1x1 red PNG): the pasted one, told apart from the file's by its bytes.
const RED_DOT =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/** The parts of the last user turn the emulator received. */
async function lastUserParts() {
  const [req] = await requests("enerateContent");
  return req.body.contents.at(-1).parts;
}

describe("Attachments in real VS Code (code-server)", () => {
  const { vsTest } = sharedVsCode({
    files: { "docs/diagram.png": Buffer.from(PNG_BASE64, "base64"), "docs/notes.txt": NOTES },
  });

  vsTest(
    "the file picker, a pasted image, a file dropped from the explorer and # each attach a chip, and reach the daemon as the right parts",
    async (s) => {
      const { page, chat, folder } = s;
      await freshChat(s);
      // The picker: VS Code's open dialog (in a browser, its own file dialog in the quick input).
      await chat.locator("#attach").click();
      await acceptFileDialog(page, join(folder, "docs", "diagram.png"), async (box) =>
        (await box.inputValue()).includes("project"),
      );
      const chips = chat.locator("#attachments .chip");
      await chips.filter({ hasText: "diagram.png" }).waitFor({ timeout: 15000 });
      assert.equal(
        await chips.filter({ hasText: "diagram.png" }).locator("img.chip-thumb").count(),
        1,
        "a thumbnail",
      );
      // Paste: an image on the clipboard, pasted into the input.
      await chat.locator("#input").evaluate((input, b64) => {
        const data = new DataTransfer();
        data.items.add(
          new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "image.png", { type: "image/png" }),
        );
        input.dispatchEvent(
          new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }),
        );
      }, RED_DOT);
      await chips.filter({ hasText: "pasted-image-1.png" }).waitFor({ timeout: 15000 });
      // Drop: what VS Code's explorer puts on a drag (a uri-list), dropped on the view.
      const uri = pathToFileURL(join(folder, "src", "app.py")).href;
      await chat.locator("#input").evaluate((input, u) => {
        const data = new DataTransfer();
        data.setData("text/uri-list", u);
        input.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
      }, uri);
      await chips.filter({ hasText: "app.py" }).waitFor({ timeout: 15000 });
      // #: the folder's files, narrowed as you type; Enter attaches the one chosen.
      await chat.locator("#input").click();
      await chat.locator("#input").pressSequentially("Compare these #note");
      await chat.locator("#mentions .mention", { hasText: "notes.txt" }).waitFor({ timeout: 15000 });
      await chat.locator("#input").press("Enter");
      await chips.filter({ hasText: "notes.txt" }).waitFor({ timeout: 15000 });
      assert.equal(await chat.locator("#input").inputValue(), "Compare these ");
      assert.equal(await chips.count(), 4);
      await screenshot(page, "vscode-attachments");
      await script({ reply: "A diagram, a red dot, the adder and its notes." });
      await chat.locator("#input").press("Enter");
      await reply(chat, "red dot");
      const parts = await lastUserParts();
      assert.equal(parts[0].inlineData.mimeType, "image/png");
      assert.equal(parts[0].inlineData.data, PNG_BASE64, "the picked file, read by the daemon");
      assert.equal(parts[1].inlineData.data, RED_DOT, "the pasted image, as pasted");
      assert.match(parts[2].text, /src\/app\.py[\s\S]*def add\(a, b\)/);
      assert.match(parts[3].text, /docs\/notes\.txt[\s\S]*accepts floats/);
      assert.equal(parts[4].text, "Compare these ");
      const sent = chat.locator(".entry.user").last().locator(".chip");
      assert.equal(await sent.count(), 4, "the sent message shows what went with it");
      assert.equal(
        await chat.locator("#attachments .chip").count(),
        0,
        "the next message starts without any",
      );
    },
  );

  vsTest("the active editor's file is offered above the input and attached with one click", async (s) => {
    const { page, chat } = s;
    await freshChat(s);
    await quickOpen(page, "notes.txt");
    const offer = chat.locator("#active-file");
    await offer.filter({ hasText: "notes.txt" }).waitFor({ timeout: 15000 });
    await offer.click();
    await chat.locator("#attachments .chip", { hasText: "notes.txt" }).waitFor({ timeout: 15000 });
    await offer.waitFor({ state: "hidden" });
    await script({ reply: "Floats are fine now." });
    await ask(chat, "What changed?");
    await reply(chat, "Floats");
    const parts = await lastUserParts();
    assert.match(parts[0].text, /docs\/notes\.txt[\s\S]*accepts floats/);
  });
});
