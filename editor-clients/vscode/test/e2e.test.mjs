// End to end in real VS Code: code-server with the packaged .vsix, driven in headless Chromium,
// the extension's real daemon answering from the emulator. One VS Code window per group of
// related checks (test/vscode.mjs); each test starts from a new conversation and an empty
// emulator script, so any one passes alone: node --test --test-name-pattern "<name>".
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { screenshot } from "./browser.mjs";
import { ask, freshChat, reply, statusItem, viewAction } from "./chatUi.mjs";
import { DEFAULT_MODEL, env, PNG_BASE64, requests, resetEmulator, script, waitFor } from "./helpers.mjs";
import {
  enterSecret,
  inVsCode,
  openGeminiView,
  pickInQuickPick,
  runCommand,
  sharedVsCode,
} from "./vscode.mjs";

describe("Gemini Chat in real VS Code (code-server): chatting", () => {
  const { vsTest } = sharedVsCode();

  vsTest("the view and the status bar show the model; Ctrl+Alt+C opens and focuses the chat", async (s) => {
    const { page, chat } = s;
    await statusItem(page, DEFAULT_MODEL).waitFor({ timeout: 30000 });
    await waitFor(
      "the daemon's models in the picker",
      async () => (await chat.locator("#model option").count()) > 1,
      30000,
    );
    assert.equal(await chat.locator("#model").inputValue(), DEFAULT_MODEL);
    await page.locator('.activitybar [aria-label^="Explorer"]').first().click();
    await chat.locator("#input").waitFor({ state: "detached", timeout: 15000 });
    await page.locator(".explorer-folders-view").first().click();
    await page.keyboard.press("Control+Alt+C");
    await waitFor(
      "the chat's input to have the focus",
      () => chat.locator("#input").evaluate((i) => document.hasFocus() && document.activeElement === i),
      30000,
    );
  });

  vsTest(
    "a reply streams in; the message costs one upstream call and the context meter shows that turn's usage",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      await chat
        .locator("#context-files .context-chip", { hasText: "GEMINI.md" })
        .waitFor({ timeout: 30000 });
      await script({ chunks: ["Hello ", "from ", "the ", "Gemini ", "emulator."], chunkDelay: 0.4 });
      await ask(chat, "Say hello");
      const body = chat.locator(".entry.model .entry-body").last();
      const seen = new Set();
      await waitFor(
        "the whole reply",
        async () => {
          const text = (await body.innerText()).trim();
          if (text !== "") seen.add(text);
          return (
            text.includes("Hello from the Gemini emulator.") && !(await chat.locator("#stop").isVisible())
          );
        },
        30000,
      );
      const partial = [...seen].filter((t) => t !== "Hello from the Gemini emulator." && t.length > 0);
      assert.ok(partial.length > 0, `no partial reply seen: ${JSON.stringify([...seen])}`);
      await chat.locator(".entry.model .entry-footer", { hasText: "tokens" }).last().waitFor();
      await waitFor("the meter", async () =>
        /^\d+(\.\d)?k? \/ 1M$/.test(await chat.locator("#context-use").innerText()),
      );
      const all = await requests("/v1beta/models/");
      const upstream = all.filter((r) =>
        /:(generateContent|streamGenerateContent|countTokens)$/.test(r.path),
      );
      assert.deepEqual(
        upstream.map((r) => r.path.split(":").pop()),
        ["streamGenerateContent"],
        "one upstream call for the message",
      );
      await screenshot(page, "vscode-chat");
    },
  );

  vsTest("a tool round shows what the model read, in the reply", async (s) => {
    const { chat } = s;
    await freshChat(s);
    await script(
      { functionCall: { name: "read_file", args: { path: "src/app.py" } } },
      { reply: "It adds." },
    );
    await ask(chat, "What does src/app.py do?");
    await reply(chat, "It adds.");
    const last = chat.locator(".entry.model").last();
    assert.equal(await last.locator(".tool-call").innerText(), "read src/app.py");
    assert.equal((await requests("enerateContent")).length, 2, "the daemon ran the tool and asked again");
  });

  vsTest("thoughts arrive collapsed above the answer; an image shows inline", async (s) => {
    const { page, chat } = s;
    await freshChat(s);
    await script({
      thought: "**Picturing it.** Two numbers go in, their sum comes out; a landscape makes a calm example.",
      reply: "`add(2, 3)` returns **5**. Here is a picture to go with it:",
      image: { mimeType: "image/png", data: PNG_BASE64 },
    });
    await ask(chat, "Explain add() with a picture");
    await reply(chat, "returns 5");
    const [req] = await requests("enerateContent");
    assert.equal(req.body.generationConfig.thinkingConfig.includeThoughts, true);
    const last = chat.locator(".entry.model").last();
    assert.equal(await last.locator("details.thoughts summary").innerText(), "Thoughts");
    assert.equal(
      await last.locator("details.thoughts").evaluate((d) => d.open),
      false,
      "thoughts start collapsed",
    );
    const img = last.locator("img.reply-image");
    await waitFor("the image", () => img.evaluate((i) => i.complete && i.naturalWidth === 160), 15000);
    assert.match(await img.getAttribute("src"), /^data:image\/png;base64,/);
    await screenshot(page, "vscode-extensions");
  });

  vsTest("a blocked message names the category and opens the safety settings", async (s) => {
    const { page, chat } = s;
    await freshChat(s);
    await script({ block: "SAFETY" });
    await ask(chat, "Something Gemini will not answer");
    const error = chat.locator(".entry.error").last();
    const action = error.getByRole("button", { name: "Open Safety Settings" });
    await action.waitFor({ timeout: 30000 });
    const text = await error.locator(".entry-body").innerText();
    assert.match(text, /dangerous content/);
    assert.match(text, /geminiChat\.safetySettings/);
    await screenshot(page, "vscode-blocked");
    await action.click();
    await page.locator(".settings-editor .setting-item", { hasText: "Safety Settings" }).first().waitFor();
    await page.keyboard.press("Control+W");
  });

  vsTest(
    "models: a picked one sticks to the folder; All models… lists the others; a mistyped name is refused with the daemon's words",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      await waitFor(
        "the daemon's models",
        async () => (await chat.locator("#model option").count()) > 1,
        30000,
      );
      const options = await chat.locator("#model option").allInnerTexts();
      assert.equal(options.at(-1), "All models…");
      assert.ok(!options.some((o) => /tts|imagen/i.test(o)), `chat models only: ${options}`);
      await chat.locator("#model").selectOption("gemini-2.5-pro");
      await statusItem(page, "gemini-2.5-pro").waitFor({ timeout: 15000 });
      await script({ reply: "Pro speaking." });
      await ask(chat, "Which model are you?");
      await reply(chat, "Pro speaking.");
      const [req] = await requests("enerateContent");
      assert.match(req.path, /models\/gemini-2\.5-pro:/);
      // All models…: VS Code's picker offers the others too (a TTS model, found by typing).
      await chat.locator("#model").selectOption({ label: "All models…" });
      const box = page.locator(".quick-input-widget .quick-input-box input");
      await waitFor("the picker of every model", async () =>
        /type a model name/.test((await box.getAttribute("placeholder")) ?? ""),
      );
      await box.fill("tts");
      await page
        .locator(".quick-input-widget .monaco-list-row", { hasText: "tts" })
        .first()
        .waitFor({ timeout: 15000 });
      await page.keyboard.press("Escape");
      // A name typed that the API does not list: the daemon's refusal, naming the closest.
      await runCommand(page, "Gemini: Select Model");
      await pickInQuickPick(page, "Gemini model for", "gemini-9-ultra");
      const toast = page.locator(".notifications-toasts", { hasText: "Could not select the model" });
      await toast.waitFor({ timeout: 15000 });
      assert.match(await toast.innerText(), /gemini-9-ultra/);
      await statusItem(page, "gemini-2.5-pro").waitFor();
      await runCommand(page, "Gemini: Select Model");
      await pickInQuickPick(page, "Gemini model for", "Use the default");
      await statusItem(page, DEFAULT_MODEL).waitFor({ timeout: 15000 });
      await waitFor(
        "the view's picker on the default",
        async () => (await chat.locator("#model").inputValue()) === DEFAULT_MODEL,
      );
    },
  );

  vsTest(
    "a rate-limited turn counts down its retry in the reply and the status bar, then answers",
    async (s) => {
      const { page, chat } = s;
      await freshChat(s);
      await script({ status: 429, retryDelay: "4s", quota: "minute" }, { reply: "After the wait." });
      await ask(chat, "Are you busy?");
      const note = chat.locator(".entry.model .note.status").last();
      const seen = new Set();
      await waitFor(
        "two seconds of the countdown",
        async () => {
          const text = await note.innerText({ timeout: 500 }).catch(() => "");
          if (/retrying in \d+ s/.test(text)) seen.add(text.match(/\d+ s/)[0]);
          return seen.size >= 2;
        },
        15000,
      );
      await statusItem(page, "retrying in").waitFor({ timeout: 5000 });
      await screenshot(page, "vscode-countdown");
      await reply(chat, "After the wait.");
      assert.equal(
        await chat.locator(".entry.model .note.status").count(),
        0,
        "the countdown goes with the wait",
      );
      await waitFor("the status bar back to the model", async () => {
        return (await page.locator(".statusbar-item", { hasText: "retrying in" }).count()) === 0;
      });
    },
  );

  vsTest(
    "a secret in the message is masked before sending; one dim line under the reply says which and where",
    async (s) => {
      const { chat } = s;
      await freshChat(s);
      await script({ reply: "That key is masked." });
      const key = ["AKIA", "Z7QW3ERT5YUI8OPA"].join("");
      await ask(chat, `Why is ${key} refused?`);
      await reply(chat, "That key is masked.");
      // Reloaded from the store, which holds what was sent: the line stays with the reply.
      await chat.locator(".entry.user", { hasText: "[REDACTED:aws-access-key]" }).waitFor({ timeout: 15000 });
      const note = chat.locator(".entry.model .note.redacted").last();
      assert.equal(await note.innerText(), "1 secret masked before sending (aws-access-key in message)");
      const [req] = await requests("enerateContent");
      assert.ok(!JSON.stringify(req.body).includes(key), "the key never went upstream");
    },
  );

  vsTest("Stop cancels a slow reply", async (s) => {
    const { page, chat } = s;
    await freshChat(s);
    const chunks = Array.from({ length: 20 }, (_, i) => `part ${i + 1}. `);
    await script({ chunks, chunkDelay: 1 });
    await ask(chat, "Write something long");
    const body = chat.locator(".entry.model .entry-body").last();
    await body.filter({ hasText: "part 1." }).waitFor({ timeout: 30000 });
    await chat.locator("#stop").click();
    await chat
      .locator(".entry.model .entry-footer", { hasText: "Stopped" })
      .last()
      .waitFor({ timeout: 15000 });
    await chat.locator("#stop").waitFor({ state: "hidden" });
    assert.ok(!(await body.innerText()).includes("part 20."));
    await waitFor("the upstream stream to be closed", async () => {
      const r = await fetch(`${env("EMULATOR_URL")}/_emulator/events`);
      return (await r.json()).events.some((e) => e.type === "disconnect" || e.event === "disconnect");
    });
    await screenshot(page, "vscode-stopped");
  });

  vsTest("the transcript comes back after the view is hidden and shown", async (s) => {
    const { page, chat } = s;
    await freshChat(s);
    await script({ reply: "Still here." });
    await ask(chat, "Are you there?");
    await reply(chat, "Still here.");
    await page.locator('.activitybar [aria-label^="Explorer"]').first().click();
    await chat.locator("#input").waitFor({ state: "detached", timeout: 15000 });
    await openGeminiView(s);
    await chat.locator(".entry.user .entry-body", { hasText: "Are you there?" }).waitFor({ timeout: 30000 });
    await chat.locator(".entry.model .entry-body", { hasText: "Still here." }).waitFor({ timeout: 30000 });
  });

  vsTest("New Chat starts an empty conversation", async (s) => {
    const { page, chat } = s;
    await freshChat(s);
    await script({ reply: "First answer." });
    await ask(chat, "A first question");
    await reply(chat, "First answer.");
    await viewAction(page, "New Chat").click();
    await chat.locator(".welcome").waitFor({ timeout: 15000 });
    assert.equal(await chat.locator(".entry").count(), 0);
    await resetEmulator();
    await script({ reply: "Fresh start." });
    await ask(chat, "Anyone there?");
    await reply(chat, "Fresh start.");
    const [req] = await requests("enerateContent");
    assert.equal(req.body.contents.length, 1, "a new chat sends no earlier turns");
  });
});

describe("VS Code without an API key", () => {
  const { session, vsTest } = sharedVsCode({ env: { GEMINI_API_KEY: undefined, GOOGLE_API_KEY: undefined } });

  vsTest(
    "the missing key is explained for VS Code; Set API Key keeps the question, resends it, and a wrong key is explained too",
    async () => {
      const { page, chat, userData } = session;
      const wrong = "wrong-key-e2e-0000";
      const good = env("GEMINI_API_KEY");
      await resetEmulator();
      await ask(chat, "Is my key right?");
      const error = chat.locator(".entry.error").last();
      await error.getByRole("button", { name: "Set API Key" }).waitFor({ timeout: 30000 });
      const missing = await error.locator(".entry-body").innerText();
      assert.match(missing, /Gemini: Set API Key/);
      assert.doesNotMatch(missing, /gemini\.apiKey/, "no setting VS Code does not have");
      await screenshot(page, "vscode-key-error");
      await error.getByRole("button", { name: "Set API Key" }).click();
      await enterSecret(page, wrong);
      // The restarted daemon gets the question again, with the wrong key.
      await waitFor(
        "the question sent with the wrong key",
        async () => (await requests("enerateContent")).some((r) => r.headers["x-goog-api-key"] === wrong),
        30000,
      );
      const invalid = chat.locator(".entry.error").last();
      await invalid.getByRole("button", { name: "Set API Key" }).waitFor({ timeout: 30000 });
      assert.match(
        await invalid.locator(".entry-body").innerText(),
        /Check the key: run “Gemini: Set API Key”/,
      );
      assert.ok(!(await invalid.innerText()).includes(wrong), "the key is never shown");
      assert.equal(
        await chat.locator(".entry.user", { hasText: "Is my key right?" }).count(),
        1,
        "the question stays, once",
      );
      await resetEmulator();
      await script({ reply: "Key accepted." });
      await invalid.getByRole("button", { name: "Set API Key" }).click();
      await enterSecret(page, good);
      await reply(chat, "Key accepted.");
      assert.equal(await chat.locator(".entry.user", { hasText: "Is my key right?" }).count(), 1);
      assert.equal(await chat.locator(".entry.error").count(), 0, "the errors went with the resent question");
      const [req] = await requests("enerateContent");
      assert.equal(req.headers["x-goog-api-key"], good);
      const settings = readFileSync(join(userData, "User", "settings.json"), "utf8");
      assert.ok(!settings.includes(wrong) && !settings.includes(good), "no key in settings.json");
    },
  );
});

describe("VS Code without the server", () => {
  test("a missing server is reported with how to install it", () =>
    inVsCode(
      "missing-server",
      async (session) => {
        const { page, chat } = session;
        await page.locator(".notifications-toasts", { hasText: "was not found" }).waitFor({ timeout: 60000 });
        await openGeminiView(session);
        const notice = chat.locator("#notice");
        await notice.filter({ hasText: "was not found" }).waitFor({ timeout: 30000 });
        assert.match(await notice.innerText(), /uv tool install|pipx install/);
        assert.equal(await notice.getByRole("button", { name: "Open Settings" }).count(), 1);
        await statusItem(page, "Gemini").waitFor({ timeout: 15000 });
        await screenshot(page, "vscode-missing-server");
      },
      { serverPath: join(env("GEMINI_CHAT_TEST_TMP"), "no-such-dir", "gemini-chat-server") },
    ));
});
