/** Folder following: which workspace folder's conversation the chat shows, and when it changes. */

import * as vscode from "vscode";

/** What the chat does when the shown folder or the folder list changes. */
export interface FolderListener {
  /**
   * Another folder is shown (picked, followed, or the first one because the shown one left the
   * workspace): forget the old one's conversation and load this one's.
   */
  switched(): Promise<void>;
  /** Folders came or went, or the shown one was pinned or unpinned: the header's folder button may change. */
  listChanged(): void;
}

/** The shown folder: the active editor's (multi-root) unless the user picked one. */
export class FolderFollower implements vscode.Disposable {
  private current: vscode.WorkspaceFolder | undefined;
  private pinned = false;
  private readonly subscriptions: vscode.Disposable[];

  /** `busy()`: a reply is streaming, so the conversation must not change under it. */
  constructor(
    private readonly listener: FolderListener,
    private readonly busy: () => boolean,
  ) {
    this.current = folderOf(vscode.window.activeTextEditor);
    this.subscriptions = [
      vscode.window.onDidChangeActiveTextEditor((editor) => this.followEditor(editor)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.onFoldersChanged()),
    ];
  }

  /** The shown folder, if the window has one. */
  get folder(): vscode.WorkspaceFolder | undefined {
    return this.current;
  }

  /** The shown folder's URI, as the daemon's `workspace` parameter names it. */
  uri(): string | undefined {
    return this.current?.uri.toString();
  }

  /** The header's folder name (the first folder's before one is shown). */
  displayName(): string {
    return this.current?.name ?? vscode.workspace.workspaceFolders?.[0]?.name ?? "";
  }

  /** Whether the shown folder was picked by hand: it stays whichever file is active. */
  get isPinned(): boolean {
    return this.pinned;
  }

  /** Whether there is another folder to switch to. */
  canSwitch(): boolean {
    return (vscode.workspace.workspaceFolders ?? []).length > 1;
  }

  /**
   * Let the user pick the folder whose conversation is shown; it stays until the next pick.
   * Picking the active editor's folder follows the active editor again.
   */
  async pick(): Promise<void> {
    if (!this.canSwitch()) return;
    const picked = await vscode.window.showWorkspaceFolderPick({
      placeHolder: "Show the Gemini conversation of which folder?",
    });
    if (picked === undefined) return;
    const editor = vscode.window.activeTextEditor;
    const active =
      editor === undefined ? undefined : vscode.workspace.getWorkspaceFolder(editor.document.uri);
    const same = picked.uri.toString() === this.uri();
    const wasPinned = this.pinned;
    await this.show(picked, active?.uri.toString() !== picked.uri.toString());
    // The same folder, only pinned or unpinned: no switch, but the header says which.
    if (same && this.pinned !== wasPinned) this.listener.listChanged();
  }

  /** Show the folder `editor` belongs to (Ask about Selection), without pinning it. */
  async showFolderOf(editor: vscode.TextEditor): Promise<vscode.WorkspaceFolder | undefined> {
    const folder = folderOf(editor);
    if (folder !== undefined && folder.uri.toString() !== this.uri()) await this.show(folder, false);
    return folder;
  }

  /**
   * Follow the active editor now: a change while a reply streamed was left for later (the
   * conversation does not change under a reply), and this is later.
   */
  followActiveEditor(): void {
    this.followEditor(vscode.window.activeTextEditor);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }

  private async show(folder: vscode.WorkspaceFolder, pinned: boolean): Promise<void> {
    this.pinned = pinned;
    if (folder.uri.toString() === this.uri()) return;
    this.current = folder;
    await this.listener.switched();
  }

  private followEditor(editor: vscode.TextEditor | undefined): void {
    if (editor === undefined) return;
    // Multi-root: the conversation follows the active editor's folder unless the user picked one.
    const folder = vscode.workspace.getWorkspaceFolder(editor.document.uri);
    if (this.pinned || this.busy() || folder === undefined) return;
    void this.show(folder, false);
  }

  private onFoldersChanged(): void {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (!folders.some((f) => f.uri.toString() === this.uri())) {
      this.current = folders[0];
      this.pinned = false;
      void this.listener.switched();
    } else this.listener.listChanged();
  }
}

/** The folder of `editor`'s document, else the first folder. */
function folderOf(editor: vscode.TextEditor | undefined): vscode.WorkspaceFolder | undefined {
  const folder = editor === undefined ? undefined : vscode.workspace.getWorkspaceFolder(editor.document.uri);
  return folder ?? vscode.workspace.workspaceFolders?.[0];
}
