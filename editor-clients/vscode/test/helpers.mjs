// Shared by the Node tests: the emulator's HTTP control, the daemon over vscode-jsonrpc, polling.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node.js";

/** The default of `geminiChat.model` as package.json contributes it: the one place it is written. */
export const DEFAULT_MODEL = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
  .contributes.configuration.properties["geminiChat.model"].default;

/** A 160x96 PNG (a sun over green hills), as an image reply carries it. */
export const PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAKAAAABgCAIAAAAVRe7OAAAC8ElEQVR42u3R11JUQRSF4fU4IIKIooggoggiiPEKAwaMmDFg" +
  "zmLArC9BzmnIMMAzeSVVYxgU7TMzp/fps2dVfdddq/ePjNpFUgwZtQukGDIPLZBiyDw8T4ph1ZF5UgxZR6OkGLLqoqQYVtdF" +
  "STFkH5sjxZB9fI4UQ86JWVIMOSdnSTGsqZ8lxZBbP0OKIffUDCmGtaenSTHknZmmVHxbLPq/YOch7+wUJceYdlnmgEZi3bkp" +
  "SkJCdWMC2cnAEmkDzIz15yfJuxTrxkgORn7DJHnnS2DJwci/MEEe+VL3R2OpzdhwcYK88LFujMxsbLw0QV74Hlhm9lLgcTLy" +
  "ve7PxtaXo+DyOBlZCiywHAVXxsjIVmD7y7Hp6hgZWQossByF1yJkZCmwwHIUNkbIyFZg+8uxuTFCRpYCCyxH0fVRMrIUWGA5" +
  "im6MkpGtwPaXo/jmCBlZCiywHMW3RsjIVmD7y7GlaYS88L2uzGyUNA2TF74HlpmNktvD5JGfdaU2Y+udIfLOl7qSg1F6d4i8" +
  "8yWw5GCU3hukhKRaV3Yttt0fpCQkkTaQnQws1Diokdj+YIBSYUwb7DyUPRwgxVD2qJ8Uw47H/aQYyp/0k2JLgftIMVQ87SPF" +
  "UPGslxTDzue9pBgqX/Skg4yW8oSo+Tgqm3sUS7TryrHDfAHsau7Rx5eufwvjKVD1slsTS2njhesgqHrVrYBA1z8zh+QyqH7d" +
  "FWryaeO5fx9Uv+kKr2Dr/s7s8Imwu6UrjBxJG8/NQ6GmpTNcHEwbz7VzoeZtZ1g4nnZZZmeOhtigPe86XBaitL84cjrEb9r7" +
  "vsM1YUzr1EmxwqYP7Y4Ie10XTop/bdr3sT1AatIGflK4tkll2gBPCi+b9n9qs019V/mTxq4K75sOfG6zId3SClw1/n0ks+lL" +
  "a+rSvKvYSZHisoNfWxPClsInBQ+qGwMzMDEwMTAxMDEwMTAxMAMTAxMDEwMTAxMDEwMzMDEwMTAxMDEwMTAxMDFwGvgOqO7j" +
  "fZ3FVUoAAAAASUVORK5CYII=";

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
