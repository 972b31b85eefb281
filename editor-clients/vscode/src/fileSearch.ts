/** The workspace files offered after `#` in the chat input (like `#file` in Copilot Chat). */

import * as path from "node:path";
import * as vscode from "vscode";
import type { FileChoice } from "./messages";

const MAX_FILES = 5000;
const MAX_SHOWN = 20;
/** A listing is reused for this long: typing `#app` asks four times in a second. */
const FRESH_MS = 10_000;

/** How well `file` matches `query`: lower is better, undefined is no match. */
export function matchScore(file: string, query: string): number | undefined {
  const q = query.toLowerCase();
  const f = file.toLowerCase();
  const base = path.posix.basename(f);
  if (q === "") return f.split("/").length;
  if (base.startsWith(q)) return 0;
  if (base.includes(q)) return 1;
  if (f.includes(q)) return 2;
  let at = 0;
  for (const ch of f) if (ch === q[at]) at += 1;
  return at === q.length ? 3 : undefined;
}

/** Lists a folder's files (without what `files.exclude`, `.git` and `node_modules` hide). */
export class WorkspaceFiles {
  private cache: { folder: string; at: number; files: Promise<string[]> } | undefined;

  /** The best matches for `query` among the files of `folder`, as folder-relative paths. */
  async search(folder: vscode.WorkspaceFolder, query: string): Promise<FileChoice[]> {
    const files = await this.list(folder);
    const scored: [number, string][] = [];
    for (const file of files) {
      const score = matchScore(file, query);
      if (score !== undefined) scored.push([score, file]);
    }
    scored.sort((a, b) => a[0] - b[0] || a[1].length - b[1].length || a[1].localeCompare(b[1]));
    return scored.slice(0, MAX_SHOWN).map(([, file]) => ({ path: file, name: path.posix.basename(file) }));
  }

  private list(folder: vscode.WorkspaceFolder): Promise<string[]> {
    const key = folder.uri.toString();
    if (this.cache === undefined || this.cache.folder !== key || Date.now() - this.cache.at > FRESH_MS) {
      const files = Promise.resolve(
        vscode.workspace.findFiles(
          new vscode.RelativePattern(folder, "**/*"),
          "**/{node_modules,.git}/**",
          MAX_FILES,
        ),
      ).then((uris) => uris.map((u) => path.relative(folder.uri.fsPath, u.fsPath).split(path.sep).join("/")));
      this.cache = { folder: key, at: Date.now(), files };
      return files;
    }
    return this.cache.files;
  }
}
