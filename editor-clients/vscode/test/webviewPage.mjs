// The chat webview in real headless Chromium: the real HTML (CSP, nonce), script and CSS, with a
// stand-in for VS Code's host side (acquireVsCodeApi + postMessage), and VS Code's own default
// webview styles and theme variables around it.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join, normalize } from "node:path";
import { after, afterEach, before, beforeEach } from "node:test";
import { fileURLToPath } from "node:url";
import { launchBrowser } from "./browser.mjs";
import { PNG_BASE64, waitFor } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const { webviewHtml } = require("../out/webviewHtml.js");
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const TYPES = { ".js": "text/javascript", ".css": "text/css", ".ttf": "font/ttf", ".svg": "image/svg+xml" };

/** Serves the extension's files and the page as VS Code would build it. */
export function startServer() {
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
        `<link href="${origin}/test/fixtures/vscode-default-styles.css" rel="stylesheet">\n  ` +
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
export function fakeVsCodeApi() {
  window.__posted = [];
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective));
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => JSON.parse(sessionStorage.getItem("vscode-state") ?? "null") ?? undefined,
    setState: (s) => sessionStorage.setItem("vscode-state", JSON.stringify(s)),
  });
}

/** helpers.mjs's PNG as an image view's src. */
export const PNG_SRC = `data:image/png;base64,${PNG_BASE64}`;

export const usage = { promptTokens: 41, replyTokens: 9, thoughtsTokens: 0, totalTokens: 50 };

export function state(overrides = {}) {
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
    moreModels: false,
    contextFiles: [],
    attachments: [],
    ...overrides,
  };
}

/**
 * A fresh page of the webview for every test of the suite it is called in: `ctx.page`, and
 * `send(hostMessage)`, `posted()` (what the page sent the host), `sent(type)` (those of a type),
 * `log()`, `entry(id)` (an entry of the log).
 */
export function useWebview() {
  const ctx = {};
  before(async () => {
    ctx.server = await startServer();
    ctx.browser = await launchBrowser();
  });
  after(async () => {
    await ctx.browser?.close();
    ctx.server?.close();
  });
  beforeEach(async () => {
    ctx.page = await ctx.browser.newPage();
    await ctx.page.addInitScript(fakeVsCodeApi);
    await ctx.page.goto(`http://127.0.0.1:${ctx.server.address().port}/`);
    await waitFor("the webview's ready message", async () =>
      (await ctx.posted()).some((m) => m.type === "ready"),
    );
  });
  afterEach(async () => {
    await ctx.page?.close();
  });
  ctx.send = (message) => ctx.page.evaluate((m) => window.postMessage(m, "*"), message);
  ctx.posted = () => ctx.page.evaluate(() => window.__posted);
  ctx.sent = async (type) => (await ctx.posted()).filter((m) => m.type === type);
  ctx.log = () => ctx.page.locator("#log");
  ctx.entry = (id) => ctx.log().locator(`[data-id="${id}"]`);
  return ctx;
}
