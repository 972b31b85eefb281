// One live conversation per folder, in real VS Code: a second daemon on the same folder and data
// folder (what the terminal client or Neovim run) plays the other editor.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe } from "node:test";
import { screenshot } from "./browser.mjs";
import { ask, freshChat, imageSizes, reply, statusItem } from "./chatUi.mjs";
import { DEFAULT_MODEL, requests, resetEmulator, script, startDaemon, waitFor } from "./helpers.mjs";
import { openGeminiView, otherEditor, sharedVsCode } from "./vscode.mjs";

const require = createRequire(import.meta.url);
const { GeminiApi } = require("../out/api.js");

const PIECES = Array.from({ length: 12 }, (_, i) => `piece${i + 1} `);

describe("One live conversation per folder, in real VS Code (code-server)", () => {
  const { session, vsTest } = sharedVsCode();
  const other = otherEditor(session);

  /** A turn sent by the other editor; resolves with its result. `pieces()`: deltas seen so far. */
  function otherTurn(message, api = new GeminiApi(other.connection)) {
    const seen = [];
    const done = api.chat(
      { workspace: other.workspace, message },
      { onDelta: (d) => seen.push(d.text ?? "") },
    );
    return { done, pieces: () => seen.filter((t) => t !== "").length };
  }

  const mirrored = (chat) => chat.locator(".entry.model.from-other").last();

  vsTest(
    "another editor's turn appears as it starts, streams its reply in place marked as theirs, and stays once stored",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      await script({ chunks: PIECES, chunkDelay: 0.4 });
      const turn = otherTurn("From the terminal: what is add?");
      await chat.locator(".entry.user.from-other", { hasText: "what is add?" }).waitFor({ timeout: 15000 });
      const body = mirrored(chat).locator(".entry-body");
      await waitFor("part of the reply", async () => /piece2/.test(await body.innerText()), 15000);
      assert.ok(!(await body.innerText()).includes("piece12"), "seen while it streams");
      assert.equal(await mirrored(chat).locator(".badge").innerText(), "another editor");
      await screenshot(page, "vscode-mirrored");
      await turn.done;
      await waitFor("the whole reply", async () => (await body.innerText()).includes("piece12"), 15000);
      // Stored: the change feed reloads the history; the turn keeps its place and its mark.
      await mirrored(chat).locator(".entry-footer", { hasText: "tokens" }).waitFor({ timeout: 15000 });
      assert.equal(await chat.locator(".entry.user").count(), 1);
      assert.equal(await chat.locator(".entry.model.from-other .badge").count(), 1);
    },
  );

  vsTest(
    "while the view is hidden another editor's turn goes on; shown again mid-turn it has it and follows it",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      await page.locator('.activitybar [aria-label^="Explorer"]').first().click();
      await chat.locator("#input").waitFor({ state: "detached", timeout: 15000 });
      await script({ chunks: PIECES, chunkDelay: 0.5 });
      const turn = otherTurn("Asked while you looked away");
      await waitFor("the other turn to stream", async () => turn.pieces() >= 2, 15000);
      await openGeminiView(s);
      await chat.locator(".entry.user.from-other", { hasText: "looked away" }).waitFor({ timeout: 15000 });
      const body = mirrored(chat).locator(".entry-body");
      await waitFor("the reply so far", async () => /piece\d/.test(await body.innerText()), 15000);
      assert.ok(!(await body.innerText()).includes("piece12"), "caught up mid-turn, not after it");
      await turn.done;
      await waitFor("the rest of it", async () => (await body.innerText()).includes("piece12"), 15000);
    },
  );

  vsTest(
    "kill -9 of the other editor's daemon mid-turn leaves its partial reply marked interrupted; Send again asks it from here",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      const doomed = await startDaemon([s.folder]);
      await script({ chunks: PIECES, chunkDelay: 0.5 });
      const turn = otherTurn("Explain the whole module", new GeminiApi(doomed.connection));
      turn.done.catch(() => undefined);
      await waitFor("the doomed turn to stream", async () => turn.pieces() >= 3, 15000);
      doomed.child.kill("SIGKILL");
      const interrupted = chat.locator(".entry.model", { has: chat.locator(".note.interrupted") });
      await interrupted.waitFor({ timeout: 15000 });
      assert.match(await interrupted.locator(".entry-body").innerText(), /piece1 piece2/);
      await screenshot(page, "vscode-interrupted");
      await resetEmulator();
      await script({ reply: "Answered here, in full." });
      await interrupted.getByRole("button", { name: "Send again" }).click();
      await reply(chat, "Answered here, in full.");
      const [req] = await requests("enerateContent");
      assert.equal(req.body.contents.at(-1).parts.at(-1).text, "Explain the whole module");
      assert.equal(req.body.contents.length, 1, "the partial reply is never sent upstream");
      await waitFor(
        "the interrupted turn gone",
        async () => (await chat.locator(".note.interrupted").count()) === 0,
      );
      assert.equal(await chat.locator(".entry.user", { hasText: "Explain the whole module" }).count(), 1);
    },
  );

  vsTest(
    "kill -9 of the other editor's daemon while Imagen draws leaves the image request interrupted; Draw again asks :predict from here and shows the images",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      const doomed = await startDaemon([s.folder]);
      // Imagen answers after 30 s: the doomed daemon is killed while it waits.
      await script({ delay: 30 });
      const asked = { prompt: "a lighthouse at dusk", numberOfImages: 2, aspectRatio: "16:9" };
      new GeminiApi(doomed.connection)
        .generateImage({ workspace: other.workspace, ...asked })
        .catch(() => undefined);
      const [waiting] = await waitFor("the doomed request at Imagen", async () => {
        const seen = await requests(":predict");
        return seen.length === 1 && seen;
      });
      const model = /models\/([^:]+):predict/.exec(waiting.path)[1];
      doomed.child.kill("SIGKILL");
      const interrupted = chat.locator(".entry.model", { has: chat.locator(".note.interrupted") });
      await interrupted.waitFor({ timeout: 15000 });
      assert.match(await interrupted.locator(".note.interrupted").innerText(), /drawing this image/);
      const question = chat.locator(".entry.user", { hasText: "a lighthouse at dusk" });
      assert.equal(await question.locator(".note.imagen").innerText(), `Imagen · 2 images · 16:9 · ${model}`);
      assert.equal(await interrupted.getByRole("button", { name: "Send again" }).count(), 0);
      await screenshot(page, "vscode-interrupted-image");
      await resetEmulator();
      await interrupted.getByRole("button", { name: "Draw again" }).click();
      assert.deepEqual(await imageSizes(chat.locator(".entry.model").last(), 2), ["88x48", "88x48"]);
      const [predict] = await requests(":predict");
      assert.equal(predict.path.includes(`models/${model}:predict`), true, "the same Imagen model");
      assert.deepEqual(predict.body.instances, [{ prompt: "a lighthouse at dusk" }]);
      const { sampleCount, aspectRatio } = predict.body.parameters;
      assert.deepEqual([sampleCount, aspectRatio], [2, "16:9"]);
      assert.deepEqual(await requests("enerateContent"), [], "not asked of the chat model");
      await chat.locator(".entry.model .entry-footer", { hasText: "2 images" }).waitFor({ timeout: 15000 });
      await waitFor(
        "the interrupted request gone",
        async () => (await chat.locator(".note.interrupted").count()) === 0,
      );
      assert.equal(await question.count(), 1);
      assert.equal(await chat.locator(".entry.model .note.status").count(), 0, "no longer drawing");
      await screenshot(page, "vscode-interrupted-image-drawn", { artifactOnly: true });
    },
  );

  vsTest(
    "another editor's image request shows as one while Imagen draws (its prompt under its Imagen line, 'Drawing 2 images…', no reply cursor), then its two images in place",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      // Imagen answers after 10 s: the view is checked while the emulator holds :predict.
      await script({ delay: 10 });
      const prompt = "a harbour in the fog";
      let answered = false;
      const done = new GeminiApi(other.connection)
        .generateImage({ workspace: other.workspace, prompt, numberOfImages: 2, aspectRatio: "16:9" })
        .finally(() => {
          answered = true;
        });
      const [waiting] = await waitFor("the other request at Imagen", async () => {
        const seen = await requests(":predict");
        return seen.length === 1 && seen;
      });
      const model = /models\/([^:]+):predict/.exec(waiting.path)[1];
      const question = chat.locator(".entry.user.from-other", { hasText: prompt });
      await question.locator(".note.imagen").waitFor({ timeout: 5000 });
      assert.equal(await question.locator(".note.imagen").innerText(), `Imagen · 2 images · 16:9 · ${model}`);
      const pending = mirrored(chat);
      assert.equal(await pending.locator(".note.status").innerText(), "Drawing 2 images…");
      assert.equal(await pending.locator(".badge").innerText(), "another editor");
      assert.equal(await pending.locator(".cursor").count(), 0, "no chat reply being written");
      await screenshot(page, "vscode-mirrored-image", { artifactOnly: true });
      assert.equal(answered, false, "all of it seen while :predict was held");
      await done;
      assert.deepEqual(await imageSizes(pending, 2), ["88x48", "88x48"]);
      await pending.locator(".entry-footer", { hasText: "2 images" }).waitFor({ timeout: 15000 });
      assert.equal(await pending.locator(".note.status").count(), 0, "no longer drawing");
      assert.equal(await question.count(), 1, "the reload keeps one request");
      assert.equal(await question.locator(".note.imagen").count(), 1);
      await screenshot(page, "vscode-mirrored-image-drawn", { artifactOnly: true });
    },
  );

  vsTest(
    "Enter while this window's reply streams queues the question; it is sent when the reply ends, with that exchange",
    async (s) => {
      const { chat } = s;
      await freshChat(s);
      await script({ chunks: PIECES, chunkDelay: 0.3 }, { reply: "Second answer." });
      await ask(chat, "First question");
      await chat.locator(".entry.model .entry-body", { hasText: "piece1" }).waitFor({ timeout: 15000 });
      await ask(chat, "Second question");
      const queued = chat.locator(".entry.user.queued", { hasText: "Second question" });
      await queued.locator(".badge", { hasText: "queued" }).waitFor({ timeout: 5000 });
      await reply(chat, "Second answer.");
      const calls = await requests("enerateContent");
      assert.equal(calls.length, 2);
      const second = calls.find((r) => JSON.stringify(r.body.contents.at(-1)).includes("Second question"));
      assert.equal(second.body.contents.length, 3, "the first exchange went with the second question");
    },
  );

  vsTest("New Chat and a model picked in another editor show here at once", async (s) => {
    const { page, chat } = s;
    await freshChat(s);
    await script({ reply: "Kept for now." });
    await ask(chat, "Something to forget");
    await reply(chat, "Kept for now.");
    const api = new GeminiApi(other.connection);
    await api.reset(other.workspace);
    await chat.locator(".welcome").waitFor({ timeout: 15000 });
    await api.setModel(other.workspace, "gemini-2.5-pro");
    await statusItem(page, "gemini-2.5-pro").waitFor({ timeout: 15000 });
    await waitFor(
      "the view's picker",
      async () => (await chat.locator("#model").inputValue()) === "gemini-2.5-pro",
    );
    await api.setModel(other.workspace, null);
    await statusItem(page, DEFAULT_MODEL).waitFor({ timeout: 15000 });
  });
});
