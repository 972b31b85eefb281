// The chat webview in Chromium, the parts of issue 17: Imagen requests and their images, JSON
// replies (pretty, highlighted, their check told), JSON mode's toggle and schema chip, the cost on
// the usage line, /image's hint and a refused command's text put back.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import { screenshot } from "./browser.mjs";
import { waitFor } from "./helpers.mjs";
import { PNG_SRC, state, usage, useWebview } from "./webviewPage.mjs";

const require = createRequire(import.meta.url);
const { drawingLabel } = require("../out/imageAsk.js");

const cost = (reply, conversation) => ({ reply, conversation, currency: "USD" });

describe("chat webview in Chromium: images, JSON, cost", () => {
  const ctx = useWebview();
  const { send, sent, entry } = ctx;

  test("an Imagen request: the prompt with what was asked, the images, why one was filtered, and its cost", async () => {
    const imagen = { model: "imagen-4.0-generate-001", numberOfImages: 3, aspectRatio: "16:9" };
    const images = [1, 2].map((i) => ({
      mimeType: "image/png",
      path: `/data/images/${i}.png`,
      src: PNG_SRC,
    }));
    const entries = [
      { id: "u1", role: "user", text: "a lighthouse at dusk", imagen },
      {
        id: "m1",
        role: "model",
        text: "",
        model: "imagen-4.0-generate-001",
        images,
        filtered: ["This image was filtered out because it violated Google's Responsible AI practices."],
        usage: {
          promptTokens: 0,
          replyTokens: 0,
          thoughtsTokens: 0,
          totalTokens: 0,
          images: 2,
          cost: cost(0.08, 0.08),
        },
      },
    ];
    await send({ type: "snapshot", state: state({ entries }) });
    assert.equal(
      await entry("u1").locator(".note.imagen").innerText(),
      "Imagen · 3 images · 16:9 · imagen-4.0-generate-001",
    );
    await waitFor("both images drawn", () =>
      entry("m1")
        .locator("img.reply-image")
        .evaluateAll((imgs) => imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth === 160)),
    );
    assert.match(
      await entry("m1").locator(".note.filtered").innerText(),
      /^Filtered: This image was filtered/,
    );
    assert.equal(
      await entry("m1").locator(".entry-footer").innerText(),
      "2 images · $0.08 reply, $0.08 conversation · imagen-4.0-generate-001",
    );
  });

  test("while Imagen draws, the reply says so instead of a text cursor; a chat reply streaming has its cursor", async () => {
    const entries = [
      { id: "u1", role: "user", text: "a red dot", imagen: { model: "", numberOfImages: 1 } },
      { id: "m1", role: "model", text: "", streaming: true, status: drawingLabel({ numberOfImages: 1 }) },
      { id: "u2", role: "user", text: "and in words?" },
      { id: "m2", role: "model", text: "A red", streaming: true },
    ];
    await send({ type: "snapshot", state: state({ entries, busy: true }) });
    assert.equal(await entry("m1").locator(".note.status").innerText(), "Drawing 1 image…");
    assert.equal(await entry("m1").locator(".cursor").count(), 0, "nothing is being written");
    assert.equal(await entry("u1").locator(".note.imagen").innerText(), "Imagen · 1 image");
    assert.equal(await entry("m2").locator(".cursor").count(), 1);
  });

  test("a JSON reply shows pretty-printed and highlighted; a mismatch lists each problem and where", async () => {
    const asJson = { schema: "schemas/person.schema.json" };
    const value = { name: "Ada", age: "thirty-six", languages: ["en", "fr"] };
    const errors = ["$.age: 'thirty-six' is not of type 'integer'", "$: 'email' is a required property"];
    const entries = [
      { id: "u1", role: "user", text: "Describe Ada", asJson },
      {
        id: "m1",
        role: "model",
        text: JSON.stringify(value),
        asJson,
        json: { valid: false, errors, value },
        usage: { ...usage, cost: cost(0.00014125, 0.0021) },
        model: "gemini-2.5-flash",
      },
    ];
    await send({ type: "snapshot", state: state({ entries }) });
    assert.equal(await entry("u1").locator(".badge").innerText(), "JSON · person.schema.json");
    const code = entry("m1").locator(".code-block pre code.language-json");
    assert.equal((await code.innerText()).trimEnd(), JSON.stringify(value, null, 2), "pretty-printed");
    assert.ok((await code.locator("span.hljs-attr").count()) >= 3, "keys highlighted");
    assert.ok((await code.locator("span.hljs-string").count()) >= 3, "strings highlighted");
    const verdict = entry("m1").locator(".json-verdict.invalid");
    assert.equal(
      await verdict.locator(".json-verdict-head").innerText(),
      "Does not match schemas/person.schema.json: 2 problems",
    );
    assert.deepEqual(await verdict.locator(".json-errors li").allInnerTexts(), errors);
    assert.equal(await verdict.isVisible(), true, "told, not folded away");
    assert.match(
      await entry("m1").locator(".entry-footer").innerText(),
      /41 in · 9 out tokens · \$0\.00014 reply, \$0\.0021 conversation · gemini-2\.5-flash/,
    );
    await screenshot(ctx.page, "webview-json-mismatch");
  });

  test("a valid JSON reply says so; one that is not JSON shows as it came, with the check's words", async () => {
    const entries = [
      {
        id: "m1",
        role: "model",
        text: '{"ok": true}',
        asJson: {},
        json: { valid: true, errors: [], value: { ok: true } },
      },
      {
        id: "m2",
        role: "model",
        text: "Sure! Here is some JSON:",
        json: { valid: false, errors: ["The reply is not JSON: Expecting value: line 1 column 1 (char 0)"] },
      },
    ];
    await send({ type: "snapshot", state: state({ entries }) });
    assert.equal(await entry("m1").locator(".json-verdict.valid").innerText(), "Valid JSON");
    assert.equal(
      (await entry("m1").locator("code.language-json").innerText()).trimEnd(),
      '{\n  "ok": true\n}',
    );
    assert.equal(await entry("m2").locator(".json-verdict-head").innerText(), "The reply is not JSON");
    assert.equal(
      (await entry("m2").locator("code.language-json").innerText()).trimEnd(),
      "Sure! Here is some JSON:",
    );
  });

  test("a JSON reply streams into a json block, then takes its parsed form", async () => {
    const entries = [{ id: "m1", role: "model", text: "", streaming: true, asJson: {} }];
    await send({ type: "snapshot", state: state({ entries, busy: true }) });
    await send({ type: "delta", id: "m1", text: '{"name": "A' });
    const code = entry("m1").locator("code.language-json");
    await waitFor(
      "the partial JSON in a block",
      async () => (await code.count()) === 1 && /"A/.test(await code.innerText()),
    );
    const done = {
      id: "m1",
      role: "model",
      text: '{"name": "Ada"}',
      asJson: {},
      json: { valid: true, errors: [], value: { name: "Ada" } },
    };
    await send({ type: "entry", entry: done });
    await waitFor(
      "the pretty form",
      async () => (await code.innerText()).trimEnd() === '{\n  "name": "Ada"\n}',
    );
  });

  test("JSON mode: the toggle asks the host, the chip names the schema and picks another, pressed while on", async () => {
    await send({ type: "snapshot", state: state() });
    const toggle = ctx.page.locator("#json-toggle");
    const chip = ctx.page.locator("#json-mode");
    assert.equal(await toggle.getAttribute("aria-pressed"), "false");
    assert.equal(await chip.isVisible(), false);
    await toggle.click();
    assert.deepEqual(await sent("jsonMode"), [{ type: "jsonMode", on: true }]);
    await send({ type: "composer", attachments: [], jsonMode: { schema: "schemas/person.schema.json" } });
    await chip.waitFor({ state: "visible" });
    assert.equal(await chip.innerText(), "JSON · person.schema.json");
    assert.equal(await toggle.getAttribute("aria-pressed"), "true");
    await screenshot(ctx.page, "webview-json-mode");
    await chip.click();
    assert.equal((await sent("pickSchema")).length, 1);
    await toggle.click();
    assert.deepEqual((await sent("jsonMode")).at(-1), { type: "jsonMode", on: false });
    await send({ type: "composer", attachments: [] });
    await chip.waitFor({ state: "hidden" });
    assert.equal(await toggle.getAttribute("aria-pressed"), "false");
  });

  test("typing / shows what /image takes; text the host refused comes back into the input", async () => {
    await send({ type: "snapshot", state: state() });
    const input = ctx.page.locator("#input");
    const hint = ctx.page.locator("#hint");
    await input.pressSequentially("/ima");
    assert.match(await hint.innerText(), /^\/image \[-n 1-4\] \[--aspect .*PROMPT: Imagen draws it/);
    await input.fill("");
    await input.pressSequentially("plain question");
    assert.equal(await hint.isVisible(), false);
    await input.fill("");
    await send({ type: "restoreInput", text: "/image -n 9 a cat" });
    await waitFor("the text back", async () => (await input.inputValue()) === "/image -n 9 a cat");
  });

  test("a reply of a model without a price shows tokens only", async () => {
    const entries = [{ id: "m1", role: "model", text: "Hi.", usage, model: "my-tuned-model" }];
    await send({ type: "snapshot", state: state({ entries }) });
    assert.equal(
      await entry("m1").locator(".entry-footer").innerText(),
      "41 in · 9 out tokens · my-tuned-model",
    );
  });
});
