// The chat webview in real headless Chromium: the real HTML (CSP, nonce), script and CSS, with a
// stand-in for VS Code's host side (acquireVsCodeApi + postMessage).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join, normalize } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { launchBrowser, screenshot } from "./browser.mjs";
import { waitFor } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const { webviewHtml } = require("../out/webviewHtml.js");
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const TYPES = { ".js": "text/javascript", ".css": "text/css", ".ttf": "font/ttf", ".svg": "image/svg+xml" };

/** Serves the extension's files and the page as VS Code would build it. */
function startServer() {
  const server = createServer((req, res) => {
    const origin = `http://127.0.0.1:${server.address().port}`;
    const url = new URL(req.url, origin);
    if (url.pathname === "/") {
      const html = webviewHtml({
        cspSource: origin,
        scriptUri: `${origin}/dist/webview.js`,
        styleUri: `${origin}/media/chat.css`,
        codiconsUri: `${origin}/dist/codicons/codicon.css`,
        nonce: randomBytes(16).toString("base64"),
      });
      // VS Code injects its theme's variables; a stylesheet with the Dark Modern ones stands in.
      const themed = html.replace(
        "<link",
        `<link href="${origin}/test/fixtures/theme-dark.css" rel="stylesheet">\n  <link`,
      );
      res.writeHead(200, { "content-type": "text/html" }).end(themed);
      return;
    }
    const file = normalize(join(root, url.pathname));
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** acquireVsCodeApi as VS Code provides it; the state survives reloads like VS Code's does. */
function fakeVsCodeApi() {
  window.__posted = [];
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => JSON.parse(sessionStorage.getItem("vscode-state") ?? "null") ?? undefined,
    setState: (s) => sessionStorage.setItem("vscode-state", JSON.stringify(s)),
  });
}

const usage = { promptTokens: 41, replyTokens: 9, thoughtsTokens: 0, totalTokens: 50 };

function state(overrides = {}) {
  return {
    entries: [],
    busy: false,
    workspaceName: "project",
    canSwitchWorkspace: false,
    model: "gemini-2.5-flash",
    models: [
      { name: "gemini-2.5-flash", label: "Gemini 2.5 Flash" },
      { name: "gemini-2.5-pro", label: "Gemini 2.5 Pro" },
    ],
    attachments: [],
    ...overrides,
  };
}

const HISTORY = [
  { id: "h0", role: "user", text: "How do I add two numbers in Python?", attachments: ["app.py:1-2"] },
  {
    id: "h1",
    role: "model",
    text: "Use a small function:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nThen call `add(2, 3)`, which returns **5**.",
    usage,
    model: "gemini-2.5-flash",
  },
];

describe("chat webview in Chromium", () => {
  let server;
  let browser;
  let page;

  const send = (message) => page.evaluate((m) => window.postMessage(m, "*"), message);
  const posted = () => page.evaluate(() => window.__posted);
  const log = () => page.locator("#log");

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    server?.close();
  });

  beforeEach(async () => {
    page = await browser.newPage();
    await page.addInitScript(fakeVsCodeApi);
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await waitFor("the webview's ready message", async () =>
      (await posted()).some((m) => m.type === "ready"),
    );
  });

  test("history renders as Markdown with highlighted code and token usage", async () => {
    await send({ type: "snapshot", state: state({ entries: HISTORY }) });
    await log().locator(".entry.model").waitFor();
    assert.equal(await log().locator(".entry").count(), 2);
    assert.equal(await log().locator(".entry.model strong").innerText(), "5");
    assert.ok((await log().locator(".code-block .hljs-keyword").count()) > 0, "code is highlighted");
    assert.match(await log().locator(".entry.model .entry-footer").innerText(), /41 in · 9 out tokens/);
    assert.match(await log().locator(".entry.user .chip").innerText(), /app\.py:1-2/);
    assert.deepEqual(await page.evaluate(() => window.__violations), [], "no CSP violations");
    await screenshot(page, "webview-history");
  });

  test("a streamed reply grows piece by piece, then shows its usage", async () => {
    const entries = [
      { id: "u1", role: "user", text: "Count to three" },
      { id: "m1", role: "model", text: "", streaming: true },
    ];
    await send({ type: "snapshot", state: state({ entries, busy: true }) });
    const body = log().locator('[data-id="m1"] .entry-body');
    await send({ type: "delta", id: "m1", text: "One, " });
    await waitFor("the first piece", async () => (await body.innerText()).includes("One,"));
    assert.ok(!(await body.innerText()).includes("two"));
    await send({ type: "delta", id: "m1", text: "two, " });
    await send({ type: "delta", id: "m1", text: "three." });
    await waitFor("all pieces", async () => (await body.innerText()).includes("One, two, three."));
    const done = { ...entries[1], text: "One, two, three.", streaming: false, usage };
    await send({ type: "entry", entry: done });
    await send({ type: "busy", busy: false });
    await waitFor(
      "the usage line",
      async () => (await log().locator('[data-id="m1"] .entry-footer').count()) === 1,
    );
    assert.equal(await page.locator(".cursor").count(), 0);
  });

  test("Enter sends, Shift+Enter makes a new line, and the input is cleared", async () => {
    await send({ type: "snapshot", state: state() });
    const input = page.locator("#input");
    await input.click();
    await input.pressSequentially("line one");
    await input.press("Shift+Enter");
    await input.pressSequentially("line two");
    assert.equal((await posted()).filter((m) => m.type === "send").length, 0);
    await input.press("Enter");
    const sent = (await posted()).filter((m) => m.type === "send");
    assert.deepEqual(sent, [{ type: "send", text: "line one\nline two" }]);
    assert.equal(await input.inputValue(), "");
  });

  test("while a reply streams, Stop replaces Send and cancels it", async () => {
    const entries = [
      { id: "u1", role: "user", text: "Write a long story" },
      { id: "m1", role: "model", text: "Once upon a time", streaming: true },
    ];
    await send({ type: "snapshot", state: state({ entries, busy: true }) });
    await page.locator("#stop").waitFor({ state: "visible" });
    assert.equal(await page.locator("#send").isVisible(), false);
    await screenshot(page, "webview-streaming");
    await page.locator("#stop").click();
    assert.ok((await posted()).some((m) => m.type === "stop"));
    await send({ type: "entry", entry: { ...entries[1], streaming: false, stopped: true } });
    await send({ type: "busy", busy: false });
    await page.locator("#send").waitFor({ state: "visible" });
    assert.match(await log().locator('[data-id="m1"] .entry-footer').innerText(), /Stopped/);
  });

  test("code blocks have working Copy and Insert at Cursor buttons", async () => {
    await send({ type: "snapshot", state: state({ entries: HISTORY }) });
    const block = log().locator(".code-block").first();
    await block.getByRole("button", { name: "Copy" }).click();
    await block.getByRole("button", { name: "Insert at Cursor" }).click();
    const code = "def add(a, b):\n    return a + b\n";
    const actions = (await posted()).filter((m) => m.type === "copy" || m.type === "insert");
    assert.deepEqual(actions, [
      { type: "copy", text: code },
      { type: "insert", text: code },
    ]);
  });

  test("HTML and scripts in a reply render as inert text; nothing runs", async () => {
    const evil =
      'Look: <img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script>\n\n' +
      "[click](javascript:window.__pwned=3) <iframe src=javascript:window.__pwned=4></iframe>\n\n" +
      '<a href="#" onclick="window.__pwned=5">a</a>';
    const entries = [{ id: "m1", role: "model", text: evil }];
    await send({ type: "snapshot", state: state({ entries }) });
    const body = log().locator('[data-id="m1"] .entry-body');
    await body.waitFor();
    assert.equal(await body.locator("img, script, iframe, [onerror], [onclick]").count(), 0);
    const text = await body.innerText();
    assert.ok(text.includes('<img src=x onerror="window.__pwned=1">'), text);
    assert.ok(text.includes("<script>window.__pwned=2</script>"), text);
    const hrefs = await body.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    assert.ok(
      hrefs.every((h) => h === null || !h.startsWith("javascript:")),
      JSON.stringify(hrefs),
    );
    await body.locator("a").evaluateAll((as) => {
      for (const a of as) a.click();
    });
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  });

  test("an error shows inline with its action", async () => {
    const entries = [
      { id: "u1", role: "user", text: "hi" },
      { id: "e1", role: "error", text: "No Gemini API key: set GEMINI_API_KEY.", action: "setApiKey" },
    ];
    await send({ type: "snapshot", state: state({ entries }) });
    await log().getByRole("button", { name: "Set API Key" }).click();
    assert.ok((await posted()).some((m) => m.type === "action" && m.action === "setApiKey"));
    await screenshot(page, "webview-error");
  });

  test("the draft survives the view being hidden and shown again", async () => {
    await send({ type: "snapshot", state: state({ entries: HISTORY }) });
    await page.locator("#input").fill("half-written question");
    await page.locator("#input").dispatchEvent("input");
    await page.reload();
    await waitFor("ready after reload", async () => (await posted()).some((m) => m.type === "ready"));
    assert.equal(await page.locator("#input").inputValue(), "half-written question");
  });

  test("the model picker and the keyboard reach every control", async () => {
    await send({ type: "snapshot", state: state({ entries: HISTORY }) });
    await page.locator("#model").selectOption("gemini-2.5-pro");
    assert.ok((await posted()).some((m) => m.type === "selectModel" && m.model === "gemini-2.5-pro"));
    await page.locator("#input").focus();
    await page.keyboard.press("Shift+Tab");
    const focused = await page.evaluate(
      () => document.activeElement?.id || document.activeElement?.className,
    );
    assert.ok(focused, "Shift+Tab moves focus to a control");
  });
});
