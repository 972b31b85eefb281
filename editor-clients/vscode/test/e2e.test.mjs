// End to end in real VS Code: code-server with the packaged .vsix, driven in headless Chromium,
// the extension's real daemon answering from the emulator.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { launchBrowser, screenshot } from "./browser.mjs";
import { env, makeWorkspace, PNG_BASE64, requests, resetEmulator, script, waitFor } from "./helpers.mjs";

const codeServer = env("CODE_SERVER");
const root = mkdtempSync(join(tmpdir(), "gemini-vscode-e2e-"));
const userData = join(root, "user-data");
const extensions = join(root, "extensions");
const folder = makeWorkspace(root, "project");
writeFileSync(join(folder, "GEMINI.md"), "This project is a tiny calculator. Answer briefly.\n");

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function writeSettings(dataDir, serverPath = env("GEMINI_CHAT_SERVER")) {
  mkdirSync(join(dataDir, "User"), { recursive: true });
  const settings = {
    // code-server takes the extension host's PATH from a login shell: name the daemon exactly.
    "geminiChat.serverPath": serverPath,
    "geminiChat.showThoughts": true,
    "workbench.colorTheme": "Default Dark Modern",
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.welcomePage.walkthroughs.openOnInstall": false,
    "security.workspace.trust.enabled": false,
    "telemetry.telemetryLevel": "off",
    "extensions.ignoreRecommendations": true,
    "chat.commandCenter.enabled": false,
    "window.commandCenter": false,
    "editor.minimap.enabled": false,
  };
  writeFileSync(join(dataDir, "User", "settings.json"), JSON.stringify(settings, null, 2));
}

function installVsix() {
  const r = spawnSync(
    codeServer,
    [
      "--user-data-dir",
      userData,
      "--extensions-dir",
      extensions,
      "--install-extension",
      env("GEMINI_CHAT_VSIX"),
    ],
    { encoding: "utf8", env: { ...process.env, VSCODE_CLI: "1" } },
  );
  assert.equal(r.status, 0, `install-extension failed:\n${r.stdout}\n${r.stderr}`);
}

async function startCodeServer(port, dataDir) {
  const args = [
    "--bind-addr",
    `127.0.0.1:${port}`,
    "--auth",
    "none",
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--disable-getting-started-override",
    "--user-data-dir",
    dataDir,
    "--extensions-dir",
    extensions,
    folder,
  ];
  // VSCODE_CLI=1: keep this environment (emulator URL, key, data dir) instead of a login shell's.
  const child = spawn(codeServer, args, {
    env: { ...process.env, VSCODE_CLI: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (d) => {
    output += d;
  });
  child.stderr.on("data", (d) => {
    output += d;
  });
  await waitFor(
    "code-server to listen",
    async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
    30000,
  ).catch((err) => {
    throw new Error(`${err.message}\n${output}`);
  });
  return { child, output: () => output };
}

function killGroup(child) {
  // The extension host and the daemon outlive the browser: end code-server's whole group.
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
}

/** code-server on `dataDir` with the extension, and Chromium showing the workspace. */
async function openVsCode(dataDir) {
  const port = await freePort();
  const server = await startCodeServer(port, dataDir);
  const browser = await launchBrowser({ width: 1280, height: 800 });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
  const chat = page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
  return { server, browser, page, chat };
}

async function closeVsCode(session, name, options = { artifactOnly: true }) {
  if (session === undefined) return;
  const { server, browser, page } = session;
  // The last view, whatever happened: the first thing to look at when a test failed.
  await screenshot(page, name, options).catch(() => undefined);
  await browser.close();
  killGroup(server.child);
  const timer = setTimeout(() => {
    try {
      process.kill(-server.child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }, 5000);
  await new Promise((resolve) =>
    server.child.exitCode !== null ? resolve() : server.child.once("exit", resolve),
  );
  clearTimeout(timer);
}

async function runCommand(page, typed, label) {
  await page.keyboard.press("Control+Shift+P");
  await page.keyboard.type(typed);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: label }).first().waitFor();
  await page.keyboard.press("Enter");
}

async function openGeminiView(page, chat) {
  await page.locator('.activitybar [aria-label^="Gemini"]').first().click({ timeout: 60000 });
  await chat.locator("#input").waitFor({ timeout: 60000 });
}

describe("Gemini Chat in real VS Code (code-server)", () => {
  let session;
  let page;
  let chat;

  before(async () => {
    writeSettings(userData);
    installVsix();
    session = await openVsCode(userData);
    ({ page, chat } = session);
  });

  after(async () => {
    await closeVsCode(session, "vscode-last");
  });

  test("the Gemini view opens from the activity bar and shows the model", async () => {
    await page.locator('.activitybar [aria-label^="Gemini"]').first().click({ timeout: 60000 });
    await chat.locator("#input").waitFor({ timeout: 60000 });
    // Off the activity bar, so its hover does not cover the chat in the screenshots.
    await page.mouse.move(800, 400);
    await waitFor(
      "the status bar item",
      async () => (await page.locator(".statusbar-item", { hasText: "gemini-2.5-flash" }).count()) > 0,
      30000,
    );
    await waitFor(
      "the model picker to list the daemon's models",
      async () => (await chat.locator("#model option").count()) > 1,
      30000,
    );
  });

  test("the header shows the GEMINI.md chip and how full the context window is", async () => {
    await chat.locator("#context-files .context-chip", { hasText: "GEMINI.md" }).waitFor({ timeout: 30000 });
    await waitFor(
      "the context indicator",
      async () => /^\d+(\.\d)?k? \/ 1M$/.test(await chat.locator("#context-use").innerText()),
      30000,
    );
  });

  test("a message gets a reply streamed from the emulator", async () => {
    await resetEmulator();
    await script({ chunks: ["Hello ", "from ", "the ", "Gemini ", "emulator."], chunkDelay: 0.4 });
    await chat.locator("#input").fill("Say hello");
    await chat.locator("#input").press("Enter");
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

  test("a tool round shows what the model read, in the reply", async () => {
    await resetEmulator();
    await script(
      { functionCall: { name: "read_file", args: { path: "src/app.py" } } },
      { reply: "It adds." },
    );
    await chat.locator("#input").fill("What does src/app.py do?");
    await chat.locator("#input").press("Enter");
    const reply = chat.locator(".entry.model").last();
    await reply.locator(".entry-body", { hasText: "It adds." }).waitFor({ timeout: 30000 });
    assert.equal(await reply.locator(".tool-call").innerText(), "read src/app.py");
    assert.equal(await reply.locator(".tool-call .codicon-file").count(), 1);
    const calls = await requests("enerateContent");
    assert.equal(calls.length, 2, "the daemon ran the tool and asked again");
  });

  test("thoughts arrive collapsed above the answer; an image shows inline", async () => {
    await resetEmulator();
    await script({
      thought: "**Picturing it.** Two numbers go in, their sum comes out; a landscape makes a calm example.",
      reply: "`add(2, 3)` returns **5**. Here is a picture to go with it:",
      image: { mimeType: "image/png", data: PNG_BASE64 },
    });
    await chat.locator("#input").fill("Explain add() with a picture");
    await chat.locator("#input").press("Enter");
    const reply = chat.locator(".entry.model").last();
    await reply.locator(".entry-body", { hasText: "returns 5" }).waitFor({ timeout: 30000 });
    // geminiChat.showThoughts is on in this profile: the turn asked for thought summaries.
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

  test("a blocked message names the category and opens the safety settings", async () => {
    await resetEmulator();
    await script({ block: "SAFETY" });
    await chat.locator("#input").fill("Something Gemini will not answer");
    await chat.locator("#input").press("Enter");
    const error = chat.locator(".entry.error").last();
    const action = error.getByRole("button", { name: "Open Safety Settings" });
    await action.waitFor({ timeout: 30000 });
    const text = await error.locator(".entry-body").innerText();
    assert.match(text, /dangerous content/);
    assert.match(text, /geminiChat\.safetySettings/);
    await screenshot(page, "vscode-blocked");
    await action.click();
    await page.locator(".settings-editor .setting-item", { hasText: "Safety Settings" }).first().waitFor();
    // Back to the file editor, so later tests see the chat beside code as before.
    await page.keyboard.press("Control+W");
  });

  test("the model picked in the view sticks to the folder and shows in the status bar", async () => {
    await chat.locator("#model").selectOption("gemini-2.5-pro");
    const statusPro = page.locator(".statusbar-item", { hasText: "gemini-2.5-pro" });
    await statusPro.first().waitFor({ timeout: 15000 });
    await resetEmulator();
    await script({ reply: "Pro speaking." });
    await chat.locator("#input").fill("Which model are you?");
    await chat.locator("#input").press("Enter");
    await chat.locator(".entry.model .entry-body", { hasText: "Pro speaking." }).waitFor({ timeout: 30000 });
    const [req] = await requests("enerateContent");
    assert.match(req.path, /models\/gemini-2\.5-pro:/);
    // Back to the default through the command palette's picker.
    await runCommand(page, "Gemini: Select Model", "Select Model");
    await page.keyboard.type("Use the default");
    await page
      .locator(".quick-input-widget .monaco-list-row", { hasText: "Use the default" })
      .first()
      .waitFor();
    await page.keyboard.press("Enter");
    await page
      .locator(".statusbar-item", { hasText: "gemini-2.5-flash" })
      .first()
      .waitFor({ timeout: 15000 });
    assert.equal(await chat.locator("#model").inputValue(), "gemini-2.5-flash");
  });

  test("Ask about Selection attaches the selected lines and sends them", async () => {
    await resetEmulator();
    await script({ reply: "It defines `add`, which returns the **sum** of `a` and `b`." });
    await page.keyboard.press("Control+P");
    await page.keyboard.type("app.py");
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "app.py" }).first().waitFor();
    await page.keyboard.press("Enter");
    const editor = page.locator(".editor-instance .monaco-editor").first();
    await editor.locator(".view-line", { hasText: "def add" }).waitFor();
    await editor.locator(".view-line", { hasText: "def add" }).click();
    await page.keyboard.press("Home");
    await page.keyboard.press("Shift+ArrowDown");
    await page.keyboard.press("Shift+End");
    await page.keyboard.press("Control+Alt+G");
    await chat.locator("#attachments .chip", { hasText: "app.py:1-2" }).waitFor({ timeout: 15000 });
    await chat.locator("#input").fill("What does this do?");
    await chat.locator("#input").press("Enter");
    await chat.locator(".entry.model .entry-body", { hasText: "sum" }).waitFor({ timeout: 30000 });
    const [req] = await requests("enerateContent");
    // The new turn only: an earlier tool round read the whole file into the conversation.
    const sent = JSON.stringify(req.body.contents.at(-1));
    assert.ok(sent.includes("def add(a, b)"), sent);
    assert.ok(!sent.includes("print(add(2, 3))"), "only the selection is sent");
    await screenshot(page, "vscode-selection");
  });

  test("Stop cancels a slow reply", async () => {
    await resetEmulator();
    const chunks = Array.from({ length: 20 }, (_, i) => `part ${i + 1}. `);
    await script({ chunks, chunkDelay: 1 });
    await chat.locator("#input").fill("Write something long");
    await chat.locator("#input").press("Enter");
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

  test("the transcript comes back after the view is hidden and shown", async () => {
    await page.locator('.activitybar [aria-label^="Explorer"]').first().click();
    await page.locator('.activitybar [aria-label^="Gemini"]').first().click();
    const frame = page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
    await frame.locator(".entry.model .entry-body", { hasText: "Hello from the Gemini emulator." }).waitFor({
      timeout: 30000,
    });
    chat = frame;
  });

  test("New Chat starts an empty conversation", async () => {
    await page.locator('.part.sidebar a.action-label[aria-label="New Chat"]:visible').first().click();
    await chat.locator(".welcome").waitFor({ timeout: 15000 });
    assert.equal(await chat.locator(".entry").count(), 0);
    await resetEmulator();
    await script({ reply: "Fresh start." });
    await chat.locator("#input").fill("Anyone there?");
    await chat.locator("#input").press("Enter");
    await chat.locator(".entry.model .entry-body", { hasText: "Fresh start." }).waitFor({ timeout: 30000 });
    const [req] = await requests("enerateContent");
    assert.equal(req.body.contents.length, 1, "a new chat sends no earlier turns");
  });

  test("Set API Key hands the key to the daemon; a wrong key shows Set API Key inline", async () => {
    const wrong = "wrong-key-e2e-0000";
    const good = env("GEMINI_API_KEY");
    const modelsListedWith = (key) =>
      waitFor(
        `the restarted daemon to list models with the new key`,
        async () =>
          (await requests("/v1beta/models")).some(
            (r) => r.path === "/v1beta/models" && r.headers["x-goog-api-key"] === key,
          ),
        30000,
      );
    const enterKey = async (key) => {
      const box = page.locator(".quick-input-widget input");
      await box.waitFor({ state: "visible" });
      await box.fill(key);
      await box.press("Enter");
    };
    await resetEmulator();
    await page.keyboard.press("Control+Shift+P");
    await page.keyboard.type("Gemini: Set API Key");
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "Set API Key" }).first().waitFor();
    await page.keyboard.press("Enter");
    await enterKey(wrong);
    // The restarted daemon lists the models for the view with the key it was given.
    await modelsListedWith(wrong);
    await chat.locator("#input").fill("Is my key right?");
    await chat.locator("#input").press("Enter");
    const action = chat.locator(".entry.error").last().getByRole("button", { name: "Set API Key" });
    await action.waitFor({ timeout: 30000 });
    assert.ok(!(await chat.locator(".entry.error").last().innerText()).includes(wrong));
    await screenshot(page, "vscode-key-error");
    await resetEmulator();
    await action.click();
    await enterKey(good);
    await modelsListedWith(good);
    await script({ reply: "Key accepted." });
    await chat.locator("#input").fill("And now?");
    await chat.locator("#input").press("Enter");
    await chat.locator(".entry.model .entry-body", { hasText: "Key accepted." }).waitFor({ timeout: 30000 });
    const settings = readFileSync(join(userData, "User", "settings.json"), "utf8");
    assert.ok(!settings.includes(wrong) && !settings.includes(good), "no key in settings.json");
  });
});

describe("VS Code without the server", () => {
  const dataDir = join(root, "user-data-missing");
  let session;

  before(async () => {
    writeSettings(dataDir, join(root, "no-such-dir", "gemini-chat-server"));
    session = await openVsCode(dataDir);
  });

  after(async () => {
    await closeVsCode(session, "vscode-missing-server", { artifactOnly: false });
  });

  test("a missing server is reported with how to install it", async () => {
    const { page, chat } = session;
    await page.locator(".notifications-toasts", { hasText: "was not found" }).waitFor({ timeout: 60000 });
    await openGeminiView(page, chat);
    const notice = chat.locator("#notice");
    await notice.filter({ hasText: "was not found" }).waitFor({ timeout: 30000 });
    assert.match(await notice.innerText(), /uv tool install|pipx install/);
    assert.equal(await notice.getByRole("button", { name: "Open Settings" }).count(), 1);
    await waitFor(
      "the status bar to show the failure",
      async () => (await page.locator(".statusbar-item", { hasText: "Gemini" }).count()) > 0,
    );
  });
});
