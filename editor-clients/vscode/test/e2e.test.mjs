// End to end in real VS Code: code-server with the packaged .vsix, driven in headless Chromium,
// the extension's real daemon answering from the emulator. Each test has a VS Code of its own
// (test/vscode.mjs), so any one passes alone: node --test --test-name-pattern "<name>".
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { screenshot } from "./browser.mjs";
import { DEFAULT_MODEL, env, PNG_BASE64, requests, resetEmulator, script, waitFor } from "./helpers.mjs";
import {
  enterSecret,
  installVsix,
  inVsCode,
  openGeminiView,
  pickInQuickPick,
  quickOpen,
  runCommand,
} from "./vscode.mjs";

before(() => installVsix());

/** Send `text` from the chat input with Enter; the view empties the input as it sends. */
async function ask(chat, text) {
  const input = chat.locator("#input");
  await input.fill(text);
  await input.press("Enter");
  // Seen once on a loaded machine, in a window just opened: the Enter did not reach the input
  // and the text stayed there, unsent. While it is there nothing was sent: pressing again
  // cannot send twice.
  await waitFor(
    "the message to leave the input",
    async () => {
      if ((await input.inputValue()) === "") return true;
      await input.press("Enter");
      return false;
    },
    15000,
  );
}

/** A test in a fresh VS Code with the Gemini view open and the emulator's script empty. */
function chatTest(name, body) {
  test(name, () =>
    inVsCode(name, async (session) => {
      await openGeminiView(session);
      await resetEmulator();
      await body(session);
    }),
  );
}

const statusItem = (page, text) => page.locator(".statusbar-item", { hasText: text }).first();

describe("Gemini Chat in real VS Code (code-server)", () => {
  chatTest("the Gemini view opens from the activity bar and shows the model", async ({ page, chat }) => {
    await statusItem(page, DEFAULT_MODEL).waitFor({ timeout: 30000 });
    await waitFor(
      "the model picker to list the daemon's models",
      async () => (await chat.locator("#model option").count()) > 1,
      30000,
    );
    assert.equal(await chat.locator("#model").inputValue(), DEFAULT_MODEL);
  });

  chatTest("the header shows the GEMINI.md chip and how full the context window is", async ({ chat }) => {
    await chat.locator("#context-files .context-chip", { hasText: "GEMINI.md" }).waitFor({ timeout: 30000 });
    await waitFor(
      "the context indicator",
      async () => /^\d+(\.\d)?k? \/ 1M$/.test(await chat.locator("#context-use").innerText()),
      30000,
    );
  });

  chatTest("a message gets a reply streamed from the emulator", async ({ page, chat }) => {
    await script({ chunks: ["Hello ", "from ", "the ", "Gemini ", "emulator."], chunkDelay: 0.4 });
    await ask(chat, "Say hello");
    const body = chat.locator(".entry.model .entry-body").last();
    const seen = new Set();
    await waitFor(
      "the whole reply",
      async () => {
        const text = (await body.innerText()).trim();
        if (text !== "") seen.add(text);
        return text.includes("Hello from the Gemini emulator.") && (await chat.locator("#send").isVisible());
      },
      30000,
    );
    const partial = [...seen].filter((t) => t !== "Hello from the Gemini emulator." && t.length > 0);
    assert.ok(partial.length > 0, `no partial reply seen: ${JSON.stringify([...seen])}`);
    await chat.locator(".entry.model .entry-footer", { hasText: "tokens" }).last().waitFor();
    await screenshot(page, "vscode-chat");
  });

  chatTest("a tool round shows what the model read, in the reply", async ({ chat }) => {
    await script(
      { functionCall: { name: "read_file", args: { path: "src/app.py" } } },
      { reply: "It adds." },
    );
    await ask(chat, "What does src/app.py do?");
    const reply = chat.locator(".entry.model").last();
    await reply.locator(".entry-body", { hasText: "It adds." }).waitFor({ timeout: 30000 });
    assert.equal(await reply.locator(".tool-call").innerText(), "read src/app.py");
    assert.equal(await reply.locator(".tool-call .codicon-file").count(), 1);
    const calls = await requests("enerateContent");
    assert.equal(calls.length, 2, "the daemon ran the tool and asked again");
  });

  chatTest("thoughts arrive collapsed above the answer; an image shows inline", async ({ page, chat }) => {
    await script({
      thought: "**Picturing it.** Two numbers go in, their sum comes out; a landscape makes a calm example.",
      reply: "`add(2, 3)` returns **5**. Here is a picture to go with it:",
      image: { mimeType: "image/png", data: PNG_BASE64 },
    });
    await ask(chat, "Explain add() with a picture");
    const reply = chat.locator(".entry.model").last();
    await reply.locator(".entry-body", { hasText: "returns 5" }).waitFor({ timeout: 30000 });
    // geminiChat.showThoughts is on in these profiles: the turn asked for thought summaries.
    const [req] = await requests("enerateContent");
    assert.equal(req.body.generationConfig.thinkingConfig.includeThoughts, true);
    const thoughts = reply.locator("details.thoughts");
    assert.equal(await thoughts.locator("summary").innerText(), "Thoughts");
    assert.equal(await thoughts.evaluate((d) => d.open), false, "thoughts start collapsed");
    const img = reply.locator("img.reply-image");
    await waitFor("the image", () => img.evaluate((i) => i.complete && i.naturalWidth === 160), 15000);
    assert.match(await img.getAttribute("src"), /^data:image\/png;base64,/);
    await chat.locator("#send").waitFor({ state: "visible" });
    await screenshot(page, "vscode-extensions");
  });

  chatTest("a blocked message names the category and opens the safety settings", async ({ page, chat }) => {
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
  });

  chatTest(
    "the model picked in the view sticks to the folder and shows in the status bar",
    async ({ page, chat }) => {
      await waitFor(
        "the daemon's models",
        async () => (await chat.locator("#model option").count()) > 1,
        30000,
      );
      await chat.locator("#model").selectOption("gemini-2.5-pro");
      await statusItem(page, "gemini-2.5-pro").waitFor({ timeout: 15000 });
      await script({ reply: "Pro speaking." });
      await ask(chat, "Which model are you?");
      await chat
        .locator(".entry.model .entry-body", { hasText: "Pro speaking." })
        .waitFor({ timeout: 30000 });
      const [req] = await requests("enerateContent");
      assert.match(req.path, /models\/gemini-2\.5-pro:/);
      // Back to the default through the command palette's picker.
      await runCommand(page, "Gemini: Select Model");
      await pickInQuickPick(page, "Gemini model for", "Use the default");
      await statusItem(page, DEFAULT_MODEL).waitFor({ timeout: 15000 });
      await waitFor("the view's picker on the default", async () => {
        return (await chat.locator("#model").inputValue()) === DEFAULT_MODEL;
      });
    },
  );

  chatTest("Ask about Selection attaches the selected lines and sends them", async ({ page, chat }) => {
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
    await chat.locator(".entry.model .entry-body", { hasText: "sum" }).waitFor({ timeout: 30000 });
    const [req] = await requests("enerateContent");
    const sent = JSON.stringify(req.body.contents.at(-1));
    assert.ok(sent.includes("def add(a, b)"), sent);
    assert.ok(!sent.includes("print(add(2, 3))"), "only the selection is sent");
    await screenshot(page, "vscode-selection");
  });

  chatTest("Stop cancels a slow reply", async ({ page, chat }) => {
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
    await chat.locator("#send").waitFor({ state: "visible" });
    assert.ok(!(await body.innerText()).includes("part 20."));
    await waitFor(
      "the upstream stream to be closed",
      async () => {
        const r = await fetch(`${env("EMULATOR_URL")}/_emulator/events`);
        return (await r.json()).events.some((e) => e.type === "disconnect" || e.event === "disconnect");
      },
      15000,
    );
    await screenshot(page, "vscode-stopped");
  });

  chatTest("the transcript comes back after the view is hidden and shown", async ({ page, chat }) => {
    await script({ reply: "Still here." });
    await ask(chat, "Are you there?");
    await chat.locator(".entry.model .entry-body", { hasText: "Still here." }).waitFor({ timeout: 30000 });
    await page.locator('.activitybar [aria-label^="Explorer"]').first().click();
    await chat.locator("#input").waitFor({ state: "detached", timeout: 15000 });
    await page.locator('.activitybar [aria-label^="Gemini"]').first().click();
    await chat.locator(".entry.user .entry-body", { hasText: "Are you there?" }).waitFor({ timeout: 30000 });
    await chat.locator(".entry.model .entry-body", { hasText: "Still here." }).waitFor({ timeout: 30000 });
  });

  chatTest("New Chat starts an empty conversation", async ({ page, chat }) => {
    await script({ reply: "First answer." });
    await ask(chat, "A first question");
    await chat.locator(".entry.model .entry-body", { hasText: "First answer." }).waitFor({ timeout: 30000 });
    await page.locator('.part.sidebar a.action-label[aria-label="New Chat"]:visible').first().click();
    await chat.locator(".welcome").waitFor({ timeout: 15000 });
    assert.equal(await chat.locator(".entry").count(), 0);
    await resetEmulator();
    await script({ reply: "Fresh start." });
    await ask(chat, "Anyone there?");
    await chat.locator(".entry.model .entry-body", { hasText: "Fresh start." }).waitFor({ timeout: 30000 });
    const [req] = await requests("enerateContent");
    assert.equal(req.body.contents.length, 1, "a new chat sends no earlier turns");
  });

  chatTest(
    "Set API Key hands the key to the daemon; a wrong key shows Set API Key inline",
    async (session) => {
      const { page, chat, userData } = session;
      const wrong = "wrong-key-e2e-0000";
      const good = env("GEMINI_API_KEY");
      const modelsListedWith = (key) =>
        waitFor(
          "the restarted daemon to list models with the new key",
          async () =>
            (await requests("/v1beta/models")).some(
              (r) => r.path === "/v1beta/models" && r.headers["x-goog-api-key"] === key,
            ),
          30000,
        );
      await runCommand(page, "Gemini: Set API Key");
      await enterSecret(page, wrong);
      // The restarted daemon lists the models for the view with the key it was given.
      await modelsListedWith(wrong);
      await ask(chat, "Is my key right?");
      const action = chat.locator(".entry.error").last().getByRole("button", { name: "Set API Key" });
      await action.waitFor({ timeout: 30000 });
      assert.ok(!(await chat.locator(".entry.error").last().innerText()).includes(wrong));
      await screenshot(page, "vscode-key-error");
      await resetEmulator();
      await action.click();
      await enterSecret(page, good);
      await modelsListedWith(good);
      await script({ reply: "Key accepted." });
      await ask(chat, "And now?");
      await chat
        .locator(".entry.model .entry-body", { hasText: "Key accepted." })
        .waitFor({ timeout: 30000 });
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
