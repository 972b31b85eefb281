// Real VS Code for the end-to-end tests: code-server with the packaged .vsix, in headless Chromium.
// Every session is fresh (profile, settings, workspace folder, daemon), so no test depends on another.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { launchBrowser, screenshot } from "./browser.mjs";
import { env, makeWorkspace, startDaemon, waitFor } from "./helpers.mjs";

const root = mkdtempSync(join(tmpdir(), "gemini-vscode-e2e-"));
// The pytest wrapper installs the .vsix once for every suite file (GEMINI_CHAT_EXTENSIONS).
const extensions = process.env.GEMINI_CHAT_EXTENSIONS ?? join(root, "extensions");

/** Install the packaged extension once; every session loads it from the same folder. */
export function installVsix() {
  if (existsSync(join(extensions, "extensions.json"))) return;
  const r = spawnSync(
    env("CODE_SERVER"),
    [
      "--user-data-dir",
      join(root, "install-profile"),
      "--extensions-dir",
      extensions,
      "--install-extension",
      env("GEMINI_CHAT_VSIX"),
    ],
    { encoding: "utf8", env: { ...process.env, VSCODE_CLI: "1" } },
  );
  assert.equal(r.status, 0, `install-extension failed:\n${r.stdout}\n${r.stderr}`);
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function writeSettings(dataDir, serverPath) {
  mkdirSync(join(dataDir, "User"), { recursive: true });
  const settings = {
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
  // code-server takes the extension host's PATH from a login shell: name the daemon exactly
  // (null: the setting left out, as a new user has it).
  if (serverPath !== null) settings["geminiChat.serverPath"] = serverPath;
  writeFileSync(join(dataDir, "User", "settings.json"), JSON.stringify(settings, null, 2));
}

async function startCodeServer(port, dataDir, folder, extraEnv = {}) {
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
  const childEnv = { ...process.env, VSCODE_CLI: "1", ...extraEnv };
  for (const [key, value] of Object.entries(extraEnv)) if (value === undefined) delete childEnv[key];
  const child = spawn(env("CODE_SERVER"), args, {
    env: childEnv,
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
  const server = { child, output: () => output };
  try {
    await waitFor(
      "code-server to listen",
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
      30000,
    );
  } catch (err) {
    await stopCodeServer(server);
    throw new Error(`${err.message}\n${output}`);
  }
  return server;
}

async function stopCodeServer(server) {
  // The extension host and the daemon outlive the browser: end code-server's whole group.
  const signal = (name) => {
    try {
      process.kill(-server.child.pid, name);
    } catch {
      // Already gone.
    }
  };
  const exited = new Promise((resolve) =>
    server.child.exitCode !== null || server.child.signalCode !== null
      ? resolve()
      : server.child.once("exit", resolve),
  );
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** Write `files` ({relative path: content}) into `folder`. */
function writeFiles(folder, files) {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(folder, rel, ".."), { recursive: true });
    writeFileSync(join(folder, rel), content);
  }
}

/**
 * A multi-root workspace in `dir`: one folder per entry of `roots` ({name: {relative path:
 * content}}, each folder also getting src/app.py), listed in that order in a .code-workspace
 * file. Returns the file and the folders' paths by name.
 */
function makeMultiRoot(dir, roots) {
  const folders = {};
  for (const [name, files] of Object.entries(roots)) {
    folders[name] = makeWorkspace(dir, name);
    writeFiles(folders[name], files);
  }
  const file = join(dir, "multi.code-workspace");
  const listed = Object.keys(roots).map((name) => ({ path: name }));
  writeFileSync(file, JSON.stringify({ folders: listed, settings: {} }, null, 2));
  return { file, folders };
}

/**
 * A fresh VS Code: its own profile (settings, secret storage), workspace folder (so its own
 * conversation and sticky model in the daemon's store) and daemon. `serverPath`: where the
 * settings say the daemon is (null: not set); `env`: changes to the environment (undefined removes a variable);
 * `files`: more files of the folder ({relative path: content}); `roots`: instead of one folder, a
 * multi-root workspace (.code-workspace) of these folders ({name: files}; see makeMultiRoot),
 * whose paths the session's `folders` names (`folder` is the first).
 */
export async function openVsCode({
  serverPath = env("GEMINI_CHAT_SERVER"),
  env: extraEnv = {},
  files = {},
  roots = undefined,
} = {}) {
  const dir = mkdtempSync(join(root, "session-"));
  let folder;
  let folders;
  let opened;
  let query;
  if (roots === undefined) {
    folder = makeWorkspace(dir, "project");
    writeFileSync(join(folder, "GEMINI.md"), "This project is a tiny calculator. Answer briefly.\n");
    writeFiles(folder, files);
    opened = folder;
    query = `folder=${encodeURIComponent(folder)}`;
  } else {
    const multi = makeMultiRoot(dir, roots);
    folders = multi.folders;
    folder = Object.values(folders)[0];
    opened = multi.file;
    query = `workspace=${encodeURIComponent(multi.file)}`;
  }
  const userData = join(dir, "user-data");
  writeSettings(userData, serverPath);
  const port = await freePort();
  const server = await startCodeServer(port, userData, opened, extraEnv);
  let browser;
  try {
    browser = await launchBrowser({ width: 1280, height: 800 });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/?${query}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    // The one webview of the window: the chat view, once it is shown.
    const chat = page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
    return { server, browser, page, chat, folder, folders, userData };
  } catch (err) {
    await browser?.close();
    await stopCodeServer(server);
    throw err;
  }
}

/** Close the browser and end code-server with its extension host and daemon. */
export async function closeVsCode(session) {
  await session.browser.close();
  await stopCodeServer(session.server);
}

/**
 * Run `body` in a fresh VS Code (see openVsCode); the last view is kept in test-artifacts when
 * it fails, the first thing to look at.
 */
export async function inVsCode(name, body, options = {}) {
  installVsix();
  const session = await openVsCode(options);
  try {
    await body(session);
  } catch (err) {
    await keepFailedView(session.page, name);
    throw err;
  } finally {
    await closeVsCode(session);
  }
}

/** The window as a failing test `name` left it, kept in test-artifacts (never a README picture). */
async function keepFailedView(page, name) {
  const slug = name
    .replace(/[^A-Za-z0-9]+/g, "-")
    .toLowerCase()
    .slice(0, 80);
  await screenshot(page, `vscode-failed-${slug}`, { artifactOnly: true }).catch(() => undefined);
}

/**
 * One VS Code window for a group of related tests (opened before the first, closed after the
 * last), with the Gemini view shown. Returns the session and `vsTest(name, body)`: a test that
 * keeps a screenshot of the window when it fails.
 */
export function sharedVsCode(options = {}) {
  const session = {};
  before(async () => {
    installVsix();
    Object.assign(session, await openVsCode(options));
    await openGeminiView(session);
  });
  after(async () => {
    if (session.server !== undefined) await closeVsCode(session);
  });
  const vsTest = (name, body) =>
    test(name, async () => {
      try {
        await body(session);
      } catch (err) {
        await keepFailedView(session.page, name);
        throw err;
      }
    });
  return { session, vsTest };
}

/**
 * Another editor on the shared window's folder: a second daemon on the same folder and store (what
 * the terminal client or Neovim run), started after the window opens and closed after the group's
 * last test. Returns `{connection, workspace}` (the folder's URI), filled in once started.
 */
export function otherEditor(session) {
  const other = {};
  before(async () => {
    other.workspace = pathToFileURL(session.folder).href;
    Object.assign(other, await startDaemon([session.folder]));
  });
  after(async () => {
    await other.close?.();
  });
  return other;
}

/** Show the Gemini view from the activity bar and wait for its input. */
export async function openGeminiView({ page, chat }) {
  await page.locator('.activitybar [aria-label^="Gemini"]').first().click({ timeout: 60000 });
  await chat.locator("#input").waitFor({ timeout: 60000 });
  // Off the activity bar, so its hover does not cover the chat in screenshots.
  await page.mouse.move(800, 400);
}

/**
 * In VS Code's one quick-input widget, once `isOpen(box)` says it shows the input meant (the
 * palette, a picker, an input box), type `query` and press Enter when the row Enter runs is
 * `label`. The widget is shared and opens asynchronously (a shortcut pressed in the webview is
 * relayed to the workbench; an extension's picker appears after the extension host answers):
 * keys typed before it shows the input meant land elsewhere or pick another row.
 */
async function choose(page, { what, isOpen, query, label }) {
  const box = page.locator(".quick-input-widget .quick-input-box input");
  const row = page.locator(".quick-input-widget .monaco-list-row.focused", { hasText: label });
  await waitFor(
    what,
    async () => {
      if (!(await box.isVisible()) || !(await isOpen(box))) return false;
      if ((await box.inputValue()) !== query) await box.fill(query, { timeout: 1000 });
      return (await row.count()) === 1 && (await box.inputValue()) === query;
    },
    30000,
  );
  await box.press("Enter");
}

/** Run `title` (e.g. "Gemini: Stop") from the command palette. */
export async function runCommand(page, title) {
  await page.keyboard.press("Control+Shift+P");
  await choose(page, {
    what: `the command palette to offer "${title}"`,
    isOpen: async (box) => (await box.inputValue()).startsWith(">"),
    query: `>${title}`,
    label: title,
  });
}

/** Pick `label` in the quick pick whose placeholder starts with `placeholder`. */
export async function pickInQuickPick(page, placeholder, label) {
  await choose(page, {
    what: `the picker "${placeholder}…" to offer "${label}"`,
    isOpen: async (box) => ((await box.getAttribute("placeholder")) ?? "").startsWith(placeholder),
    query: label,
    label,
  });
}

/** Open `file` of the workspace with Quick Open (Ctrl+P). */
export async function quickOpen(page, file) {
  await page.keyboard.press("Control+P");
  await choose(page, {
    what: `Quick Open to offer ${file}`,
    isOpen: async (box) => /files by name/i.test((await box.getAttribute("placeholder")) ?? ""),
    query: file,
    label: file,
  });
}

/** Type `text` into the extension's password input box (Set API Key) and press Enter. */
export async function enterSecret(page, text) {
  // Only that box is a password box: not the palette it was run from, still closing.
  const box = page.locator(".quick-input-widget .quick-input-box input[type=password]");
  await box.waitFor({ state: "visible" });
  await box.fill(text);
  await box.press("Enter");
}

/**
 * In VS Code's own file dialog (the quick input a browser gets for open and save dialogs), go to
 * `file` and accept it. The dialog lists the folder as the path is typed; an Enter pressed while
 * it updates is dropped, so it is pressed again (only while the dialog still shows the path).
 */
export async function acceptFileDialog(page, file, isOpen = async () => true) {
  const box = page.locator(".quick-input-widget .quick-input-box input");
  await waitFor("the file dialog", async () => (await box.isVisible()) && (await isOpen(box)), 30000);
  await box.fill(file);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (!(await box.isVisible()) || (await box.inputValue()) !== file) return;
    await box.press("Enter");
    try {
      await box.waitFor({ state: "hidden", timeout: 2000 });
      return;
    } catch {
      // Still open: the Enter came while the dialog was reading the folder.
    }
  }
  throw new Error(`the file dialog did not take ${file}`);
}
