// A multi-root workspace in real VS Code: one window on a .code-workspace of two folders, alpha and
// beta, each with its own GEMINI.md and file. The daemon keeps one conversation per folder; the
// view shows the active editor's folder's (or the one picked with the folder button). A second
// daemon on both folders plays another editor, reads each folder's `gemini/history` and seeds
// turns. Each test starts with both folders' conversations new and the emulator's script empty
// (so any one passes alone), and checks:
// 1. alpha.py active: a question goes to alpha's conversation (the emulator's request carries
//    alpha's GEMINI.md, not beta's, and no other turn; alpha's history has it, beta's is empty);
//    the header says "alpha", its tooltip that the chat follows the active file's folder.
// 2. A turn of alpha's stored; beta.py opened: the header says "beta" and the view is beta's own
//    empty conversation; a question there goes to beta (beta's GEMINI.md, no alpha turn upstream,
//    only in beta's history); back on alpha.py only alpha's turn is shown, on beta.py only
//    beta's.
// 3. beta.py opened while alpha's reply streams: the view stays on alpha until the reply ends
//    (stored in alpha), then shows beta's conversation (the active editor's), and the next
//    question goes to beta.
// 4. With beta shown, another editor's turn on alpha does not show (its turn on beta, after it,
//    does, live); back on alpha.py it is there, and its next turn on alpha streams in live.
// 5. No editor open: the header's folder button offers both folders; beta picked is shown with a
//    pin (the tooltip: picked by hand) and a question goes to beta's conversation; the pick holds
//    while a file of alpha is active; picking alpha (the active file's folder) there follows the
//    active editor again (no pin; beta.py opened shows beta).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe } from "node:test";
import { pathToFileURL } from "node:url";
import { screenshot } from "./browser.mjs";
import { ask, reply } from "./chatUi.mjs";
import { requests, resetEmulator, script, startDaemon, waitFor } from "./helpers.mjs";
import { pickInQuickPick, quickOpen, runCommand, sharedVsCode } from "./vscode.mjs";

const require = createRequire(import.meta.url);
const { GeminiApi } = require("../out/api.js");

const ROOTS = {
  alpha: { "GEMINI.md": "Alpha is the adder. Answer briefly.\n", "src/alpha.py": "ALPHA = 1\n" },
  beta: { "GEMINI.md": "Beta is the printer. Answer briefly.\n", "src/beta.py": "BETA = 2\n" },
};
const PIECES = Array.from({ length: 10 }, (_, i) => `piece${i + 1} `);
const PICKER = "Show the Gemini conversation of which folder?";

describe("A multi-root workspace (two folders) in real VS Code (code-server)", () => {
  const { session, vsTest } = sharedVsCode({ roots: ROOTS });
  /** The other editor: a daemon on both folders and the same store. */
  const other = {};
  const uri = (name) => pathToFileURL(session.folders[name]).href;

  before(async () => {
    Object.assign(other, await startDaemon([session.folders.alpha, session.folders.beta]));
    other.api = new GeminiApi(other.connection);
  });
  after(async () => {
    await other.close?.();
  });

  /** Both folders' conversations new, the emulator's script and records empty. */
  async function fresh(page) {
    await page.keyboard.press("Escape");
    await other.api.reset(uri("alpha"));
    await other.api.reset(uri("beta"));
    await resetEmulator();
  }

  /** A turn of the other editor on folder `name`, answered `answer`. */
  async function seed(name, message, answer) {
    await script({ reply: answer });
    await other.api.chat({ workspace: uri(name), message }, {});
  }

  /** The folder's stored turns as `role: text` lines. */
  async function stored(name) {
    const history = await other.api.history(uri(name));
    return history.turns.map((t) => `${t.role}: ${t.text}`);
  }

  /**
   * Open `file` with Quick Open and wait until its editor has the focus (given a moment after its
   * tab shows: text typed into the chat before then can land in the file).
   */
  async function openFile(page, file) {
    await quickOpen(page, file);
    await page.locator(".tab.active", { hasText: file }).waitFor({ timeout: 15000 });
    await page.locator(".editor-instance .monaco-editor.focused").waitFor({ timeout: 15000 });
  }

  /** Open `name`.py and wait for the header to name its folder. */
  async function openFileOf(s, name) {
    await openFile(s.page, `${name}.py`);
    await showing(s.chat, name);
  }

  /** The header names `name` as the shown folder. */
  async function showing(chat, name) {
    const label = chat.locator("#workspace-name");
    await waitFor(`the header to name ${name}`, async () => (await label.innerText()) === name, 15000);
  }

  /** Whether the header's folder button shows the folder as picked by hand (its pin icon). */
  const pinned = (chat) =>
    chat.locator("#workspace .codicon").evaluate((icon) => icon.classList.contains("codicon-pinned"));

  /** The questions the view shows, in order. */
  const questions = (chat) => chat.locator(".entry.user .entry-body").allInnerTexts();

  /** A reply with `text` (this window's or another editor's) in the view. */
  const shownReply = (chat, text) =>
    chat.locator(".entry.model .entry-body", { hasText: text }).waitFor({ timeout: 15000 });

  /** The last generateContent call: its system text and number of contents. */
  async function lastRequest() {
    const { systemInstruction, contents } = (await requests("enerateContent")).at(-1).body;
    return { system: systemInstruction.parts.map((p) => p.text).join(""), contents };
  }

  vsTest(
    "with a file of alpha active a question goes to alpha's conversation; the header says alpha",
    async (s) => {
      const { chat } = s;
      await fresh(s.page);
      await openFileOf(s, "alpha");
      await chat.locator(".welcome").waitFor({ timeout: 15000 });
      const title = await chat.locator("#workspace").getAttribute("title");
      assert.match(title, /^alpha: follows the active file's folder/);
      assert.equal(await pinned(chat), false);
      await script({ reply: "Alpha answered." });
      await ask(chat, "What does alpha do?");
      await reply(chat, "Alpha answered.");
      assert.equal((await requests("enerateContent")).length, 1, "one upstream call");
      const { system, contents } = await lastRequest();
      assert.match(system, /Alpha is the adder/);
      assert.doesNotMatch(system, /Beta/);
      assert.equal(contents.length, 1);
      assert.deepEqual(await stored("alpha"), ["user: What does alpha do?", "model: Alpha answered."]);
      assert.deepEqual(await stored("beta"), []);
    },
  );

  vsTest(
    "opening a file of beta shows beta's own conversation; back on alpha its turns again, nothing mixed",
    async (s) => {
      const { page, chat } = s;
      await fresh(page);
      await seed("alpha", "What does alpha do?", "Alpha answered.");
      await openFileOf(s, "beta");
      await chat.locator(".welcome").waitFor({ timeout: 15000 });
      assert.deepEqual(await questions(chat), []);
      await script({ reply: "Beta answered." });
      await ask(chat, "And beta?");
      await reply(chat, "Beta answered.");
      const { system, contents } = await lastRequest();
      assert.match(system, /Beta is the printer/);
      assert.equal(contents.length, 1, "no turn of alpha's went upstream");
      assert.deepEqual(await stored("beta"), ["user: And beta?", "model: Beta answered."]);
      assert.equal((await stored("alpha")).length, 2);

      await openFileOf(s, "alpha");
      await shownReply(chat, "Alpha answered.");
      assert.deepEqual(await questions(chat), ["What does alpha do?"]);
      assert.equal(await chat.locator(".entry", { hasText: "Beta answered." }).count(), 0);
      await screenshot(page, "vscode-folders");

      await openFileOf(s, "beta");
      await shownReply(chat, "Beta answered.");
      assert.deepEqual(await questions(chat), ["And beta?"]);
    },
  );

  vsTest(
    "a file of beta opened while alpha's reply streams: the reply ends in alpha's view, then beta is shown and asked",
    async (s) => {
      const { chat } = s;
      await fresh(s.page);
      await seed("beta", "Seeded in beta", "Beta answered.");
      await openFileOf(s, "alpha");
      await chat.locator(".welcome").waitFor({ timeout: 15000 });
      await script({ chunks: PIECES, chunkDelay: 0.5 }, { reply: "Beta again." });
      await ask(chat, "Alpha, slowly");
      await shownReply(chat, "piece1");
      await openFile(s.page, "beta.py");
      // The conversation does not change under the reply (the header read while it still streams).
      const meanwhile = await chat.locator("#workspace-name").innerText();
      assert.ok(await chat.locator("#stop").isVisible(), "the reply still streams after beta.py opened");
      assert.equal(meanwhile, "alpha");
      await showing(chat, "beta");
      await shownReply(chat, "Beta answered.");
      assert.deepEqual(await questions(chat), ["Seeded in beta"]);
      assert.match((await stored("alpha")).at(-1), /^model: piece1 .*piece10/);
      await ask(chat, "Beta, once more");
      await reply(chat, "Beta again.");
      assert.match((await lastRequest()).system, /Beta is the printer/);
      assert.deepEqual((await stored("beta")).slice(-2), ["user: Beta, once more", "model: Beta again."]);
      assert.equal((await stored("alpha")).length, 2);
    },
  );

  vsTest(
    "another editor's turn on alpha does not show while beta is shown; back on alpha it is there, and its next one shows live",
    async (s) => {
      const { chat } = s;
      await fresh(s.page);
      await openFileOf(s, "beta");
      await chat.locator(".welcome").waitFor({ timeout: 15000 });
      await seed("alpha", "Other asks alpha", "Other answered on alpha.");
      await seed("beta", "Other asks beta", "Other answered on beta.");
      // The store's changes reach the window in order: alpha's came before this one.
      await chat
        .locator(".entry.user.from-other", { hasText: "Other asks beta" })
        .waitFor({ timeout: 15000 });
      await shownReply(chat, "Other answered on beta.");
      assert.equal(await chat.locator(".entry", { hasText: "Other asks alpha" }).count(), 0);
      assert.equal(await chat.locator(".entry", { hasText: "Other answered on alpha." }).count(), 0);

      await openFileOf(s, "alpha");
      await shownReply(chat, "Other answered on alpha.");
      assert.deepEqual(await questions(chat), ["Other asks alpha"]);

      await script({ chunks: PIECES, chunkDelay: 0.3 });
      const done = other.api.chat({ workspace: uri("alpha"), message: "Other streams on alpha" }, {});
      const live = chat.locator(".entry.model.from-other .entry-body").last();
      await chat
        .locator(".entry.user.from-other", { hasText: "Other streams on alpha" })
        .waitFor({ timeout: 15000 });
      await waitFor("part of the other's reply", async () => /piece2/.test(await live.innerText()), 15000);
      assert.ok(!(await live.innerText()).includes("piece10"), "seen while it streams");
      await done;
      await waitFor("the whole reply", async () => (await live.innerText()).includes("piece10"), 15000);
    },
  );

  vsTest(
    "with no editor open the folder button picks beta: shown pinned, asked, kept while a file of alpha is active; picking alpha there follows the editor again",
    async (s) => {
      const { page, chat } = s;
      await fresh(page);
      await seed("beta", "Seeded in beta", "Beta answered.");
      await openFileOf(s, "alpha");
      await runCommand(page, "View: Close All Editors");
      await page
        .locator(".editor-group-container .tab")
        .first()
        .waitFor({ state: "detached", timeout: 15000 });
      await showing(chat, "alpha");
      await chat.locator("#workspace").click();
      await pickInQuickPick(page, PICKER, "beta");
      await showing(chat, "beta");
      await shownReply(chat, "Beta answered.");
      assert.equal(await pinned(chat), true);
      assert.match(await chat.locator("#workspace").getAttribute("title"), /^beta: picked by hand/);
      await script({ reply: "Picked and answered." }, { reply: "Still beta." });
      await ask(chat, "Asked of the picked folder");
      await reply(chat, "Picked and answered.");
      assert.match((await lastRequest()).system, /Beta is the printer/);
      assert.equal((await stored("beta")).at(-2), "user: Asked of the picked folder");
      assert.deepEqual(await stored("alpha"), []);
      await screenshot(page, "vscode-folders-picked", { artifactOnly: true });

      // Picked by hand, it stays with alpha.py active.
      await openFile(page, "alpha.py");
      await ask(chat, "Still the picked one?");
      await reply(chat, "Still beta.");
      assert.equal(await chat.locator("#workspace-name").innerText(), "beta");
      assert.equal((await stored("beta")).at(-1), "model: Still beta.");
      assert.deepEqual(await stored("alpha"), []);
      assert.equal(await pinned(chat), true);

      // The active file's folder picked: following the active editor again.
      await chat.locator("#workspace").click();
      await pickInQuickPick(page, PICKER, "alpha");
      await showing(chat, "alpha");
      await waitFor("the pin gone", async () => !(await pinned(chat)), 15000);
      await openFileOf(s, "beta");
    },
  );
});
