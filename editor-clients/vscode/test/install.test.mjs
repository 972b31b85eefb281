// The extension's install of the server into a private venv, for real, without VS Code: only a
// Python 3.11+ on PATH (no uv, no pipx), the wheel the .vsix carries, pip.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { env } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const { bundledWheel, planInstall, runStep } = require("../out/serverInstall.js");
const { locateServer } = require("../out/serverLocation.js");

const extensionDir = fileURLToPath(new URL("..", import.meta.url));

test("with only Python on PATH, the server goes into a private venv from the bundled wheel, each line told; then it is found there and runs", async () => {
  const tmp = mkdtempSync(join(env("GEMINI_CHAT_TEST_TMP"), "venv-install-"));
  const tools = join(tmp, "tools");
  mkdirSync(tools);
  symlinkSync(env("GEMINI_CHAT_PYTHON"), join(tools, "python3"));
  const installEnv = { PATH: `${tools}:/usr/bin:/bin`, HOME: join(tmp, "home"), PIP_NO_INPUT: "1" };
  const wheel = bundledWheel(extensionDir);
  assert.match(wheel ?? "", /wheel\/gemini_chat-[\d.]+-py3-none-any\.whl$/, "the package step's wheel");
  const venv = join(tmp, "server-venv");
  const plan = planInstall(installEnv, wheel, venv);
  assert.equal(plan.way, "a private venv");
  const lines = [];
  for (const step of plan.steps) await runStep(step, installEnv, (line) => lines.push(line));
  assert.ok(
    lines.some((l) => /Successfully installed .*gemini-chat-/.test(l)),
    `pip's lines were told: ${lines.slice(-3).join(" | ")}`,
  );
  const found = await locateServer(undefined, installEnv, venv);
  assert.deepEqual(found, { path: join(venv, "bin", "gemini-chat-server"), how: "installed" });
  const version = execFileSync(found.path, ["--version"], { encoding: "utf8" });
  assert.match(version, /^gemini-chat-server \d/);
});

test("a failing step says which program failed, its exit code and its last line", async () => {
  const python = env("GEMINI_CHAT_PYTHON");
  const step = {
    argv: [python, "-c", "import sys; print('first'); print('no space left', file=sys.stderr); sys.exit(3)"],
  };
  await assert.rejects(
    runStep(step, process.env, () => undefined),
    {
      name: "InstallError",
      message: /^python3?[\d.]* failed \(exit 3\): no space left$/,
    },
  );
});
