/** What the chat knows about its folder beyond the transcript: its model and context files. */

import * as path from "node:path";
import * as vscode from "vscode";
import type { ContextFile } from "./messages";
import type { StatusResult } from "./protocol";

/** The shown folder's model (the daemon's sticky choice) and GEMINI.md files. */
export class FolderInfo implements vscode.Disposable {
  /** The model the daemon uses for this folder (its sticky choice, else the setting). */
  model: string | undefined;
  contextFiles: ContextFile[] = [];
  private readonly modelEmitter = new vscode.EventEmitter<string | undefined>();
  /** Fires when the folder's model changes (picked here, elsewhere, or another folder shown). */
  readonly onDidChangeModel = this.modelEmitter.event;

  /** `workspace()` names the folder shown now: answers for another one are dropped. */
  constructor(private readonly workspace: () => string | undefined) {}

  /** Note the folder's model as the daemon reported it. */
  setModel(model: string): void {
    if (model === this.model) return;
    this.model = model;
    this.modelEmitter.fire(model);
  }

  /** Another folder is shown: nothing known about it yet. */
  clear(): void {
    this.model = undefined;
    this.contextFiles = [];
    this.modelEmitter.fire(undefined);
  }

  /**
   * The context files (GEMINI.md) the daemon uses for `workspace`, as its status said (undefined:
   * it could not say); dropped when another folder is shown by now.
   */
  statusRead(workspace: string | undefined, status: StatusResult | undefined): void {
    if (workspace !== this.workspace()) return;
    this.contextFiles = (status?.contextFiles ?? []).map((p) => ({ name: path.basename(p), path: p }));
  }

  /** Whether `file` is one of the folder's context files (the only files the view may open). */
  isContextFile(file: string): boolean {
    return this.contextFiles.some((f) => f.path === file);
  }

  dispose(): void {
    this.modelEmitter.dispose();
  }
}
