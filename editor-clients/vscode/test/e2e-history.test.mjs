// The folder's conversations in real VS Code: the History picker (open, rename, delete, export)
// and Export Chat….
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe } from "node:test";
import { screenshot } from "./browser.mjs";
import { ask, freshChat, reply, viewAction } from "./chatUi.mjs";
import { script, waitFor } from "./helpers.mjs";
import { acceptFileDialog, runCommand, sharedVsCode } from "./vscode.mjs";

const quick = (page) => page.locator(".quick-input-widget");
const row = (page, text) => quick(page).locator(".monaco-list-row", { hasText: text }).first();

/**
 * Two more conversations in the folder: "<tag> one" (archived) and "<tag> two" (open); the tag
 * keeps them apart from the conversations the tests before made in the same window.
 */
async function twoConversations(s, tag) {
  const { page, chat } = s;
  await freshChat(s);
  await script({ reply: "One answered." }, { reply: "Two answered." });
  await ask(chat, `${tag} one: what is add?`);
  await reply(chat, "One answered.");
  await viewAction(page, "New Chat").click();
  await chat.locator(".welcome").waitFor({ timeout: 15000 });
  await ask(chat, `${tag} two: what is print?`);
  await reply(chat, "Two answered.");
}

/** Click one of a picker row's buttons (shown on the focused row: typing its title focuses it). */
async function rowButton(page, text, label) {
  const box = quick(page).locator(".quick-input-box input");
  await box.fill(text);
  const focused = quick(page).locator(".monaco-list-row.focused", { hasText: text });
  await focused.waitFor({ timeout: 15000 });
  await focused.locator(`.action-label[aria-label="${label}"]`).click();
}

describe("Conversations of the folder in real VS Code (code-server)", () => {
  const { vsTest } = sharedVsCode();

  vsTest(
    "History in the view's title lists the folder's conversations with when and turns; picking one opens it",
    async (s) => {
      const { page, chat } = s;
      await twoConversations(s, "Topic");
      await viewAction(page, "History").click();
      await row(page, "Topic one").waitFor({ timeout: 15000 });
      assert.match(await row(page, "Topic two").innerText(), /open now/);
      assert.match(await row(page, "Topic one").innerText(), /1 turn/);
      assert.match(await row(page, "Topic one").innerText(), /just now|min ago/);
      await screenshot(page, "vscode-history");
      await row(page, "Topic one").click();
      await chat.locator(".entry.user", { hasText: "Topic one" }).waitFor({ timeout: 15000 });
      assert.equal(await chat.locator(".entry.user", { hasText: "Topic two" }).count(), 0);
    },
  );

  vsTest("a picker row's buttons rename a conversation and delete another after confirming", async (s) => {
    const { page } = s;
    await twoConversations(s, "Names");
    await viewAction(page, "History").click();
    await rowButton(page, "Names one", "Rename");
    // The rename box takes the picker's place (the same widget: told apart by its title).
    await quick(page).locator(".quick-input-title", { hasText: "Rename the conversation" }).waitFor();
    const box = quick(page).locator(".quick-input-box input");
    await waitFor("the title in the box", async () => (await box.inputValue()) === "Names one: what is add?");
    await box.fill("The adder");
    await box.press("Enter");
    // The picker comes back with the new title.
    await row(page, "The adder").waitFor({ timeout: 15000 });
    await rowButton(page, "The adder", "Delete");
    const dialog = page.locator(".monaco-dialog-box");
    await dialog.waitFor({ timeout: 15000 });
    assert.match(await dialog.innerText(), /Delete the conversation “The adder”\?/);
    await dialog.getByRole("button", { name: "Delete" }).click();
    await row(page, "Names two").waitFor({ timeout: 15000 });
    assert.equal(await quick(page).locator(".monaco-list-row", { hasText: "The adder" }).count(), 0);
    await page.keyboard.press("Escape");
  });

  vsTest(
    "Export Chat… saves the open conversation as Markdown where the save dialog says, and opens it",
    async (s) => {
      const { page, folder } = s;
      await twoConversations(s, "Export");
      await runCommand(page, "Gemini: Export Chat…");
      const file = join(folder, "exported.md");
      await acceptFileDialog(page, file, async (box) => (await box.inputValue()).endsWith(".md"));
      await waitFor("the file written", () => existsSync(file), 15000);
      const markdown = readFileSync(file, "utf8");
      assert.match(markdown, /^# Export two/);
      assert.match(markdown, /## You[\s\S]*what is print\?[\s\S]*## Gemini[\s\S]*Two answered\./);
      await page.locator(".tab.active", { hasText: "exported.md" }).waitFor({ timeout: 15000 });
    },
  );
});
