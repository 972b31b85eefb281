// The protocol layer for the live conversation and the conversations of a folder: the
// extension's GeminiApi (out/api.js) over vscode-jsonrpc, two real daemons on one folder and
// data folder, the emulator upstream.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { makeWorkspace, requests, resetEmulator, script, startDaemon, waitFor } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const { GeminiApi } = require("../out/api.js");

const folder = makeWorkspace(mkdtempSync(join(tmpdir(), "gemini-vscode-live-")));
const workspace = pathToFileURL(folder).href;

describe("GeminiApi: two daemons on one folder, conversations", () => {
  let here;
  let there;
  let api;
  let other;
  const progress = [];
  const changes = [];

  before(async () => {
    here = await startDaemon([folder]);
    there = await startDaemon([folder]);
    api = new GeminiApi(here.connection);
    other = new GeminiApi(there.connection);
    api.onTurnProgress((p) => progress.push(p));
    api.onConversationChanged((p) => changes.push(p));
  });

  after(async () => {
    await here?.close();
    await there?.close();
  });

  beforeEach(async () => {
    await resetEmulator();
    // A reset that cleared something is told last, after what the test before caused.
    if ((await api.reset(workspace)).cleared > 0) {
      await waitFor("the reset told", () => changes.some((c) => c.reason === "reset"));
    }
    progress.length = 0;
    changes.length = 0;
  });

  test("the other daemon's turn arrives as turnProgress started, streaming (whole text), finished, then conversationChanged turn", async () => {
    await script({ chunks: ["One ", "two ", "three."], chunkDelay: 0.3 });
    const result = await other.chat({ workspace, message: "Count" });
    await waitFor("the change", () => changes.some((c) => c.reason === "turn"));
    const states = progress.map((p) => p.state);
    assert.equal(states[0], "started");
    assert.equal(progress[0].message, "Count");
    assert.equal(states.at(-1), "finished");
    assert.equal(progress.at(-1).text, result.text);
    const streamed = progress.filter((p) => p.state === "streaming").map((p) => p.text);
    assert.ok(streamed.length > 0, JSON.stringify(states));
    assert.ok(
      streamed.every((t) => result.text.startsWith(t)),
      "each is the whole reply so far",
    );
    assert.equal(changes.find((c) => c.reason === "turn").workspace, workspace);
  });

  test("this daemon's own turn is told as conversationChanged but never mirrored to itself", async () => {
    await script({ reply: "Mine." });
    await api.chat({ workspace, message: "My own" });
    await waitFor("the change", () => changes.some((c) => c.reason === "turn"));
    assert.deepEqual(progress, []);
  });

  test("conversations are listed, opened, renamed, exported and deleted; an unknown id names the field id", async () => {
    await script({ reply: "First." }, { reply: "Second." });
    await api.chat({ workspace, message: "First topic" });
    await api.reset(workspace);
    await api.chat({ workspace, message: "Second topic" });
    const list = await api.conversations(workspace);
    assert.deepEqual(
      list.conversations.slice(0, 2).map((c) => c.title),
      ["Second topic", "First topic"],
    );
    assert.equal(list.conversations[0].active, true);
    const first = list.conversations[1];
    assert.equal(first.turns, 1);
    await api.openConversation(workspace, first.id);
    assert.equal((await api.history(workspace)).turns[0].text, "First topic");
    await api.renameConversation(workspace, first.id, "The first");
    const exported = await api.export(workspace);
    assert.match(exported.markdown, /^# The first/);
    assert.match(exported.markdown, /## You[\s\S]*First topic[\s\S]*## Gemini[\s\S]*First\./);
    await api.deleteConversation(workspace, first.id);
    const left = await api.conversations(workspace);
    assert.equal(left.total, list.total - 1);
    assert.ok(!left.conversations.some((c) => c.id === first.id));
    const error = await api.openConversation(workspace, "no-such-id").catch((e) => e);
    assert.equal(error.code, -32602);
    assert.equal(error.data.field, "id");
    await waitFor("open, renamed and deleted told", () =>
      ["open", "renamed", "deleted"].every((r) => changes.some((c) => c.reason === r)),
    );
  });

  test("countTokens counts a draft and its attachments on top of the conversation, in one upstream call", async () => {
    await script({ reply: "Hello." });
    await api.chat({ workspace, message: "Hi" });
    const bare = await api.countTokens(workspace);
    const calls = (await requests("countTokens")).length;
    const draft = await api.countTokens(workspace, {
      message: "What does this do?",
      attachments: [{ uri: pathToFileURL(join(folder, "src", "app.py")).href }],
    });
    assert.ok(draft.totalTokens > bare.totalTokens, JSON.stringify([bare, draft]));
    assert.equal((await requests("countTokens")).length, calls + 1);
  });

  test("a secret in the message is masked upstream; the result and a progress value say which kind and where", async () => {
    await script({ reply: "Masked." });
    const values = [];
    const key = ["AKIA", "Z7QW3ERT5YUI8OPA"].join("");
    const result = await api.chat(
      { workspace, message: `Why is ${key} refused?` },
      { onDelta: (d) => values.push(d) },
    );
    assert.deepEqual(result.redacted, [{ kind: "aws-access-key", where: "message" }]);
    assert.ok(values.some((v) => v.redacted !== undefined));
    const [req] = await requests("enerateContent");
    assert.ok(!JSON.stringify(req.body).includes(key));
  });
});
