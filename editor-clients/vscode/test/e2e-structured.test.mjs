// Issue 17 in real VS Code (code-server + Chromium, the packaged .vsix): Imagen through /image
// and the command, another editor's images, editing an attached image with a Gemini image
// model, JSON mode with a schema picked from the folder, the cost on each usage line, and the
// rate limit in the status bar. One window; a second daemon on the folder reads the store.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe } from "node:test";
import { screenshot } from "./browser.mjs";
import { ask, freshChat, imageSizes, reply, statusItem, viewAction } from "./chatUi.mjs";
import { DEFAULT_MODEL, PNG_BASE64, requests, script, waitFor } from "./helpers.mjs";
import { openGeminiView, otherEditor, pickInQuickPick, runCommand, sharedVsCode } from "./vscode.mjs";

const require = createRequire(import.meta.url);
const { GeminiApi } = require("../out/api.js");
const { money } = require("../out/usageText.js");

const BLUE =
  "iVBORw0KGgoAAAANSUhEUgAAADAAAAAwCAIAAADYYG7QAAAAOklEQVR42u3OQQ0AAAgEoItjJrMbxhbOBxsBSPW8EiEhISEhISEhISEhISEhISEhISEhISEhISGhOwvkWU61M1J+KAAAAABJRU5ErkJggg==";
const GREEN =
  "iVBORw0KGgoAAAANSUhEUgAAACgAAAAoCAIAAAADnC86AAAAMElEQVR42u3NQQkAAAgEsItjJnMa0BKCn8H+S02/iFgsFovFYrFYLBaLxWKxWHxnAXm6kerYQYo4AAAAAElFTkSuQmCC";
const PERSON_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer" } },
  required: ["name", "age"],
};

/** Paste an image into the chat input, as the clipboard would. */
function pasteImage(chat, b64) {
  return chat.locator("#input").evaluate((input, data) => {
    const transfer = new DataTransfer();
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], "image.png", { type: "image/png" }));
    input.dispatchEvent(
      new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }),
    );
  }, b64);
}

/** Wait for the context meter to read `text`; a timeout says every state it went through. */
async function meterReads(meter, text) {
  try {
    await waitFor(`the meter to read ${text}`, async () => (await meter.innerText()) === text);
  } catch (err) {
    const seen = await meter.evaluate(() => window.meterSeen).catch(() => undefined);
    throw new Error(`${err.message}; it read ${JSON.stringify(seen)} since the chat reply`);
  }
}

describe("Images, JSON, cost and limits in real VS Code (code-server)", () => {
  const { session, vsTest } = sharedVsCode({
    files: { "schemas/person.schema.json": JSON.stringify(PERSON_SCHEMA, null, 2) },
  });
  const other = otherEditor(session);

  const lastReply = (chat) => chat.locator(".entry.model").last();

  vsTest(
    "/image asks Imagen's predict with its options and shows the images inline with their cost; the command and another editor's request join the conversation",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      // Imagen answers after 5 s: meanwhile the reply says it is drawing (a status gone once drawn).
      await script({ delay: 5 });
      await ask(chat, "/image -n 2 --aspect 16:9 a lighthouse at dusk");
      const drawing = lastReply(chat).locator(".note.status", { hasText: "Drawing 2 images…" });
      await drawing.waitFor({ timeout: 5000 });
      assert.equal(await lastReply(chat).locator(".cursor").count(), 0, "no text cursor: Imagen writes none");
      await screenshot(page, "vscode-imagen-drawing", { artifactOnly: true });
      assert.deepEqual(await imageSizes(lastReply(chat), 2), ["88x48", "88x48"], "16:9, as Imagen drew them");
      assert.equal(await lastReply(chat).locator(".note.status").count(), 0, "drawn");
      const [predict] = await requests(":predict");
      assert.deepEqual(predict.body.instances, [{ prompt: "a lighthouse at dusk" }]);
      assert.deepEqual(
        [predict.body.parameters.sampleCount, predict.body.parameters.aspectRatio],
        [2, "16:9"],
      );
      const model = /models\/([^:]+):predict/.exec(predict.path)[1];
      const question = chat.locator(".entry.user").last();
      assert.equal(await question.locator(".entry-body").innerText(), "a lighthouse at dusk");
      assert.equal(await question.locator(".note.imagen").innerText(), `Imagen · 2 images · 16:9 · ${model}`);
      await lastReply(chat)
        .locator(".entry-footer", { hasText: `2 images · $0.08 reply, $0.08 conversation · ${model}` })
        .waitFor({ timeout: 15000 });
      await screenshot(page, "vscode-imagen");
      // The command: the prompt, then the shape.
      await runCommand(page, "Gemini: Generate Image…");
      const box = page.locator(".quick-input-widget .quick-input-box input");
      await waitFor("the prompt box", async () =>
        /lighthouse at dusk, watercolour/.test((await box.getAttribute("placeholder")) ?? ""),
      );
      await box.fill("a tall red tower");
      await box.press("Enter");
      await pickInQuickPick(page, "Aspect ratio", "3:4");
      await waitFor(
        "the third and fourth exchange",
        async () => (await chat.locator(".entry.model").count()) === 2,
      );
      assert.deepEqual(await imageSizes(lastReply(chat), 1), ["56x80"]);
      const predicts = await requests(":predict");
      const { sampleCount, aspectRatio } = predicts.at(-1).body.parameters;
      assert.deepEqual([sampleCount, aspectRatio], [1, "3:4"]);
      // Another editor's /image: its prompt appears marked as theirs, its image once stored.
      await new GeminiApi(other.connection).generateImage({
        workspace: other.workspace,
        prompt: "a blue whale",
      });
      await chat.locator(".entry.user.from-other", { hasText: "a blue whale" }).waitFor({ timeout: 15000 });
      assert.deepEqual(await imageSizes(chat.locator(".entry.model.from-other").last(), 1), ["64x64"]);
      assert.equal(
        (await other.connection.sendRequest("gemini/history", { workspace: other.workspace })).turns.length,
        6,
      );
    },
  );

  vsTest(
    "with a Gemini image model, an attached picture and a change asked for come back as the edited image; the next turn edits that one",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      await chat.locator("#model").selectOption("gemini-2.5-flash-image");
      await statusItem(page, "gemini-2.5-flash-image").waitFor({ timeout: 15000 });
      await pasteImage(chat, PNG_BASE64);
      await chat.locator("#attachments .chip", { hasText: "pasted-image-1.png" }).waitFor({ timeout: 15000 });
      await script({ reply: "Here it is, in blue.", image: { mimeType: "image/png", data: BLUE } });
      await ask(chat, "Make the sky blue");
      await reply(chat, "in blue");
      let [req] = await requests("enerateContent");
      assert.match(req.path, /models\/gemini-2\.5-flash-image:/);
      assert.deepEqual(req.body.generationConfig.responseModalities, ["TEXT", "IMAGE"]);
      assert.equal(
        req.body.generationConfig.thinkingConfig,
        undefined,
        "not a thinking model: no thoughts asked",
      );
      assert.equal(req.body.contents.at(-1).parts[0].inlineData.data, PNG_BASE64, "the picture went with it");
      assert.deepEqual(await imageSizes(lastReply(chat), 1), ["48x48"], "the edited image shows");
      await script({ reply: "Rounder now.", image: { mimeType: "image/png", data: GREEN } });
      await ask(chat, "Now make it round");
      await reply(chat, "Rounder now.");
      [req] = (await requests("enerateContent")).slice(-1);
      const earlier = req.body.contents[1].parts.find((p) => p.inlineData !== undefined);
      assert.equal(earlier?.inlineData.data, BLUE, "the edited image goes back with the history");
      assert.deepEqual(await imageSizes(lastReply(chat), 1), ["40x40"]);
      await screenshot(page, "vscode-image-edit");
      await chat.locator("#model").selectOption(DEFAULT_MODEL);
      await statusItem(page, DEFAULT_MODEL).waitFor({ timeout: 15000 });
    },
  );

  // The context meter after image exchanges. Imagen's replies report no tokens (usage 0 but
  // `images`), yet the prompt and the images stay in the history that every later turn sends:
  // the meter keeps the last chat reply's context, marked "+" for the images drawn since.
  vsTest(
    "the context meter keeps the last chat reply's context through /image, another editor's image and the view reopened, marked + for the images since; no countTokens; New Chat empties it",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      const meter = chat.locator("#context-use");
      await script({ reply: "A lighthouse guides ships past the rocks." });
      await ask(chat, "What is a lighthouse for?");
      await reply(chat, "guides ships");
      const chatOnly = await waitFor("the meter after the chat reply", async () => {
        const shown = await meter.innerText();
        return /^\d+(\.\d)?k? \/ 1M$/.test(shown) && shown;
      });
      const used = chatOnly.split(" / ")[0];
      // Every state the meter goes through from here on, the reloads in between included.
      await meter.evaluate((el) => {
        const seen = [];
        const record = () => seen.push(el.hidden ? "(hidden)" : el.textContent);
        new MutationObserver(record).observe(el, {
          attributes: true,
          childList: true,
          characterData: true,
          subtree: true,
        });
        window.meterSeen = seen;
      });
      await ask(chat, "/image a lighthouse at dusk");
      await imageSizes(lastReply(chat), 1);
      await lastReply(chat).locator(".entry-footer", { hasText: "1 image" }).waitFor({ timeout: 15000 });
      // Another editor's request: this window reloads the history and measures it from there.
      await new GeminiApi(other.connection).generateImage({ workspace: other.workspace, prompt: "a whale" });
      await chat.locator(".entry.user.from-other", { hasText: "a whale" }).waitFor({ timeout: 15000 });
      await imageSizes(chat.locator(".entry.model.from-other").last(), 1);
      await meterReads(meter, `${used}+ / 1M`);
      const seen = await meter.evaluate(() => window.meterSeen);
      assert.deepEqual(
        [...new Set(seen)].filter((v) => v !== chatOnly),
        [`${used}+ / 1M`],
        `the meter only ever showed the chat reply's context: ${JSON.stringify(seen)}`,
      );
      assert.match(
        (await meter.getAttribute("title")) ?? "",
        /used by this conversation at its last reply, plus 2 images drawn since \(not counted\)/,
      );
      await screenshot(page, "vscode-meter-after-image", { artifactOnly: true });
      // The view reopened: everything read again from the daemon.
      await page.locator('.activitybar [aria-label^="Explorer"]').first().click();
      await chat.locator("#input").waitFor({ state: "detached", timeout: 15000 });
      await openGeminiView(s);
      await chat.locator(".entry.model.from-other img.reply-image").waitFor({ timeout: 30000 });
      await meterReads(meter, `${used}+ / 1M`);
      const upstream = (await requests("/v1beta/models/")).map((r) => r.path.split(":").pop());
      assert.deepEqual(
        upstream.filter((m) => /^(generateContent|streamGenerateContent|countTokens|predict)$/.test(m)),
        ["streamGenerateContent", "predict", "predict"],
        "one upstream call per message, none to measure",
      );
      await viewAction(page, "New Chat").click();
      await chat.locator(".welcome").waitFor({ timeout: 15000 });
      await meterReads(meter, "0 / 1M");
    },
  );

  vsTest(
    "JSON mode: the toggle and a schema picked from the folder send responseMimeType and the converted schema; the reply shows pretty and highlighted, a mismatch told",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      await chat.locator("#json-toggle").click();
      const chip = chat.locator("#json-mode");
      await chip.filter({ hasText: "JSON · any JSON" }).waitFor({ timeout: 15000 });
      await chip.click();
      await pickInQuickPick(page, "Pick the schema", "schemas/person.schema.json");
      await chip.filter({ hasText: "JSON · person.schema.json" }).waitFor({ timeout: 15000 });
      await script({ reply: '{"name": "Ada", "age": "thirty-six"}' });
      await ask(chat, "Describe Ada Lovelace");
      await reply(chat, "Ada");
      const [req] = await requests("enerateContent");
      const config = req.body.generationConfig;
      assert.equal(config.responseMimeType, "application/json");
      assert.equal(config.responseSchema.type, "OBJECT");
      assert.deepEqual(config.responseSchema.properties, {
        name: { type: "STRING" },
        age: { type: "INTEGER" },
      });
      assert.deepEqual(config.responseSchema.required, ["name", "age"]);
      assert.deepEqual(config.responseSchema.propertyOrdering, ["name", "age"]);
      const code = lastReply(chat).locator("pre code.language-json");
      assert.equal((await code.innerText()).trimEnd(), '{\n  "name": "Ada",\n  "age": "thirty-six"\n}');
      assert.ok((await code.locator("span.hljs-attr").count()) === 2, "the keys highlighted");
      const verdict = lastReply(chat).locator(".json-verdict.invalid");
      assert.equal(
        await verdict.locator(".json-verdict-head").innerText(),
        "Does not match schemas/person.schema.json: 1 problem",
      );
      assert.match(await verdict.locator("li").innerText(), /\$\.age: 'thirty-six' is not of type 'integer'/);
      assert.match(
        await chat.locator(".entry.user .badge").last().innerText(),
        /JSON · person\.schema\.json/,
      );
      await screenshot(page, "vscode-json");
      await script({ reply: '{"name": "Ada", "age": 36}' });
      await ask(chat, "Again, with her age in years");
      await reply(chat, "36");
      assert.equal(
        await lastReply(chat).locator(".json-verdict.valid").innerText(),
        "Valid JSON, matches schemas/person.schema.json",
      );
      await chat.locator("#json-toggle").click();
      await chip.waitFor({ state: "hidden" });
      await script({ reply: "Plain words again." });
      await ask(chat, "And in words?");
      await reply(chat, "Plain words again.");
      const last = (await requests("enerateContent")).at(-1);
      assert.equal(last.body.generationConfig?.responseMimeType, undefined, "JSON mode off: text again");
    },
  );

  vsTest(
    "each reply's usage line shows its cost and the conversation's, as the daemon priced them; the second total adds both",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      await script({ reply: "One." }, { reply: "Two, a longer answer than the first one was." });
      await ask(chat, "First?");
      await reply(chat, "One.");
      await ask(chat, "Second?");
      await reply(chat, "Two, a longer");
      const history = await other.connection.sendRequest("gemini/history", { workspace: other.workspace });
      const [first, second] = [history.turns[1].usage.cost, history.turns[3].usage.cost];
      assert.equal(second.conversation.toFixed(8), (first.reply + second.reply).toFixed(8));
      const footers = chat.locator(".entry.model .entry-footer .cost");
      await waitFor("both costs", async () => (await footers.count()) === 2, 15000);
      assert.deepEqual(await footers.allInnerTexts(), [
        `${money(first.reply)} reply, ${money(first.conversation)} conversation`,
        `${money(second.reply)} reply, ${money(second.conversation)} conversation`,
      ]);
      await screenshot(page, "vscode-cost");
    },
  );

  // Last of the group: the daily quota stays used up for the window's daemon.
  vsTest(
    "a used-up daily quota shows in the status bar with when it lifts, after the turn's error says so",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      await script({ status: 429, quota: "day" });
      await ask(chat, "Still there?");
      const error = chat.locator(".entry.error").last();
      await error.waitFor({ timeout: 30000 });
      assert.match(await error.innerText(), /daily|per-day|day/i);
      const item = statusItem(page, "daily quota");
      await item.waitFor({ timeout: 15000 });
      assert.match(await item.innerText(), /gemini-2\.5-flash: daily quota · lifts at \d\d:\d\d/);
      await screenshot(page, "vscode-rate-limit");
    },
  );
});
