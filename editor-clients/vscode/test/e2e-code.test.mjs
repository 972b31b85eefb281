// Code in and out of the chat in real VS Code: a selection attached, a reply's code inserted at
// the cursor (re-indented), applied through a diff that writes only on Accept.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe } from "node:test";
import { screenshot } from "./browser.mjs";
import { ask, freshChat, reply } from "./chatUi.mjs";
import { requests, script, waitFor } from "./helpers.mjs";
import { quickOpen, sharedVsCode } from "./vscode.mjs";

const SHAPES = `class Shape:
    def area(self):
        return 0

    def name(self):
        return "shape"
`;

const APP = "def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n";

/** The text of the visible editor's lines (Monaco draws spaces as no-break spaces). */
async function editorText(page) {
  const lines = await page.locator(".editor-instance .monaco-editor .view-line").allInnerTexts();
  return lines.map((l) => l.replace(/\u00a0/g, " ")).join("\n");
}

/** Put the cursor at the start of `line` (1-based) of the active editor. */
async function goToLine(page, line) {
  await page.keyboard.press("Control+G");
  const box = page.locator(".quick-input-widget .quick-input-box input");
  await waitFor(
    "Go to Line",
    async () => (await box.isVisible()) && (await box.inputValue()).startsWith(":"),
  );
  await box.fill(`:${line}`);
  await box.press("Enter");
}

describe("Code in and out in real VS Code (code-server)", () => {
  const { session, vsTest } = sharedVsCode({ files: { "src/shapes.py": SHAPES } });

  vsTest("Ask about Selection attaches the selected lines and sends them", async (s) => {
    const { page, chat } = s;
    await freshChat(s);
    await script({ reply: "It defines `add`, which returns the **sum** of `a` and `b`." });
    await quickOpen(page, "app.py");
    const line = page.locator(".editor-instance .monaco-editor .view-line", { hasText: "def add" }).first();
    await line.click();
    await page.keyboard.press("Home");
    await page.keyboard.press("Shift+ArrowDown");
    await page.keyboard.press("Shift+End");
    await page.keyboard.press("Control+Alt+G");
    await chat.locator("#attachments .chip", { hasText: "app.py:1-2" }).waitFor({ timeout: 15000 });
    await ask(chat, "What does this do?");
    await reply(chat, "sum");
    const [req] = await requests("enerateContent");
    const sent = JSON.stringify(req.body.contents.at(-1));
    assert.ok(sent.includes("def add(a, b)"), sent);
    assert.ok(!sent.includes("print(add(2, 3))"), "only the selection is sent");
    await screenshot(page, "vscode-selection");
  });

  vsTest(
    "Insert puts a method into a class body at the body's indent (cursor on the blank line between methods)",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      await script({ reply: "Add this method:\n\n```python\ndef perimeter(self):\n    return 0\n```\n" });
      await quickOpen(page, "shapes.py");
      await goToLine(page, 4);
      await ask(chat, "Give Shape a perimeter method");
      await reply(chat, "Add this method");
      await chat.locator(".entry.model .code-block").last().getByRole("button", { name: "Insert" }).click();
      await waitFor("the method in the editor", async () =>
        (await editorText(page)).includes("def perimeter"),
      );
      await page.keyboard.press("Control+S");
      const expected = SHAPES.replace(
        "\n\n    def name",
        "\n    def perimeter(self):\n        return 0\n    def name",
      );
      await waitFor(
        "the file saved",
        () => readFileSync(join(session.folder, "src", "shapes.py"), "utf8") === expected,
        15000,
      );
    },
  );

  vsTest(
    "Apply shows a diff of the asked lines replaced; nothing is written until Accept; Undo takes it back",
    async (s) => {
      const { page, chat, folder } = s;
      await freshChat(s);
      const file = join(folder, "src", "app.py");
      await script({
        reply: "Typed:\n\n```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```\n",
      });
      await quickOpen(page, "app.py");
      await page
        .locator(".editor-instance .monaco-editor .view-line", { hasText: "def add" })
        .first()
        .click();
      await page.keyboard.press("Control+Home");
      await page.keyboard.press("Shift+ArrowDown");
      await page.keyboard.press("Shift+ArrowDown");
      await page.keyboard.press("Control+Alt+G");
      await chat.locator("#attachments .chip", { hasText: "app.py:1-2" }).waitFor({ timeout: 15000 });
      await ask(chat, "Add type hints");
      await reply(chat, "Typed:");
      // The cursor moves elsewhere: Apply still targets the lines the question was about.
      await page.locator(".editor-instance .monaco-editor .view-line", { hasText: "print" }).first().click();
      await chat.locator(".entry.model .code-block").last().getByRole("button", { name: "Apply" }).click();
      const diff = page.locator(".monaco-diff-editor").first();
      await diff.waitFor({ timeout: 15000 });
      await page.locator(".tab.active", { hasText: "Gemini's change" }).waitFor({ timeout: 15000 });
      assert.equal(readFileSync(file, "utf8"), APP, "nothing written before Accept");
      await screenshot(page, "vscode-apply-diff");
      await page.locator('.editor-actions a.action-label[aria-label^="Accept Gemini"]').first().click();
      const typed = "def add(a: int, b: int) -> int:\n    return a + b\n\nprint(add(2, 3))\n";
      await waitFor("the change written", () => readFileSync(file, "utf8") === typed, 15000);
      await diff.waitFor({ state: "detached", timeout: 15000 });
      await waitFor("the file shown with the change", async () =>
        (await editorText(page)).includes("a: int"),
      );
      await page.keyboard.press("Control+Z");
      await waitFor("Undo to take it back", async () =>
        (await editorText(page)).startsWith("def add(a, b):"),
      );
      await page.keyboard.press("Control+S");
      await waitFor("the original saved back", () => readFileSync(file, "utf8") === APP, 15000);
    },
  );

  vsTest("Discard closes the diff and writes nothing", async (s) => {
    const { page, chat, folder } = s;
    await freshChat(s);
    await script({ reply: "```python\ndef add(a, b):\n    return b + a\n\nprint(add(2, 3))\n```\n" });
    await quickOpen(page, "app.py");
    await ask(chat, "Swap the operands");
    await reply(chat, "return b + a");
    await chat.locator(".entry.model .code-block").last().getByRole("button", { name: "Apply" }).click();
    const diff = page.locator(".monaco-diff-editor").first();
    await diff.waitFor({ timeout: 15000 });
    await page.locator('.editor-actions a.action-label[aria-label^="Discard Gemini"]').first().click();
    await diff.waitFor({ state: "detached", timeout: 15000 });
    assert.equal(readFileSync(join(folder, "src", "app.py"), "utf8"), APP);
  });
});
