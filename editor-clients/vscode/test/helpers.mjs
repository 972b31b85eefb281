// Shared by the Node tests: the emulator's HTTP control, the daemon over vscode-jsonrpc, polling.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node.js";

/** A required environment variable (the pytest wrapper sets them). */
export function env(name) {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set (run through pytest)`);
  return value;
}

export const emulatorUrl = () => env("EMULATOR_URL");

/** Queue emulator script steps (each generate call takes one). */
export async function script(...steps) {
  const r = await fetch(`${emulatorUrl()}/_emulator/script`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ steps }),
  });
  if (!r.ok) throw new Error(`emulator script: ${r.status} ${await r.text()}`);
}

/** Requests the emulator received whose path contains `part`. */
export async function requests(part = "") {
  const r = await fetch(`${emulatorUrl()}/_emulator/requests?path_contains=${encodeURIComponent(part)}`);
  return (await r.json()).requests;
}

/** Forget the script, records and events. */
export async function resetEmulator() {
  await fetch(`${emulatorUrl()}/_emulator/reset`, { method: "POST" });
}

/** Poll `check` until it returns a truthy value; fail after `timeoutMs` saying `what`. */
export async function waitFor(what, check, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** A workspace folder with one small source file. */
export function makeWorkspace(root, name = "project") {
  const dir = join(root, name);
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "src", "app.py"), "def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n");
  return dir;
}

/** Start the real daemon, initialize it on `folders`; returns {connection, child, stderr, close}. */
export async function startDaemon(folders, extraEnv = {}) {
  const child = spawn(env("GEMINI_CHAT_SERVER"), [], {
    env: { ...process.env, ...extraEnv },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d.toString();
  });
  const connection = createMessageConnection(
    new StreamMessageReader(child.stdout),
    new StreamMessageWriter(child.stdin),
  );
  connection.listen();
  const workspaceFolders = folders.map((dir) => ({ uri: pathToFileURL(dir).href, name: dir }));
  const init = await connection.sendRequest("initialize", {
    processId: process.pid,
    rootUri: workspaceFolders[0]?.uri ?? null,
    workspaceFolders,
    capabilities: {},
    initializationOptions: {},
  });
  connection.sendNotification("initialized", {});
  const exited = new Promise((resolve) => child.once("exit", resolve));
  async function close() {
    try {
      await connection.sendRequest("shutdown");
      connection.sendNotification("exit");
    } catch {
      // Already gone: nothing to shut down.
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    connection.dispose();
  }
  return { connection, child, init, close, stderr: () => stderr };
}
