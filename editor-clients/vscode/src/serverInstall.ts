/**
 * Installing the daemon from the wheel the .vsix carries (no `vscode`): `uv tool install`, else
 * `pipx install`, else a private venv made with the user's Python (3.11+) and pip. The same ways
 * as the Neovim plugin's :GeminiChatInstall.
 */

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { findExecutable, findUv, venvBin } from "./serverLocation";

/** One command of an install; `why`: what its failure means and what to do. */
export interface InstallStep {
  argv: string[];
  why?: string;
}

export interface InstallPlan {
  /** What installs it, in words: "uv tool install", "pipx install", "a private venv". */
  way: string;
  steps: InstallStep[];
}

/** The wheel in the extension's `wheel/` folder (the package step puts exactly one there). */
export function bundledWheel(extensionDir: string): string | undefined {
  const dir = path.join(extensionDir, "wheel");
  try {
    const wheel = fs.readdirSync(dir).find((f) => f.endsWith(".whl"));
    return wheel === undefined ? undefined : path.join(dir, wheel);
  } catch {
    return undefined;
  }
}

/** The steps that install `wheel` with what this machine has; a reason when it has nothing. */
export function planInstall(
  env: NodeJS.ProcessEnv,
  wheel: string,
  venv: string,
): InstallPlan | { error: string } {
  // --force: replace a gemini-chat-server another install left in the same bin folder.
  const uv = findUv(env);
  if (uv !== undefined)
    return { way: "uv tool install", steps: [{ argv: [uv, "tool", "install", "--force", wheel] }] };
  const pipx = findExecutable("pipx", env);
  if (pipx !== undefined)
    return { way: "pipx install", steps: [{ argv: [pipx, "install", "--force", wheel] }] };
  const python = findExecutable("python3", env) ?? findExecutable("python", env);
  if (python === undefined) {
    return {
      error:
        "Neither uv, pipx nor Python 3 was found to install gemini-chat-server with. Install uv " +
        "(https://docs.astral.sh/uv/, it brings its own Python), then run “Gemini: Install the Server”.",
    };
  }
  const venvPython = path.join(venvBin(venv), process.platform === "win32" ? "python.exe" : "python");
  return {
    way: "a private venv",
    steps: [
      {
        argv: [python, "-c", "import sys; sys.exit(sys.version_info < (3, 11))"],
        why: `${python} is older than 3.11, which gemini-chat-server needs: install uv (it brings its own Python) or a newer Python`,
      },
      { argv: [python, "-m", "venv", "--clear", venv] },
      { argv: [venvPython, "-m", "pip", "install", "--upgrade", "--disable-pip-version-check", wheel] },
    ],
  };
}

/** An install step that failed: which, its exit, its last line. */
export class InstallError extends Error {
  override name = "InstallError";
}

/**
 * Run one step; each line it prints goes to `onLine` as it comes. Rejects with an InstallError
 * naming the program, its exit code and its last line; `signal` ends it.
 */
export function runStep(
  step: InstallStep,
  env: NodeJS.ProcessEnv,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const [program = "", ...args] = step.argv;
    const child = spawn(program, args, { env, stdio: ["ignore", "pipe", "pipe"], signal });
    let last = "";
    const reader = (): ((chunk: Buffer) => void) => {
      let partial = "";
      return (chunk) => {
        partial += chunk.toString("utf8");
        const lines = partial.split(/\r?\n|\r/);
        partial = lines.pop() ?? "";
        for (const line of lines.map((l) => l.trimEnd()).filter((l) => l.trim() !== "")) {
          last = line.trim();
          onLine(line);
        }
      };
    };
    child.stdout.on("data", reader());
    child.stderr.on("data", reader());
    child.on("error", (err) =>
      reject(new InstallError(`${path.basename(program)} could not run: ${err.message}`)),
    );
    child.on("close", (code) => {
      if (code === 0) resolve();
      else {
        const said = last === "" ? "" : `: ${last}`;
        const why = step.why === undefined ? "" : ` (${step.why})`;
        reject(new InstallError(`${path.basename(program)} failed (exit ${code ?? "killed"})${said}${why}`));
      }
    });
  });
}
