// Protocol layer: the extension's GeminiApi (out/api.js) over vscode-jsonrpc against the real
// daemon and the emulator.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { CancellationTokenSource } from "vscode-jsonrpc/node.js";
import {
  DEFAULT_MODEL,
  makeWorkspace,
  PNG_BASE64,
  requests,
  resetEmulator,
  script,
  startDaemon,
} from "./helpers.mjs";

const require = createRequire(import.meta.url);
const { GeminiApi, describeError } = require("../out/api.js");

const root = mkdtempSync(join(tmpdir(), "gemini-vscode-protocol-"));
const folder = makeWorkspace(root);
const workspace = pathToFileURL(folder).href;

describe("GeminiApi against the real daemon", () => {
  let daemon;
  let api;

  before(async () => {
    daemon = await startDaemon([folder]);
    api = new GeminiApi(daemon.connection);
  });

  after(async () => {
    await daemon?.close();
  });

  beforeEach(async () => {
    await resetEmulator();
    await api.reset(workspace);
  });

  test("initialize advertises protocol version 1 with streaming", () => {
    const gemini = daemon.init.capabilities.experimental.geminiChat;
    assert.equal(gemini.protocolVersion, 1);
    assert.equal(gemini.streaming, true);
    assert.ok(gemini.methods.includes("gemini/chat"));
  });

  test("a streamed reply arrives piece by piece and the pieces join to the result", async () => {
    await script({ chunks: ["Two dogs ", "have ", "8 paws."] });
    const deltas = [];
    const result = await api.chat(
      { workspace, message: "How many paws?" },
      { onDelta: (d) => deltas.push(d.text ?? "") },
    );
    assert.equal(result.text, "Two dogs have 8 paws.");
    assert.ok(deltas.length >= 3, `expected 3 pieces, got ${JSON.stringify(deltas)}`);
    assert.equal(deltas.join(""), result.text);
    assert.equal(result.turn, 1);
    assert.ok(result.usage.totalTokens > 0);
  });

  test("the key goes only in the x-goog-api-key header", async () => {
    await script({ reply: "ok" });
    await api.chat({ workspace, message: "hi" });
    const [req] = await requests("enerateContent");
    assert.equal(req.headers["x-goog-api-key"], process.env.GEMINI_API_KEY);
    assert.ok(!JSON.stringify(req.query).includes(process.env.GEMINI_API_KEY));
    assert.ok(!daemon.stderr().includes(process.env.GEMINI_API_KEY));
  });

  test("history returns both turns of a finished exchange, oldest first", async () => {
    await script({ reply: "Hello there." });
    await api.chat({ workspace, message: "Hello?" });
    const history = await api.history(workspace);
    assert.deepEqual(
      history.turns.map((t) => [t.role, t.text]),
      [
        ["user", "Hello?"],
        ["model", "Hello there."],
      ],
    );
  });

  test("stop cancels a slow reply and leaves the history unchanged", async () => {
    await script({ chunks: ["first ", "second ", "third ", "fourth"], chunkDelay: 1 });
    const cts = new CancellationTokenSource();
    const deltas = [];
    const pending = api.chat(
      { workspace, message: "Tell me slowly" },
      {
        onDelta: (d) => {
          deltas.push(d.text);
          cts.cancel();
        },
      },
      cts.token,
    );
    const error = await pending.then(
      () => assert.fail("a cancelled chat must not resolve"),
      (e) => e,
    );
    assert.equal(describeError(error).kind, "cancelled");
    assert.deepEqual(deltas, ["first "]);
    assert.equal((await api.history(workspace)).turns.length, 0);
  });

  test("a selection attachment (uri + range) reaches Gemini as text", async () => {
    await script({ reply: "It adds." });
    const uri = pathToFileURL(join(folder, "src", "app.py")).href;
    const range = { start: { line: 0, character: 0 }, end: { line: 1, character: 16 } };
    await api.chat({ workspace, message: "What does this do?", attachments: [{ uri, range }] });
    const [req] = await requests("enerateContent");
    const sent = JSON.stringify(req.body.contents);
    assert.ok(sent.includes("def add(a, b)"), sent);
    assert.ok(!sent.includes("print(add(2, 3))"), "only the selected lines are sent");
  });

  test("a long rate limit fails with an error the UI offers to retry", async () => {
    await script({ status: 429, retryDelay: "600s" });
    const error = await api.chat({ workspace, message: "hi" }).catch((e) => e);
    const view = describeError(error);
    assert.equal(view.reason, "rateLimited");
    assert.equal(view.action, "retry");
  });

  test("models lists bare model ids that can chat", async () => {
    const result = await api.models();
    assert.ok(result.models.length > 0);
    for (const m of result.models) assert.ok(!m.name.startsWith("models/"), m.name);
    assert.ok(result.models.some((m) => m.name === result.default));
  });

  test("a tool round: the call is announced, listed in the result and in history", async () => {
    await script(
      { functionCall: { name: "read_file", args: { path: "src/app.py" } } },
      { reply: "It adds." },
    );
    const tools = [];
    const result = await api.chat(
      { workspace, message: "What does app.py do?" },
      { onDelta: (d) => d.tool && tools.push(d.tool) },
    );
    assert.equal(result.text, "It adds.");
    assert.deepEqual(tools, [{ name: "read_file", summary: "read src/app.py" }]);
    assert.deepEqual(result.toolCalls, tools);
    const model = (await api.history(workspace)).turns.at(-1);
    assert.deepEqual(model.toolCalls, tools);
    assert.equal(model.text, "It adds.");
  });

  test("thoughts stream apart from the answer and come back in history", async () => {
    await script({ thought: "**Counting** the legs.", reply: "Eight." });
    const thoughts = [];
    const texts = [];
    const result = await api.chat(
      {
        workspace,
        message: "Legs of two dogs?",
        generationConfig: { thinkingConfig: { includeThoughts: true } },
      },
      {
        onDelta: (d) => {
          if (d.thought) thoughts.push(d.thought);
          if (d.text) texts.push(d.text);
        },
      },
    );
    assert.equal(thoughts.join(""), "**Counting** the legs.");
    assert.equal(texts.join(""), "Eight.");
    assert.equal(result.thoughts, "**Counting** the legs.");
    assert.ok(result.usage.thoughtsTokens > 0);
    const [req] = await requests("enerateContent");
    assert.equal(req.body.generationConfig.thinkingConfig.includeThoughts, true);
    assert.equal((await api.history(workspace)).turns.at(-1).thoughts, "**Counting** the legs.");
  });

  test("an image in a reply is saved as a file the result and history point at", async () => {
    await script({ reply: "Here is a dot.", image: { mimeType: "image/png", data: PNG_BASE64 } });
    const images = [];
    const result = await api.chat(
      { workspace, message: "Draw a dot" },
      { onDelta: (d) => d.image && images.push(d.image) },
    );
    assert.equal(images.length, 1);
    assert.equal(images[0].mimeType, "image/png");
    assert.ok(existsSync(images[0].path), images[0].path);
    assert.equal(readFileSync(images[0].path).toString("base64"), PNG_BASE64);
    assert.deepEqual(result.images, images);
    assert.deepEqual((await api.history(workspace)).turns.at(-1).images, images);
  });

  test("setModel sticks (history, the next request); null goes back to package.json's default model", async () => {
    try {
      const set = await api.setModel(workspace, "gemini-2.5-pro");
      assert.equal(set.model, "gemini-2.5-pro");
      assert.equal((await api.history(workspace)).model, "gemini-2.5-pro");
      await script({ reply: "Pro here." });
      const result = await api.chat({ workspace, message: "Which model?" });
      assert.equal(result.model, "gemini-2.5-pro");
      const [req] = await requests("enerateContent");
      assert.match(req.path, /models\/gemini-2\.5-pro:/);
    } finally {
      // Back to the daemon's default, which must be the one the extension contributes.
      const back = await api.setModel(workspace, null);
      assert.equal(back.model, DEFAULT_MODEL);
    }
  });

  test("a model set through one daemon is the model of the next (another editor, a restart)", async () => {
    await api.setModel(workspace, "gemini-2.5-pro");
    const other = await startDaemon([folder]);
    try {
      const history = await new GeminiApi(other.connection).history(workspace);
      assert.equal(history.model, "gemini-2.5-pro");
    } finally {
      await other.close();
      await api.setModel(workspace, null);
    }
  });

  test("a blocked prompt names the category and offers the safety settings", async () => {
    await script({ block: "SAFETY" });
    const error = await api.chat({ workspace, message: "something dangerous" }).catch((e) => e);
    const view = describeError(error);
    assert.equal(view.reason, "blocked");
    assert.equal(view.action, "openSafetySettings");
    assert.deepEqual(view.categories, ["HARM_CATEGORY_DANGEROUS_CONTENT"]);
    assert.match(view.message, /dangerous content/i);
  });

  test("status lists GEMINI.md; countTokens measures the conversation against the limit", async () => {
    assert.deepEqual((await api.status(workspace)).contextFiles, []);
    const contextFile = join(folder, "GEMINI.md");
    writeFileSync(contextFile, "Answer briefly.\n");
    try {
      assert.deepEqual((await api.status(workspace)).contextFiles, [contextFile]);
    } finally {
      rmSync(contextFile);
    }
    await script({ reply: "Short." });
    await api.chat({ workspace, message: "Hello" });
    const count = await api.countTokens(workspace);
    assert.ok(count.totalTokens > 0);
    assert.ok(count.inputTokenLimit > count.totalTokens);
  });

  test("generateImage: Imagen's images stream as progress, the result and history hold the exchange, with its cost", async () => {
    const images = [];
    const result = await api.generateImage(
      { workspace, prompt: "a red lighthouse", numberOfImages: 2, aspectRatio: "16:9" },
      { onDelta: (d) => d.image && images.push(d.image) },
    );
    assert.equal(result.images.length, 2);
    assert.deepEqual(images, result.images, "each image told as it was saved");
    assert.ok(result.images.every((i) => existsSync(i.path)));
    assert.equal(result.usage.images, 2);
    assert.equal(result.usage.cost.reply, 0.08, "imagen-4.0-generate-001 at $0.04 an image");
    const [predict] = await requests(":predict");
    assert.deepEqual([predict.body.parameters.sampleCount, predict.body.parameters.aspectRatio], [2, "16:9"]);
    const history = await api.history(workspace);
    assert.deepEqual(history.turns[0].imagen, {
      model: result.model,
      numberOfImages: 2,
      aspectRatio: "16:9",
    });
    assert.deepEqual(history.turns[1].images, result.images);
    assert.equal(typeof history.conversation, "string", "history names the conversation");
  });

  test("a JSON turn sends the schema and comes back checked against it", async () => {
    await script({ reply: '{"name": "Ada", "age": "old"}' });
    const schema = { type: "object", properties: { name: { type: "string" }, age: { type: "integer" } } };
    const result = await api.chat({ workspace, message: "Ada?", json: { schema } });
    assert.equal(result.json.valid, false);
    assert.deepEqual(result.json.value, { name: "Ada", age: "old" });
    assert.match(result.json.errors[0], /\$\.age: 'old' is not of type 'integer'/);
    const [req] = await requests("enerateContent");
    assert.equal(req.body.generationConfig.responseMimeType, "application/json");
    assert.equal(req.body.generationConfig.responseSchema.properties.age.type, "INTEGER");
    assert.deepEqual((await api.history(workspace)).turns[1].json, result.json);
  });

  test("new chat (reset) clears the conversation", async () => {
    await script({ reply: "one" });
    await api.chat({ workspace, message: "1" });
    const reset = await api.reset(workspace);
    assert.equal(reset.cleared, 2);
    assert.equal((await api.history(workspace)).turns.length, 0);
  });
});

test("a wrong key is reported with the Set API Key action, without the key", async () => {
  const wrong = "wrong-key-0000";
  const daemon = await startDaemon([folder], { GEMINI_API_KEY: wrong });
  try {
    const api = new GeminiApi(daemon.connection);
    const error = await api.chat({ workspace, message: "hi" }).catch((e) => e);
    const view = describeError(error);
    assert.equal(view.reason, "apiKeyInvalid");
    assert.equal(view.action, "setApiKey");
    assert.ok(!view.message.includes(wrong));
    assert.ok(!daemon.stderr().includes(wrong));
  } finally {
    await daemon.close();
  }
});
