/**
 * Where the daemon is (no `vscode`): the `geminiChat.serverPath` setting when it is set; else
 * `gemini-chat-server` on PATH, else where the extension's install put it: its private venv,
 * uv's tool bin folder, pipx's. Extension hosts often miss the login shell's PATH (code-server,
 * remote hosts), so those folders are looked in by name too.
 */

import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const SERVER = "gemini-chat-server";

const WINDOWS = process.platform === "win32";

export function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

function runnable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A command's file in `dir` (with Windows' executable extensions there). */
function inDir(dir: string, command: string): string | undefined {
  const names = WINDOWS ? [command, `${command}.exe`, `${command}.cmd`] : [command];
  return names.map((n) => path.join(dir, n)).find(runnable);
}

/** The executable `command` names: a path as is, a bare name on `PATH`. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv): string | undefined {
  if (command.includes("/") || command.includes(path.sep)) return runnable(command) ? command : undefined;
  const dirs = (env.PATH ?? env.Path ?? "").split(path.delimiter).filter((d) => d !== "");
  for (const dir of dirs) {
    const found = inDir(dir, command);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The bin folder of a venv (`Scripts` on Windows). */
export function venvBin(venv: string): string {
  return path.join(venv, WINDOWS ? "Scripts" : "bin");
}

/** Where uv and pipx put commands, as their documentation says, without running them. */
export function toolBinDirs(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? env.USERPROFILE ?? os.homedir();
  const dirs = [env.UV_TOOL_BIN_DIR, env.PIPX_BIN_DIR, env.XDG_BIN_HOME];
  if (env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== "") {
    dirs.push(path.join(path.dirname(path.resolve(env.XDG_DATA_HOME)), "bin"));
  }
  dirs.push(path.join(home, ".local", "bin"));
  return dirs.filter((d): d is string => d !== undefined && d !== "");
}

/** uv itself: on PATH, else where its installer puts it. */
export function findUv(env: NodeJS.ProcessEnv): string | undefined {
  const home = env.HOME ?? env.USERPROFILE ?? os.homedir();
  return (
    findExecutable("uv", env) ??
    inDir(path.join(home, ".local", "bin"), "uv") ??
    inDir(path.join(home, ".cargo", "bin"), "uv")
  );
}

/** uv's own answer for its tools' bin folder (a uv.toml may move it); undefined without uv. */
export function uvBinDir(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const uv = findUv(env);
  if (uv === undefined) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    execFile(uv, ["tool", "dir", "--bin"], { env, timeout: 10_000 }, (err, stdout) => {
      resolve(err === null && stdout.trim() !== "" ? stdout.trim() : undefined);
    });
  });
}

/** Where the server was found: the path to run, and how it was found. */
export interface Located {
  path: string;
  /** "setting": geminiChat.serverPath; "path": on PATH; "installed": where an install put it. */
  how: "setting" | "path" | "installed";
}

/**
 * The server to start. `configured`: the setting's value when the user set it (it wins, nothing
 * else is tried), else undefined. `venv`: the extension's private venv.
 */
export async function locateServer(
  configured: string | undefined,
  env: NodeJS.ProcessEnv,
  venv: string,
): Promise<Located | undefined> {
  if (configured !== undefined) {
    const found = findExecutable(expandHome(configured), env);
    return found === undefined ? undefined : { path: found, how: "setting" };
  }
  const onPath = findExecutable(SERVER, env);
  if (onPath !== undefined) return { path: onPath, how: "path" };
  for (const dir of [venvBin(venv), ...toolBinDirs(env)]) {
    const found = inDir(dir, SERVER);
    if (found !== undefined) return { path: found, how: "installed" };
  }
  // Asked last: it runs a process.
  const uvDir = await uvBinDir(env);
  const found = uvDir === undefined ? undefined : inDir(uvDir, SERVER);
  return found === undefined ? undefined : { path: found, how: "installed" };
}
